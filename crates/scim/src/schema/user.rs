//! The core User schema, `urn:ietf:params:scim:schemas:core:2.0:User`, attribute by attribute
//! as RFC 7643 §4.1 describes it and §8.7.1 represents it. Descriptions and characteristics
//! are copied from §8.7.1 (with the line-wrapping whitespace of the RFC text collapsed), so
//! what `/Schemas` advertises is what clients built against the RFC expect; the two places
//! where this file departs from §8.7.1 say why.

use super::attribute::{AttributeDefinition, AttributeType, Mutability, Returned, Uniqueness};
use super::definition::SchemaDefinition;

/// The URN of the core User schema.
pub const USER_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The core User schema of RFC 7643 §8.7.1.
pub fn user_schema() -> SchemaDefinition {
    SchemaDefinition {
        id: USER_SCHEMA_URN,
        name: "User",
        description: "User Account",
        attributes: vec![
            user_name(),
            name(),
            AttributeDefinition::string(
                "displayName",
                "The name of the User, suitable for display to end-users. The name SHOULD be \
                 the full name of the User being described, if known.",
            ),
            AttributeDefinition::string(
                "nickName",
                "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' \
                 instead of 'Robert'. This attribute SHOULD NOT be used to represent a User's \
                 username (e.g., 'bjensen' or 'mpepperidge').",
            ),
            AttributeDefinition::reference(
                "profileUrl",
                &["external"],
                "A fully qualified URL pointing to a page representing the User's online \
                 profile.",
            ),
            AttributeDefinition::string("title", "The user's title, such as \"Vice President.\""),
            AttributeDefinition::string(
                "userType",
                "Used to identify the relationship between the organization and the user. \
                 Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', \
                 'External', and 'Unknown', but any value may be used.",
            ),
            AttributeDefinition::string(
                "preferredLanguage",
                "Indicates the User's preferred written or spoken language. Generally used for \
                 selecting a localized user interface; e.g., 'en_US' specifies the language \
                 English and country US.",
            ),
            AttributeDefinition::string(
                "locale",
                "Used to indicate the User's default location for purposes of localizing items \
                 such as currency, date time format, or numerical representations.",
            ),
            AttributeDefinition::string(
                "timezone",
                "The User's time zone in the 'Olson' time zone database format, e.g., \
                 'America/Los_Angeles'.",
            ),
            AttributeDefinition::boolean(
                "active",
                "A Boolean value indicating the User's administrative status.",
            ),
            password(),
            emails(),
            phone_numbers(),
            ims(),
            photos(),
            addresses(),
            groups(),
            entitlements(),
            roles(),
            x509_certificates(),
        ],
    }
}

fn user_name() -> AttributeDefinition {
    AttributeDefinition::string(
        "userName",
        "Unique identifier for the User, typically used by the user to directly authenticate \
         to the service provider. Each User MUST include a non-empty userName value. This \
         identifier MUST be unique across the service provider's entire set of Users. \
         REQUIRED.",
    )
    .required()
    .uniqueness(Uniqueness::Server)
}

fn name() -> AttributeDefinition {
    AttributeDefinition::complex(
        "name",
        "The components of the user's real name. Providers MAY return just the full name as a \
         single string in the formatted sub-attribute, or they MAY return just the individual \
         component attributes using the other sub-attributes, or they MAY return both. If both \
         variants are returned, they SHOULD be describing the same name, with the formatted \
         name indicating how the component attributes should be combined.",
        vec![
            AttributeDefinition::string(
                "formatted",
                "The full name, including all middle names, titles, and suffixes as \
                 appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
            ),
            AttributeDefinition::string(
                "familyName",
                "The family name of the User, or last name in most Western languages (e.g., \
                 'Jensen' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            AttributeDefinition::string(
                "givenName",
                "The given name of the User, or first name in most Western languages (e.g., \
                 'Barbara' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            AttributeDefinition::string(
                "middleName",
                "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara \
                 J Jensen, III').",
            ),
            AttributeDefinition::string(
                "honorificPrefix",
                "The honorific prefix(es) of the User, or title in most Western languages \
                 (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            AttributeDefinition::string(
                "honorificSuffix",
                "The honorific suffix(es) of the User, or suffix in most Western languages \
                 (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').",
            ),
        ],
    )
}

fn password() -> AttributeDefinition {
    AttributeDefinition::string(
        "password",
        "The User's cleartext password. This attribute is intended to be used as a means to \
         specify an initial password when creating a new User or to reset an existing User's \
         password.",
    )
    .mutability(Mutability::WriteOnly)
    .returned(Returned::Never)
}

/// The `display` sub-attribute §8.7.1 gives most multi-valued attributes. Its description
/// says READ-ONLY while its mutability is readWrite; both are copied as the RFC has them.
fn display() -> AttributeDefinition {
    AttributeDefinition::string(
        "display",
        "A human-readable name, primarily used for display purposes. READ-ONLY.",
    )
}

fn primary(description: &'static str) -> AttributeDefinition {
    AttributeDefinition::boolean("primary", description)
}

/// The `type` sub-attribute of a multi-valued attribute, with its canonical values.
fn kind(description: &'static str, canonical_values: &[&'static str]) -> AttributeDefinition {
    AttributeDefinition::string("type", description).canonical_values(canonical_values)
}

/// The shape §4.1.2 gives most multi-valued User attributes: a list of values, each with
/// its `value`, a `display` name, a `type` label and a `primary` flag.
fn labelled_values(
    name: &'static str,
    description: &'static str,
    value: AttributeDefinition,
    kind: AttributeDefinition,
    primary_description: &'static str,
) -> AttributeDefinition {
    AttributeDefinition::complex(
        name,
        description,
        vec![value, display(), kind, primary(primary_description)],
    )
    .multi_valued()
}

const TYPE_WITHOUT_EXAMPLE: &str = "A label indicating the attribute's function.";

const PRIMARY_WITHOUT_EXAMPLE: &str = "A Boolean value indicating the 'primary' or preferred \
     attribute value for this attribute. The primary attribute value 'true' MUST appear no \
     more than once.";

const PRIMARY_EMAIL_OR_ADDRESS: &str = "A Boolean value indicating the 'primary' or \
     preferred attribute value for this attribute, e.g., the preferred mailing address or \
     primary email address. The primary attribute value 'true' MUST appear no more than once.";

fn emails() -> AttributeDefinition {
    const DESCRIPTION: &str = "Email addresses for the user. The value SHOULD be canonicalized \
         by the service provider, e.g., 'bjensen@example.com' instead of \
         'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.";
    labelled_values(
        "emails",
        DESCRIPTION,
        AttributeDefinition::string("value", DESCRIPTION),
        kind(
            "A label indicating the attribute's function, e.g., 'work' or 'home'.",
            &["work", "home", "other"],
        ),
        PRIMARY_EMAIL_OR_ADDRESS,
    )
}

fn phone_numbers() -> AttributeDefinition {
    labelled_values(
        "phoneNumbers",
        "Phone numbers for the User. The value SHOULD be canonicalized by the service provider \
         according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. \
         Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
        AttributeDefinition::string("value", "Phone number of the User."),
        kind(
            "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
            &["work", "home", "mobile", "fax", "pager", "other"],
        ),
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred phone number or primary phone number. The primary \
         attribute value 'true' MUST appear no more than once.",
    )
}

fn ims() -> AttributeDefinition {
    labelled_values(
        "ims",
        "Instant messaging addresses for the User.",
        AttributeDefinition::string("value", "Instant messaging address for the User."),
        kind(
            "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
            &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
        ),
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred messenger or primary messenger. The primary attribute \
         value 'true' MUST appear no more than once.",
    )
}

fn photos() -> AttributeDefinition {
    labelled_values(
        "photos",
        "URLs of photos of the User.",
        AttributeDefinition::reference("value", &["external"], "URL of a photo of the User."),
        kind(
            "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
            &["photo", "thumbnail"],
        ),
        "A Boolean value indicating the 'primary' or preferred attribute value for this \
         attribute, e.g., the preferred photo or thumbnail. The primary attribute value 'true' \
         MUST appear no more than once.",
    )
}

fn addresses() -> AttributeDefinition {
    AttributeDefinition::complex(
        "addresses",
        "A physical mailing address for this User. Canonical type values of 'work', 'home', \
         and 'other'. This attribute is a complex type with the following sub-attributes.",
        vec![
            AttributeDefinition::string(
                "formatted",
                "The full mailing address, formatted for display or use with a mailing label. \
                 This attribute MAY contain newlines.",
            ),
            AttributeDefinition::string(
                "streetAddress",
                "The full street address component, which may include house number, street \
                 name, P.O. box, and multi-line extended street address information. This \
                 attribute MAY contain newlines.",
            ),
            AttributeDefinition::string("locality", "The city or locality component."),
            AttributeDefinition::string("region", "The state or region component."),
            AttributeDefinition::string("postalCode", "The zip code or postal code component."),
            AttributeDefinition::string("country", "The country name component."),
            kind(
                "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                &["work", "home", "other"],
            ),
            // §8.7.1 leaves `primary` out of addresses, but §4.1.2 gives addresses a primary
            // value like every other multi-valued attribute, and Entra ID patches
            // `addresses[type eq "work"].primary`; without it that path would be rejected.
            primary(PRIMARY_EMAIL_OR_ADDRESS),
        ],
    )
    .multi_valued()
}

fn groups() -> AttributeDefinition {
    // Membership is changed through the Group resource (RFC 7643 §4.1.2), so every part of
    // `groups` is readOnly on the User.
    AttributeDefinition::complex(
        "groups",
        "A list of groups to which the user belongs, either through direct membership, \
         through nested groups, or dynamically calculated.",
        vec![
            AttributeDefinition::string("value", "The identifier of the User's group."),
            AttributeDefinition::reference(
                "$ref",
                &["User", "Group"],
                "The URI of the corresponding 'Group' resource to which the user belongs.",
            ),
            display(),
            kind(
                "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
                &["direct", "indirect"],
            ),
        ],
    )
    .multi_valued()
    .read_only()
}

fn entitlements() -> AttributeDefinition {
    labelled_values(
        "entitlements",
        "A list of entitlements for the User that represent a thing the User has.",
        AttributeDefinition::string("value", "The value of an entitlement."),
        kind(TYPE_WITHOUT_EXAMPLE, &[]),
        PRIMARY_WITHOUT_EXAMPLE,
    )
}

fn roles() -> AttributeDefinition {
    labelled_values(
        "roles",
        "A list of roles for the User that collectively represent who the User is, e.g., \
         'Student', 'Faculty'.",
        AttributeDefinition::string("value", "The value of a role."),
        kind(TYPE_WITHOUT_EXAMPLE, &[]),
        PRIMARY_WITHOUT_EXAMPLE,
    )
}

fn x509_certificates() -> AttributeDefinition {
    labelled_values(
        "x509Certificates",
        "A list of certificates issued to the User.",
        // §8.7.1 marks this binary value caseExact false although §2.3.6 calls binary values
        // case-exact; the representation follows §8.7.1, as clients compare against it, and
        // nothing here filters on certificate bytes.
        AttributeDefinition::new(
            "value",
            AttributeType::Binary,
            "The value of an X.509 certificate.",
        ),
        kind(TYPE_WITHOUT_EXAMPLE, &[]),
        PRIMARY_WITHOUT_EXAMPLE,
    )
}

#[cfg(test)]
mod tests;
