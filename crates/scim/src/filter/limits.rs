//! Bounds on how much work a client-supplied filter may cause, and the cheap checks that
//! enforce them before the recursive-descent parser runs. The length check is O(1) and comes
//! first; the nesting pre-scan is one pass over the bytes with no allocation and no recursion,
//! so a hostile `((((…` is rejected before it can reach the parser's call stack. The parser
//! tracks the same depth (and counts terms) as it goes, so the bound holds even if the two
//! ever disagree.

use super::error::{FilterError, FilterErrorKind};

/// Limits applied to every filter before and while parsing.
///
/// `max_terms` also bounds the height of the `and`/`or` chains in the resulting `Filter`, and
/// with it the recursion in `Display`, `PartialEq` and `Drop` of the tree; keep it modest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Longest accepted filter text, in bytes (after URL decoding, which is the caller's job).
    pub max_length_bytes: usize,
    /// Deepest accepted nesting of parentheses and value-path brackets; `a eq 1` is depth 0,
    /// `(a eq 1)` and `emails[type eq "work"]` are depth 1. Each level costs the parser a few
    /// stack frames, so this must stay in the tens, not the thousands.
    pub max_depth: usize,
    /// Most attribute expressions (comparisons and `pr` tests) accepted in one filter.
    pub max_terms: usize,
}

impl FilterLimits {
    /// Room for any filter a real provisioning client (Entra ID, Okta, OneLogin) sends, while
    /// a request cannot make the parser do more than a few thousand steps.
    pub const DEFAULT: Self = Self {
        max_length_bytes: 4096,
        max_depth: 32,
        max_terms: 256,
    };
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

pub(crate) fn check_length(text: &str, limits: &FilterLimits) -> Result<(), FilterError> {
    if text.len() > limits.max_length_bytes {
        return Err(FilterError::new(
            FilterErrorKind::TooLong,
            limits.max_length_bytes,
            format!(
                "filter is {} bytes long; at most {} bytes are accepted",
                text.len(),
                limits.max_length_bytes
            ),
        ));
    }
    Ok(())
}

/// Rejects nesting deeper than `max_depth` by counting `(` and `[` outside string literals.
/// Unbalanced or unterminated input is left for the parser, which can say what is missing.
pub(crate) fn check_nesting_depth(text: &str, limits: &FilterLimits) -> Result<(), FilterError> {
    let mut depth = 0usize;
    for (offset, byte) in outside_string_literals(text) {
        match byte {
            b'(' | b'[' => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(too_deep(offset, limits));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The bytes of `text` outside its JSON string literals (a literal's quotes count as part of
/// it), with their offsets: what a scan for brackets must look at, since `"a]b"` holds no
/// bracket. Bytes are enough because every delimiter is ASCII and UTF-8 continuation bytes
/// never are.
pub(crate) fn outside_string_literals(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut inside_string = false;
    let mut after_backslash = false;
    text.bytes().enumerate().filter(move |&(_, byte)| {
        if inside_string {
            match byte {
                _ if after_backslash => after_backslash = false,
                b'\\' => after_backslash = true,
                b'"' => inside_string = false,
                _ => {}
            }
            return false;
        }
        inside_string = byte == b'"';
        !inside_string
    })
}

pub(crate) fn too_deep(offset: usize, limits: &FilterLimits) -> FilterError {
    FilterError::new(
        FilterErrorKind::TooDeep,
        offset,
        format!(
            "filter nests parentheses and brackets more than {} deep at offset {offset}",
            limits.max_depth
        ),
    )
}

pub(crate) fn too_many_terms(offset: usize, limits: &FilterLimits) -> FilterError {
    FilterError::new(
        FilterErrorKind::TooManyTerms,
        offset,
        format!(
            "filter has more than {} attribute expressions; the one at offset {offset} is over \
             the limit",
            limits.max_terms
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits_with_depth(max_depth: usize) -> FilterLimits {
        FilterLimits {
            max_depth,
            ..FilterLimits::default()
        }
    }

    #[test]
    fn default_limits_match_the_documented_values() {
        let limits = FilterLimits::default();
        assert_eq!(limits.max_length_bytes, 4096);
        assert_eq!(limits.max_depth, 32);
        assert_eq!(limits.max_terms, 256);
    }

    #[test]
    fn length_at_the_limit_is_accepted_and_one_byte_more_is_too_long() {
        let limits = FilterLimits {
            max_length_bytes: 10,
            ..FilterLimits::default()
        };
        assert!(check_length(&"a".repeat(10), &limits).is_ok());
        let error = check_length(&"a".repeat(11), &limits).unwrap_err();
        assert_eq!(error.kind, FilterErrorKind::TooLong);
    }

    #[test]
    fn nesting_at_the_limit_is_accepted_and_one_more_level_is_too_deep() {
        let limits = limits_with_depth(2);
        assert!(check_nesting_depth("((a pr))", &limits).is_ok());
        assert!(check_nesting_depth("(emails[type pr])", &limits).is_ok());
        let error = check_nesting_depth("(emails[(type pr)])", &limits).unwrap_err();
        assert_eq!(error.kind, FilterErrorKind::TooDeep);
        assert_eq!(error.position, 8);
    }

    #[test]
    fn sibling_groups_do_not_add_up_to_depth() {
        let limits = limits_with_depth(1);
        assert!(check_nesting_depth("(a pr) and (b pr) and c[d pr]", &limits).is_ok());
    }

    #[test]
    fn brackets_inside_string_literals_do_not_count_as_nesting() {
        let limits = limits_with_depth(0);
        assert!(check_nesting_depth(r#"a eq "((([[[" and b eq "\"(((""#, &limits).is_ok());
        assert!(check_nesting_depth(r#"a eq "\\" and (b pr)"#, &limits).is_err());
    }
}
