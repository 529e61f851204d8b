//! Schema rules and helpers shared by the PATCH tests: the RFC 7643 User and Group attributes
//! that matter for PATCH (what is read-only, multi-valued, boolean or case-exact), so tests
//! exercise the same decisions the service's schema registry will make.

use serde_json::Value;

use super::apply::apply_operations;
use super::request::{PatchOperation, parse_patch_request};
use super::rules::AttributeRules;
use crate::error::ScimError;
use crate::filter::AttributePath;

pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The User (with the enterprise extension) and Group schemas of RFC 7643 §4 and §8.7.1.
pub(crate) struct TestRules;

fn is(path: &AttributePath, attribute: &str, sub_attribute: Option<&str>) -> bool {
    path.attribute.eq_ignore_ascii_case(attribute)
        && match (&path.sub_attribute, sub_attribute) {
            (Some(actual), Some(expected)) => actual.eq_ignore_ascii_case(expected),
            (None, None) => true,
            _ => false,
        }
}

impl AttributeRules for TestRules {
    fn is_read_only(&self, path: &AttributePath) -> bool {
        if path.schema_urn.is_some() {
            return is(path, "manager", Some("displayName"));
        }
        ["id", "meta", "groups"]
            .iter()
            .any(|name| path.attribute.eq_ignore_ascii_case(name))
    }

    fn is_multi_valued(&self, path: &AttributePath) -> bool {
        path.schema_urn.is_none()
            && path.sub_attribute.is_none()
            && [
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates",
                "members",
                "schemas",
            ]
            .iter()
            .any(|name| path.attribute.eq_ignore_ascii_case(name))
    }

    fn is_boolean(&self, path: &AttributePath) -> bool {
        is(path, "active", None) || is_sub_attribute_named(path, "primary")
    }

    fn is_case_exact(&self, path: &AttributePath) -> bool {
        is(path, "id", None)
            || is(path, "externalId", None)
            || is(path, "members", Some("value"))
            || is(path, "groups", Some("value"))
    }
}

fn is_sub_attribute_named(path: &AttributePath, name: &str) -> bool {
    path.sub_attribute
        .as_deref()
        .is_some_and(|sub_attribute| sub_attribute.eq_ignore_ascii_case(name))
}

/// Parses a whole PatchOp request body.
pub(crate) fn operations(body: Value) -> Vec<PatchOperation> {
    match parse_patch_request(body) {
        Ok(operations) => operations,
        Err(error) => panic!("request should parse: {}", error.detail),
    }
}

/// Wraps operations in a PatchOp request body and parses it.
pub(crate) fn request(operations_json: Value) -> Vec<PatchOperation> {
    operations(serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations_json,
    }))
}

/// Applies a PatchOp request to `resource` and returns the result.
pub(crate) fn patched(mut resource: Value, operations_json: Value) -> Value {
    if let Err(error) = apply_operations(&mut resource, &request(operations_json), &TestRules) {
        panic!("patch should apply: {error:?}");
    }
    resource
}

/// Applies a PatchOp request that must fail, checking the resource is left unchanged.
pub(crate) fn rejected(resource: Value, operations_json: Value) -> ScimError {
    let mut working = resource.clone();
    let error = match apply_operations(&mut working, &request(operations_json), &TestRules) {
        Ok(()) => panic!("patch should fail, got {working}"),
        Err(error) => error,
    };
    assert_eq!(
        working, resource,
        "a failed patch must leave the resource unchanged"
    );
    error
}
