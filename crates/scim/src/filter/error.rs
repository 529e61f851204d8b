//! The error a filter parse ends with: what went wrong (`FilterErrorKind`), the byte offset in
//! the filter text where it went wrong, and a human message naming what was expected there.
//! Every kind maps to SCIM `scimType: invalidFilter` (RFC 7644 §3.12); the kinds exist so the
//! caller can log and meter hostile input (`TooLong`, `TooDeep`, `TooManyTerms`) separately
//! from honest mistakes. Choosing the HTTP status is the caller's business, not this crate's.

use thiserror::Error;

/// Why a filter was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterErrorKind {
    /// The filter text is longer than `FilterLimits::max_length_bytes`.
    TooLong,
    /// Parentheses or value-path brackets nest deeper than `FilterLimits::max_depth`.
    TooDeep,
    /// The filter holds more attribute expressions than `FilterLimits::max_terms`.
    TooManyTerms,
    /// The text does not follow the RFC 7644 §3.4.2.2 filter grammar.
    Syntax,
    /// A comparison value is not a valid JSON literal (bad escape, lone surrogate, an unquoted
    /// word, a number out of range, …).
    InvalidValue,
}

/// A rejected filter: the kind, the byte offset into the filter text, and a message such as
/// `expected a comparison operator (…) after "userName" at offset 9, found "is"`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct FilterError {
    pub kind: FilterErrorKind,
    /// Byte offset into the filter text; equal to the text length when the input ended early.
    pub position: usize,
    message: String,
}

impl FilterError {
    pub(crate) fn new(kind: FilterErrorKind, position: usize, message: impl Into<String>) -> Self {
        Self {
            kind,
            position,
            message: message.into(),
        }
    }

    pub(crate) fn syntax(position: usize, message: impl Into<String>) -> Self {
        Self::new(FilterErrorKind::Syntax, position, message)
    }

    pub(crate) fn invalid_value(position: usize, message: impl Into<String>) -> Self {
        Self::new(FilterErrorKind::InvalidValue, position, message)
    }

    /// The human-readable message, which already includes the offset.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Longest piece of client input echoed back in an error message. Messages end up in logs and
/// responses, so a 4 KiB hostile token is cut short rather than repeated in full.
const MAX_QUOTED_CHARACTERS: usize = 40;

/// Quotes a piece of the filter for an error message.
pub(crate) fn quote_input(text: &str) -> String {
    crate::error::quote_client_text(text, MAX_QUOTED_CHARACTERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_input_is_escaped_and_shortened() {
        assert_eq!(quote_input("userName"), "\"userName\"");
        assert_eq!(quote_input("a\nb"), "\"a\\nb\"");
        let long_input = "x".repeat(1000);
        let quoted = quote_input(&long_input);
        assert!(quoted.len() < 50, "{quoted}");
        assert!(quoted.ends_with('…'));
    }

    #[test]
    fn display_is_the_message() {
        let error = FilterError::syntax(3, "expected something at offset 3");
        assert_eq!(error.to_string(), "expected something at offset 3");
        assert_eq!(error.message(), "expected something at offset 3");
        assert_eq!(error.kind, FilterErrorKind::Syntax);
    }
}
