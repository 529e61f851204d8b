//! Helpers shared by the parser's test files: terse constructors for expected trees and
//! assertions on errors, so each test reads as filter text next to the tree it should become.

use super::*;
use crate::filter::{FilterErrorKind, parse_filter};

pub(super) fn path(text: &str) -> AttributePath {
    AttributePath::parse(text).unwrap()
}

pub(super) fn present(path_text: &str) -> Filter {
    Filter::Present(path(path_text))
}

pub(super) fn string_equals(path_text: &str, value: &str) -> Filter {
    compare(
        path_text,
        CompareOperator::Equal,
        ComparisonValue::String(value.to_owned()),
    )
}

pub(super) fn compare(
    path_text: &str,
    operator: CompareOperator,
    value: ComparisonValue,
) -> Filter {
    Filter::Compare {
        path: path(path_text),
        operator,
        value,
    }
}

pub(super) fn and(left: Filter, right: Filter) -> Filter {
    Filter::And(Box::new(left), Box::new(right))
}

pub(super) fn or(left: Filter, right: Filter) -> Filter {
    Filter::Or(Box::new(left), Box::new(right))
}

pub(super) fn not(inner: Filter) -> Filter {
    Filter::Not(Box::new(inner))
}

pub(super) fn value_path(attribute: &str, filter: Filter) -> Filter {
    Filter::ValuePath {
        attribute: path(attribute),
        filter: Box::new(filter),
    }
}

/// Asserts that `text` parses to the filter `expected`.
#[track_caller]
pub(super) fn assert_parses(text: &str, expected: Filter) {
    assert_eq!(parse_filter(text).unwrap(), expected, "{text:?}");
}

pub(super) fn parse_error(text: &str) -> FilterError {
    match parse_filter(text) {
        Ok(filter) => panic!("{text:?} should not parse, got {filter:?}"),
        Err(error) => error,
    }
}

pub(super) fn assert_error(text: &str, kind: FilterErrorKind, position: usize, message_part: &str) {
    let error = parse_error(text);
    assert_eq!(error.kind, kind, "{text:?}: {error}");
    assert_eq!(error.position, position, "{text:?}: {error}");
    assert!(
        error.message().contains(message_part),
        "{text:?}: message {:?} should contain {message_part:?}",
        error.message()
    );
}

/// Runs `work` on a thread with a deliberately small stack, so unbounded recursion would
/// overflow it and abort the test run instead of passing by luck on a big main-thread stack.
pub(super) fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    const SMALL_STACK_BYTES: usize = 256 * 1024;
    std::thread::Builder::new()
        .stack_size(SMALL_STACK_BYTES)
        .spawn(work)
        .unwrap()
        .join()
        .unwrap()
}

pub(super) fn nested_parentheses(depth: usize) -> String {
    format!(
        "{}userName eq \"a\"{}",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}
