//! What PATCH application needs to know about a resource type's schema, as a trait the service
//! implements from its schema registry. Keeping it to a handful of yes/no questions lets this
//! crate apply RFC 7644 §3.5.2 without owning schema definitions, and lets tests describe a
//! schema in a few lines.

use crate::filter::AttributePath;

/// The schema URN prefix of the core User, Group and other RFC 7643 resource schemas, whose
/// attributes sit at the top level of a resource rather than under their URN.
pub const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:";

/// Schema facts for one resource type.
///
/// Every path passed in is normalised the same way: `schema_urn` is the extension schema URN
/// for attributes of an extension (`urn:…:enterprise:2.0:User` for `manager`) and `None` for
/// core attributes, even when the client qualified them with the core URN. Names keep the
/// client's spelling, so implementations must compare names and URNs ignoring ASCII case.
/// Sub-attributes are asked about as `emails.primary`, `name.givenName`, `members.value`.
pub trait AttributeRules {
    /// `mutability: readOnly` (RFC 7643 §2.2), e.g. `id`, `meta`, `groups`. Changing one is a
    /// `mutability` error; restating its current value is allowed, because clients such as
    /// Okta echo `id` back in path-less replaces.
    fn is_read_only(&self, path: &AttributePath) -> bool;

    /// `multiValued: true`, e.g. `emails`, `members`, `schemas`.
    fn is_multi_valued(&self, path: &AttributePath) -> bool;

    /// `type: boolean`, e.g. `active`, `emails.primary`. String values `"True"`/`"false"` sent
    /// for these (Entra ID does) are turned into JSON booleans.
    fn is_boolean(&self, path: &AttributePath) -> bool;

    /// `caseExact: true`: value filters compare this attribute's strings exactly instead of
    /// ignoring case, and multi-valued `value`s are told apart the same way.
    fn is_case_exact(&self, path: &AttributePath) -> bool;

    /// Whether `urn` names an extension schema, whose attributes live in an object under that
    /// URN (`"urn:…:enterprise:2.0:User": {"employeeNumber": "7"}`). The default recognises
    /// URNs that end in a version and a name (`…:2.0:User`) outside the core namespace; a
    /// registry-backed implementation should answer from the resource type's extensions.
    fn is_extension_schema(&self, urn: &str) -> bool {
        looks_like_extension_schema(urn)
    }
}

/// Whether `urn` is in the RFC 7643 core schema namespace.
pub fn is_core_schema(urn: &str) -> bool {
    urn.get(..CORE_SCHEMA_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(CORE_SCHEMA_PREFIX))
}

/// Whether `urn` is shaped like a schema URN: `urn:…:<version>:<Name>`, such as
/// `urn:ietf:params:scim:schemas:core:2.0:User`. Telling `urn:…:2.0:User` (a schema) from
/// `urn:…:2.0:User:manager` (an attribute of it) needs that shape, since both parse as
/// attribute paths.
pub fn looks_like_schema_urn(urn: &str) -> bool {
    let segments: Vec<&str> = urn.split(':').collect();
    let [first, .., version, name] = segments.as_slice() else {
        return false;
    };
    let is_version = version.starts_with(|character: char| character.is_ascii_digit())
        && version
            .chars()
            .all(|character| character.is_ascii_digit() || character == '.');
    let is_name = name.starts_with(|character: char| character.is_ascii_alphabetic())
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric());
    first.eq_ignore_ascii_case("urn") && segments.len() >= 4 && is_version && is_name
}

/// The default for `AttributeRules::is_extension_schema`.
pub fn looks_like_extension_schema(urn: &str) -> bool {
    !is_core_schema(urn) && looks_like_schema_urn(urn)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn enterprise_and_custom_extensions_look_like_extension_schemas() {
        assert!(looks_like_extension_schema(ENTERPRISE));
        assert!(looks_like_extension_schema(&ENTERPRISE.to_uppercase()));
        assert!(looks_like_extension_schema(
            "urn:acme:scim:schemas:Badge:1.0:Badge"
        ));
    }

    #[test]
    fn attributes_of_an_extension_are_not_schemas() {
        assert!(!looks_like_extension_schema(&format!(
            "{ENTERPRISE}:manager"
        )));
        assert!(!looks_like_extension_schema(&format!(
            "{ENTERPRISE}:manager.value"
        )));
        assert!(!looks_like_extension_schema(
            "urn:ietf:params:scim:schemas:extension"
        ));
        assert!(!looks_like_extension_schema("userName"));
    }

    #[test]
    fn core_schemas_are_schemas_but_not_extensions() {
        let user = "urn:ietf:params:scim:schemas:core:2.0:User";
        assert!(is_core_schema(user));
        assert!(is_core_schema(
            "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:Group"
        ));
        assert!(looks_like_schema_urn(user));
        assert!(!looks_like_extension_schema(user));
        assert!(!is_core_schema(ENTERPRISE));
    }
}
