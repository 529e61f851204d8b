//! SCIM PATCH (RFC 7644 §3.5.2): reading a PatchOp request, applying its operations to a
//! resource held as JSON, and pulling group membership changes out so the service can store
//! them as row inserts and deletes. Everything here is pure; the service supplies schema
//! facts through `AttributeRules` and does the storing.

mod apply;
mod matching;
mod members;
mod multi_valued;
mod object;
mod request;
mod rules;

#[cfg(test)]
mod client_quirks;
#[cfg(test)]
mod rfc_examples;
#[cfg(test)]
mod test_support;

pub use apply::apply_operations;
pub use matching::matches;
pub use members::{MemberChanges, member_changes, split_member_operations};
pub use request::{
    MAX_OPERATIONS, PATCH_OP_SCHEMA, PatchOpKind, PatchOperation, parse_patch_request,
    parse_patch_request_text,
};
pub use rules::{
    AttributeRules, CORE_SCHEMA_PREFIX, is_core_schema, looks_like_extension_schema,
    looks_like_schema_urn,
};
