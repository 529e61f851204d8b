//! Why a parsed filter or `sortBy` could not be turned into SQL. The filter grammar accepted
//! it, but it names an attribute the resource type does not store, applies an operator the
//! attribute's type does not support (`active gt true`), or compares with a value of the
//! wrong type (`active eq "yes"`). RFC 7644 §3.4.2.2 answers all three with `400
//! invalidFilter`, which is what the `ScimError` conversion gives.

use thiserror::Error;

use scim::error::ScimError;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompileError {
    /// The attribute path (as the client spelled it, e.g. `emails.kind`) has no column.
    #[error("unknown attribute {} in filter", quote_client_text(.0))]
    UnknownAttribute(String),
    /// The operator cannot be applied to the attribute, e.g. `gt` on a boolean.
    #[error("{0}")]
    UnsupportedComparison(String),
    /// The comparison value does not fit the attribute's type, e.g. a string for a boolean.
    #[error("{0}")]
    InvalidValue(String),
}

impl From<CompileError> for ScimError {
    fn from(error: CompileError) -> Self {
        Self::invalid_filter(error.to_string())
    }
}

/// Longest piece of client input echoed in a message: errors reach logs and responses, so a
/// hostile 4 KiB literal is shortened rather than repeated.
const MAX_QUOTED_CHARACTERS: usize = 40;

/// Quotes client-supplied text for an error message (see `scim::error::quote_client_text`).
pub(crate) fn quote_client_text(text: &str) -> String {
    scim::error::quote_client_text(text, MAX_QUOTED_CHARACTERS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim::error::ScimType;

    #[test]
    fn unknown_attribute_message_names_the_path() {
        let error = CompileError::UnknownAttribute("emails.kind".to_owned());
        assert_eq!(
            error.to_string(),
            "unknown attribute \"emails.kind\" in filter"
        );
    }

    #[test]
    fn every_kind_becomes_a_400_invalid_filter() {
        for error in [
            CompileError::UnknownAttribute("nickName".to_owned()),
            CompileError::UnsupportedComparison("gt on a boolean".to_owned()),
            CompileError::InvalidValue("not a date".to_owned()),
        ] {
            let detail = error.to_string();
            let scim_error = ScimError::from(error);
            assert_eq!(scim_error.status, 400);
            assert_eq!(scim_error.scim_type, Some(ScimType::InvalidFilter));
            assert_eq!(scim_error.detail, detail);
        }
    }

    #[test]
    fn quoted_client_text_is_escaped_and_shortened() {
        assert_eq!(quote_client_text("a\"b\nc"), "\"a\\\"b\\nc\"");
        let quoted = quote_client_text(&"x".repeat(1000));
        assert!(quoted.chars().count() < 50, "{quoted}");
        assert!(quoted.ends_with('…'));
    }
}
