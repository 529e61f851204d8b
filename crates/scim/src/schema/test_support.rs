//! Helpers for comparing this crate's schema JSON with the text of RFC 7643 §8.7.1, whose
//! representations leave some characteristics implicit. Filling in the §2.2 defaults on the
//! RFC side lets a test compare whole attributes instead of picking keys one by one.

use serde_json::{Value, json};

/// `rfc_attribute` with the RFC 7643 §2.2 defaults made explicit the way `to_json` writes
/// them: a missing `caseExact` is `false`, a missing `uniqueness` is `"none"`, and an empty
/// `canonicalValues` is dropped. Applied to sub-attributes too.
pub(crate) fn with_rfc_defaults(mut rfc_attribute: Value) -> Value {
    if let Value::Object(object) = &mut rfc_attribute {
        object.entry("caseExact").or_insert(json!(false));
        object.entry("uniqueness").or_insert(json!("none"));
        if object
            .get("canonicalValues")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            object.remove("canonicalValues");
        }
        if let Some(Value::Array(sub_attributes)) = object.get_mut("subAttributes") {
            for sub_attribute in sub_attributes.iter_mut() {
                *sub_attribute = with_rfc_defaults(sub_attribute.take());
            }
        }
    }
    rfc_attribute
}

/// The names of `attributes`, in order.
pub(crate) fn names(attributes: &[super::AttributeDefinition]) -> Vec<&'static str> {
    attributes.iter().map(|attribute| attribute.name).collect()
}
