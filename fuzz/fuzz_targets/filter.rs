//! Fuzzes the SCIM filter parser (RFC 7644 §3.4.2.2) with client-style filter text.
//!
//! Besides "never panics, never overflows the stack", it checks what the filter module
//! promises:
//! - an error's position lies within the text;
//! - `Display` renders a parsed filter as text that parses back to an equal filter, and
//!   rendering that again gives the same text (the canonical form is a fixed point);
//! - the `valFilter` grammar of PATCH paths is the filter grammar without value paths;
//! - the term limit counts exactly the attribute expressions in the tree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::filter::{
    Filter, FilterErrorKind, FilterLimits, parse_filter, parse_filter_with, parse_value_filter_with,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = FilterLimits::default();
    let parsed = parse_filter(text);
    check_value_filter_grammar(text, &limits, &parsed);
    let filter = match parsed {
        Ok(filter) => filter,
        Err(error) => {
            assert!(
                error.position <= text.len(),
                "error position {} is past the end of a {}-byte filter: {error}",
                error.position,
                text.len()
            );
            return;
        }
    };
    check_round_trip(&filter);
    check_term_limit(text, &filter);
});

/// `parse_value_filter_with` accepts exactly the filters without a value path, as the same
/// tree; with a value path it must fail where `parse_filter` succeeds.
fn check_value_filter_grammar(
    text: &str,
    limits: &FilterLimits,
    parsed: &Result<Filter, scim::filter::FilterError>,
) {
    let value_filter = parse_value_filter_with(text, limits);
    match (parsed, &value_filter) {
        (Ok(filter), Ok(value_filter)) => {
            assert_eq!(
                filter, value_filter,
                "the two grammars disagree on {text:?}"
            );
            assert!(
                !has_value_path(filter),
                "valFilter took a value path: {text:?}"
            );
        }
        (Ok(filter), Err(error)) => assert!(
            has_value_path(filter),
            "valFilter rejected {text:?}, which has no value path: {error}"
        ),
        (Err(error), Ok(_)) => {
            panic!("valFilter accepted {text:?}, which is not a valid filter: {error}")
        }
        (Err(_), Err(_)) => {}
    }
}

/// Rendering is checked against a length-unlimited parse: canonical text can be a little
/// longer than the input (`not(a pr)` becomes `not (a pr)`), which says nothing about whether
/// it means the same thing. Depth and term limits stay as they were; rendering never adds
/// nesting or terms.
fn check_round_trip(filter: &Filter) {
    let rendered = filter.to_string();
    let unlimited_length = FilterLimits {
        max_length_bytes: usize::MAX,
        ..FilterLimits::default()
    };
    let reparsed = parse_filter_with(&rendered, &unlimited_length)
        .unwrap_or_else(|error| panic!("rendered filter {rendered:?} does not parse: {error}"));
    assert_eq!(
        &reparsed, filter,
        "{rendered:?} parses to a different filter"
    );
    assert_eq!(
        reparsed.to_string(),
        rendered,
        "rendering is not a fixed point"
    );
}

/// A filter with `n` attribute expressions passes `max_terms: n` and fails `max_terms: n - 1`
/// with `TooManyTerms`, and nothing else changes.
fn check_term_limit(text: &str, filter: &Filter) {
    let terms = count_terms(filter);
    assert!((1..=FilterLimits::DEFAULT.max_terms).contains(&terms));
    let exact = FilterLimits {
        max_terms: terms,
        ..FilterLimits::default()
    };
    assert_eq!(parse_filter_with(text, &exact).as_ref(), Ok(filter));
    let one_short = FilterLimits {
        max_terms: terms - 1,
        ..FilterLimits::default()
    };
    let error = parse_filter_with(text, &one_short).unwrap_err();
    assert_eq!(
        error.kind,
        FilterErrorKind::TooManyTerms,
        "{text:?}: {error}"
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

fn count_terms(filter: &Filter) -> usize {
    match filter {
        Filter::Compare { .. } | Filter::Present(_) => 1,
        Filter::Not(inner) => count_terms(inner),
        Filter::ValuePath { filter, .. } => count_terms(filter),
        Filter::And(left, right) | Filter::Or(left, right) => {
            count_terms(left) + count_terms(right)
        }
    }
}
