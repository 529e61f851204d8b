use serde_json::json;

use super::*;
use crate::schema::attribute::AttributeType;
use crate::schema::test_support::{names, with_rfc_defaults};

fn attribute(name: &str) -> AttributeDefinition {
    match user_schema().attribute(name) {
        Some(attribute) => attribute.clone(),
        None => panic!("the User schema should define {name}"),
    }
}

/// The type of the User attribute `name`'s sub-attribute `sub_attribute`.
fn sub_attribute_type(name: &str, sub_attribute: &str) -> Option<AttributeType> {
    attribute(name)
        .sub_attribute(sub_attribute)
        .map(|found| found.attribute_type)
}

#[test]
fn user_schema_has_every_rfc_7643_attribute_in_rfc_order() {
    let schema = user_schema();
    assert_eq!(schema.id, "urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(schema.name, "User");
    assert_eq!(schema.description, "User Account");
    assert_eq!(
        names(&schema.attributes),
        [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        ]
    );
}

#[test]
fn complex_user_attributes_have_every_rfc_sub_attribute() {
    // The sub-attributes §4.1.2 gives most multi-valued attributes.
    const LABELLED: &[&str] = &["value", "display", "type", "primary"];
    let expected: [(&str, &[&str]); 10] = [
        (
            "name",
            &[
                "formatted",
                "familyName",
                "givenName",
                "middleName",
                "honorificPrefix",
                "honorificSuffix",
            ],
        ),
        ("emails", LABELLED),
        ("phoneNumbers", LABELLED),
        ("ims", LABELLED),
        ("photos", LABELLED),
        (
            "addresses",
            &[
                "formatted",
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "country",
                "type",
                "primary",
            ],
        ),
        ("groups", &["value", "$ref", "display", "type"]),
        ("entitlements", LABELLED),
        ("roles", LABELLED),
        ("x509Certificates", LABELLED),
    ];
    for (name, sub_attributes) in expected {
        let attribute = attribute(name);
        assert_eq!(attribute.attribute_type, AttributeType::Complex, "{name}");
        assert_eq!(names(&attribute.sub_attributes), sub_attributes, "{name}");
        assert_eq!(attribute.multi_valued, name != "name", "{name}");
    }
}

#[test]
fn user_name_json_matches_rfc_7643_section_8_7_1() {
    assert_eq!(
        attribute("userName").to_json(),
        json!({
            "name": "userName",
            "type": "string",
            "multiValued": false,
            "description": "Unique identifier for the User, typically used by the user to \
                directly authenticate to the service provider. Each User MUST include a \
                non-empty userName value. This identifier MUST be unique across the service \
                provider's entire set of Users. REQUIRED.",
            "required": true,
            "caseExact": false,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "server"
        })
    );
}

#[test]
fn password_json_matches_rfc_7643_section_8_7_1() {
    assert_eq!(
        attribute("password").to_json(),
        json!({
            "name": "password",
            "type": "string",
            "multiValued": false,
            "description": "The User's cleartext password. This attribute is intended to be \
                used as a means to specify an initial password when creating a new User or to \
                reset an existing User's password.",
            "required": false,
            "caseExact": false,
            "mutability": "writeOnly",
            "returned": "never",
            "uniqueness": "none"
        })
    );
}

#[test]
fn emails_json_matches_rfc_7643_section_8_7_1_with_defaults_made_explicit() {
    let rfc_emails = json!({
        "name": "emails",
        "type": "complex",
        "multiValued": true,
        "description": "Email addresses for the user. The value SHOULD be canonicalized by \
            the service provider, e.g., 'bjensen@example.com' instead of \
            'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
        "required": false,
        "subAttributes": [
            {
                "name": "value",
                "type": "string",
                "multiValued": false,
                "description": "Email addresses for the user. The value SHOULD be \
                    canonicalized by the service provider, e.g., 'bjensen@example.com' \
                    instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', \
                    'home', and 'other'.",
                "required": false,
                "caseExact": false,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none"
            },
            {
                "name": "display",
                "type": "string",
                "multiValued": false,
                "description": "A human-readable name, primarily used for display purposes. \
                    READ-ONLY.",
                "required": false,
                "caseExact": false,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none"
            },
            {
                "name": "type",
                "type": "string",
                "multiValued": false,
                "description": "A label indicating the attribute's function, e.g., 'work' or \
                    'home'.",
                "required": false,
                "caseExact": false,
                "canonicalValues": ["work", "home", "other"],
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none"
            },
            {
                "name": "primary",
                "type": "boolean",
                "multiValued": false,
                "description": "A Boolean value indicating the 'primary' or preferred \
                    attribute value for this attribute, e.g., the preferred mailing address or \
                    primary email address. The primary attribute value 'true' MUST appear no \
                    more than once.",
                "required": false,
                "mutability": "readWrite",
                "returned": "default"
            }
        ],
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none"
    });
    assert_eq!(attribute("emails").to_json(), with_rfc_defaults(rfc_emails));
}

#[test]
fn groups_are_read_only_all_the_way_down() {
    let groups = attribute("groups");
    assert_eq!(groups.mutability, Mutability::ReadOnly);
    assert!(
        groups
            .sub_attributes
            .iter()
            .all(|sub_attribute| sub_attribute.mutability == Mutability::ReadOnly)
    );
    let reference = groups.sub_attribute("$ref");
    assert_eq!(
        reference.map(|sub_attribute| sub_attribute.reference_types.clone()),
        Some(vec!["User", "Group"])
    );
    let group_type = groups.sub_attribute("type");
    assert_eq!(
        group_type.map(|sub_attribute| sub_attribute.canonical_values.clone()),
        Some(vec!["direct", "indirect"])
    );
}

#[test]
fn reference_binary_and_boolean_attributes_have_their_rfc_types() {
    assert_eq!(
        attribute("profileUrl").attribute_type,
        AttributeType::Reference
    );
    assert_eq!(attribute("profileUrl").reference_types, ["external"]);
    assert_eq!(attribute("active").attribute_type, AttributeType::Boolean);
    assert_eq!(
        sub_attribute_type("photos", "value"),
        Some(AttributeType::Reference)
    );
    assert_eq!(
        sub_attribute_type("x509Certificates", "value"),
        Some(AttributeType::Binary)
    );
    assert_eq!(
        sub_attribute_type("emails", "primary"),
        Some(AttributeType::Boolean)
    );
}

#[test]
fn canonical_values_follow_the_rfc() {
    let canonical = |attribute_name: &str| {
        attribute(attribute_name)
            .sub_attribute("type")
            .map(|sub_attribute| sub_attribute.canonical_values.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        canonical("phoneNumbers"),
        ["work", "home", "mobile", "fax", "pager", "other"]
    );
    assert_eq!(
        canonical("ims"),
        ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
    );
    assert_eq!(canonical("photos"), ["photo", "thumbnail"]);
    assert_eq!(canonical("addresses"), ["work", "home", "other"]);
    assert!(canonical("roles").is_empty());
}

#[test]
fn only_user_name_is_required_and_unique() {
    let schema = user_schema();
    for attribute in &schema.attributes {
        let is_user_name = attribute.name == "userName";
        assert_eq!(attribute.required, is_user_name, "{}", attribute.name);
        let expected = if is_user_name {
            Uniqueness::Server
        } else {
            Uniqueness::None
        };
        assert_eq!(attribute.uniqueness, expected, "{}", attribute.name);
    }
}
