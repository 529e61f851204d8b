//! Hostile-input limits: length, nesting depth (with and without the pre-scan, on a small
//! stack) and term count.

use super::test_support::*;
use super::*;
use crate::filter::{FilterErrorKind, parse_filter, parse_filter_with};

#[test]
fn a_100_kilobyte_filter_is_too_long() {
    let text = format!("userName eq \"{}\"", "a".repeat(100 * 1024));
    let error = parse_error(&text);
    assert_eq!(error.kind, FilterErrorKind::TooLong);
    assert!(error.message().contains("at most 4096 bytes"), "{error}");
}

#[test]
fn length_limit_is_checked_before_anything_else() {
    let text = format!("{}{}", "(".repeat(5000), "\"");
    assert_eq!(parse_error(&text).kind, FilterErrorKind::TooLong);
}

#[test]
fn three_thousand_nested_parentheses_are_too_deep_without_overflowing_a_small_stack() {
    let error = on_small_stack(|| {
        let limits = FilterLimits {
            max_length_bytes: 1 << 20,
            ..FilterLimits::default()
        };
        parse_filter_with(&nested_parentheses(3000), &limits).unwrap_err()
    });
    assert_eq!(error.kind, FilterErrorKind::TooDeep);
    assert_eq!(error.position, 32);
}

#[test]
fn parser_bounds_depth_even_without_the_pre_scan() {
    let limits = FilterLimits {
        max_length_bytes: 1 << 20,
        ..FilterLimits::default()
    };
    let nested_negations = format!("{}a pr{}", "not (".repeat(3000), ")".repeat(3000));
    let nested_value_paths = format!("{}a pr{}", "(x[".repeat(3000), "])".repeat(3000));
    for text in [nested_parentheses(3000), nested_negations] {
        let error = on_small_stack(move || parse_after_checks(&text, &limits, Grammar::Filter))
            .unwrap_err();
        assert_eq!(error.kind, FilterErrorKind::TooDeep, "{error}");
    }
    // Value paths cannot nest at all, so deep brackets stop at the second one.
    let error =
        on_small_stack(move || parse_after_checks(&nested_value_paths, &limits, Grammar::Filter))
            .unwrap_err();
    assert_eq!((error.kind, error.position), (FilterErrorKind::Syntax, 5));
    let deep_negations = format!("{}a pr{}", "not (".repeat(40), ")".repeat(40));
    let error = parse_after_checks(&deep_negations, &limits, Grammar::Filter).unwrap_err();
    assert_eq!(error.kind, FilterErrorKind::TooDeep);
}

#[test]
fn nesting_up_to_the_depth_limit_parses() {
    let limits = FilterLimits::default();
    let at_limit = nested_parentheses(limits.max_depth);
    assert_eq!(
        parse_filter(&at_limit).unwrap(),
        string_equals("userName", "a")
    );
    let over_limit = nested_parentheses(limits.max_depth + 1);
    assert_eq!(parse_error(&over_limit).kind, FilterErrorKind::TooDeep);
    let negations = format!("{}a pr{}", "not (".repeat(32), ")".repeat(32));
    assert!(parse_filter(&negations).is_ok());
}

#[test]
fn term_count_is_limited() {
    let limits = FilterLimits {
        max_terms: 3,
        ..FilterLimits::default()
    };
    assert!(parse_filter_with("a pr and b pr or c eq 1", &limits).is_ok());
    let error = parse_filter_with("a pr and b pr or c eq 1 and d pr", &limits).unwrap_err();
    assert_eq!(
        (error.kind, error.position),
        (FilterErrorKind::TooManyTerms, 28)
    );
    let default_terms = vec!["a pr"; 257].join(" or ");
    assert_eq!(
        parse_error(&default_terms).kind,
        FilterErrorKind::TooManyTerms
    );
}
