//! Fuzzes PatchOp request bodies (RFC 7644 §3.5.2) as the HTTP layer receives them: raw
//! text, through `parse_patch_request_text`.
//!
//! Checks, besides "never panics":
//! - every error is a 400 with a `scimType`;
//! - what parses holds the guarantees the module documents: between one and
//!   `MAX_OPERATIONS` operations, every `remove` has a path, every `add`/`replace` a value,
//!   and a path-less `add`/`replace` an object value;
//! - decoding the JSON first and calling `parse_patch_request` gives the same result.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::patch::{
    MAX_OPERATIONS, PatchOpKind, PatchOperation, parse_patch_request, parse_patch_request_text,
};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_patch_request_text(text);
    if let Ok(body) = serde_json::from_str::<Value>(text) {
        assert_eq!(parse_patch_request(body), parsed, "{text:?}");
    }
    match parsed {
        Ok(operations) => check_operations(text, &operations),
        Err(error) => {
            assert_eq!(error.status, 400, "{text:?}: {error:?}");
            assert!(error.scim_type.is_some(), "{text:?}: {error:?}");
        }
    }
});

fn check_operations(text: &str, operations: &[PatchOperation]) {
    assert!(
        (1..=MAX_OPERATIONS).contains(&operations.len()),
        "{text:?}: {} operations",
        operations.len()
    );
    for operation in operations {
        match operation.op {
            PatchOpKind::Remove => {
                assert!(operation.path.is_some(), "{text:?}: remove without a path")
            }
            PatchOpKind::Add | PatchOpKind::Replace => {
                assert!(operation.value.is_some(), "{text:?}: no value");
                if operation.path.is_none() {
                    assert!(
                        matches!(operation.value, Some(Value::Object(_))),
                        "{text:?}: path-less operation without an object value"
                    );
                }
            }
        }
    }
}
