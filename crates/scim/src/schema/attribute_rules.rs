//! `ResourceKind` as the `patch::AttributeRules` the PATCH code asks its schema questions
//! through, answered from the registry. With this the server needs no hand-written list of
//! read-only or boolean attributes: PATCH sees exactly the schemas `/Schemas` advertises.

use super::attribute::{AttributeType, Mutability};
use super::registry::resolve_attribute;
use super::resource_type::ResourceKind;
use crate::filter::AttributePath;
use crate::patch::AttributeRules;

impl AttributeRules for ResourceKind {
    /// Read-only attributes, and sub-attributes of read-only attributes (`meta.created`,
    /// `groups.value`). Unknown attributes are not read-only; rejecting them is the caller's
    /// separate check.
    fn is_read_only(&self, path: &AttributePath) -> bool {
        resolve_attribute(*self, path).is_some_and(|resolved| {
            resolved.attribute.mutability == Mutability::ReadOnly
                || resolved.definition().mutability == Mutability::ReadOnly
        })
    }

    /// Multi-valued attributes, plus `schemas`, which RFC 7643 §3 makes a multi-valued
    /// attribute of every resource without listing it in any schema.
    fn is_multi_valued(&self, path: &AttributePath) -> bool {
        if path.schema_urn.is_none()
            && path.sub_attribute.is_none()
            && path.attribute.eq_ignore_ascii_case("schemas")
        {
            return true;
        }
        resolve_attribute(*self, path).is_some_and(|resolved| resolved.definition().multi_valued)
    }

    fn is_boolean(&self, path: &AttributePath) -> bool {
        resolve_attribute(*self, path)
            .is_some_and(|resolved| resolved.definition().attribute_type == AttributeType::Boolean)
    }

    fn is_case_exact(&self, path: &AttributePath) -> bool {
        resolve_attribute(*self, path).is_some_and(|resolved| resolved.definition().case_exact)
    }

    /// Only this resource type's own extensions, so an Enterprise User object sent to a
    /// Group is treated as an unknown attribute rather than an extension.
    fn is_extension_schema(&self, urn: &str) -> bool {
        self.resource_type().has_extension(urn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> AttributePath {
        match AttributePath::parse(text) {
            Ok(path) => path,
            Err(error) => panic!("{text} should parse: {error}"),
        }
    }

    #[test]
    fn read_only_attributes_come_from_the_schemas() {
        let user = ResourceKind::User;
        for text in [
            "id",
            "meta",
            "meta.created",
            "groups",
            "groups.value",
            "GROUPS.Display",
        ] {
            assert!(user.is_read_only(&path(text)), "{text}");
        }
        let manager_name =
            path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName");
        assert!(user.is_read_only(&manager_name));
        for text in [
            "userName",
            "externalId",
            "emails.value",
            "password",
            "nosuch",
        ] {
            assert!(!user.is_read_only(&path(text)), "{text}");
        }
        assert!(!ResourceKind::Group.is_read_only(&path("members")));
    }

    #[test]
    fn multi_valued_boolean_and_case_exact_come_from_the_schemas() {
        let user = ResourceKind::User;
        assert!(user.is_multi_valued(&path("emails")));
        assert!(user.is_multi_valued(&path("Schemas")));
        assert!(!user.is_multi_valued(&path("emails.value")));
        assert!(!user.is_multi_valued(&path("name")));
        assert!(ResourceKind::Group.is_multi_valued(&path("members")));
        assert!(user.is_boolean(&path("active")));
        assert!(user.is_boolean(&path("phoneNumbers.primary")));
        assert!(!user.is_boolean(&path("userName")));
        assert!(user.is_case_exact(&path("id")));
        assert!(user.is_case_exact(&path("externalId")));
        assert!(!user.is_case_exact(&path("userName")));
    }

    #[test]
    fn extension_schemas_are_those_of_the_resource_type() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(ResourceKind::User.is_extension_schema(enterprise));
        assert!(ResourceKind::User.is_extension_schema(&enterprise.to_ascii_uppercase()));
        assert!(!ResourceKind::Group.is_extension_schema(enterprise));
        assert!(
            ResourceKind::Group
                .is_extension_schema("urn:gatehouse:params:scim:schemas:extension:2.0:Group")
        );
        assert!(
            !ResourceKind::User.is_extension_schema("urn:ietf:params:scim:schemas:core:2.0:User")
        );
    }
}
