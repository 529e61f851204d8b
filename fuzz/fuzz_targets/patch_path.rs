//! Fuzzes the PATCH `path` parser (RFC 7644 §3.5.2): `members`, `name.familyName`,
//! `emails[type eq "work"].value`, schema-qualified paths.
//!
//! Checks, besides "never panics":
//! - every error is a 400 `invalidPath` or `invalidFilter`;
//! - a parsed path has one of the two documented shapes, and its value filter holds no
//!   nested value path;
//! - `Display` renders text that parses back to an equal path, as a fixed point.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::error::ScimType;
use scim::filter::Filter;
use scim::path::{MAX_PATH_LENGTH_BYTES, PatchPath, parse_patch_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = match parse_patch_path(text) {
        Ok(path) => path,
        Err(error) => {
            assert_eq!(error.status, 400, "{text:?}: {error:?}");
            assert!(
                matches!(
                    error.scim_type,
                    Some(ScimType::InvalidPath | ScimType::InvalidFilter)
                ),
                "{text:?}: {error:?}"
            );
            return;
        }
    };
    check_shape(text, &path);
    check_round_trip(&path);
});

fn check_shape(text: &str, path: &PatchPath) {
    if let Some(filter) = &path.value_filter {
        assert!(
            path.attribute.sub_attribute.is_none(),
            "{text:?}: a value filter on a sub-attribute"
        );
        assert!(!has_value_path(filter), "{text:?}: nested value path");
    } else {
        assert!(
            path.sub_attribute.is_none(),
            "{text:?}: a trailing sub-attribute without a value filter"
        );
    }
}

/// Canonical filter text can be longer than what the client wrote (`eq"x"` gains a space), so
/// only renderings within the length limit are expected to parse again.
fn check_round_trip(path: &PatchPath) {
    let rendered = path.to_string();
    if rendered.len() > MAX_PATH_LENGTH_BYTES {
        return;
    }
    let reparsed = parse_patch_path(&rendered)
        .unwrap_or_else(|error| panic!("rendered path {rendered:?} does not parse: {error:?}"));
    assert_eq!(&reparsed, path, "{rendered:?} parses to a different path");
    assert_eq!(
        reparsed.to_string(),
        rendered,
        "rendering is not a fixed point"
    );
}

fn has_value_path(filter: &Filter) -> bool {
    match filter {
        Filter::ValuePath { .. } => true,
        Filter::Compare { .. } | Filter::Present(_) => false,
        Filter::Not(inner) => has_value_path(inner),
        Filter::And(left, right) | Filter::Or(left, right) => {
            has_value_path(left) || has_value_path(right)
        }
    }
}
