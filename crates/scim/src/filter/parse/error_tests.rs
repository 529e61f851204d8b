//! The errors clients see for malformed filters: kind, byte offset, and a message naming what
//! was expected there.

use super::test_support::*;
use crate::filter::FilterErrorKind;

#[test]
fn error_messages_name_what_was_expected_and_where() {
    let error = parse_error(r#"userName is "x""#);
    assert_eq!(error.kind, FilterErrorKind::Syntax);
    assert_eq!(error.position, 9);
    assert_eq!(
        error.to_string(),
        "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) or \"[\" \
         after \"userName\" at offset 9, found \"is\""
    );
}

#[test]
fn missing_comparison_value_is_a_syntax_error_at_the_end() {
    assert_error(
        "userName eq",
        FilterErrorKind::Syntax,
        11,
        "expected a comparison value",
    );
    assert_error("userName eq )", FilterErrorKind::Syntax, 12, "found \")\"");
    assert_error(
        "userName",
        FilterErrorKind::Syntax,
        8,
        "expected a comparison operator",
    );
}

#[test]
fn unquoted_comparison_values_are_invalid_values() {
    assert_error(
        "userName eq bjensen",
        FilterErrorKind::InvalidValue,
        12,
        "strings must be in double quotes",
    );
    for text in [
        "a eq True",
        "a eq NULL",
        "a eq 01",
        "a eq 1.",
        "a eq +1",
        "a eq and",
    ] {
        assert_eq!(
            parse_error(text).kind,
            FilterErrorKind::InvalidValue,
            "{text}"
        );
    }
    assert_error(
        "a eq 1e400",
        FilterErrorKind::InvalidValue,
        5,
        "out of range",
    );
}

#[test]
fn malformed_strings_are_reported() {
    assert_error(
        r#"userName eq "bjensen"#,
        FilterErrorKind::Syntax,
        20,
        "unterminated string starting at offset 12",
    );
    assert_error(
        r#"userName eq "a\qb""#,
        FilterErrorKind::InvalidValue,
        14,
        "invalid escape",
    );
    assert_error(
        r#"userName eq "\uDE00""#,
        FilterErrorKind::InvalidValue,
        13,
        "surrogate",
    );
}

#[test]
fn the_leftmost_problem_is_reported_first() {
    assert_error(
        r#"userName xx "a\qb""#,
        FilterErrorKind::Syntax,
        9,
        "comparison operator",
    );
    assert_error(
        r#"a pr and b eq "a\qb""#,
        FilterErrorKind::InvalidValue,
        16,
        "invalid escape",
    );
}

#[test]
fn unknown_operators_are_rejected() {
    assert_error(
        r#"userName equals "x""#,
        FilterErrorKind::Syntax,
        9,
        "found \"equals\"",
    );
    assert_error(
        r#"userName = "x""#,
        FilterErrorKind::Syntax,
        9,
        "comparison operator",
    );
    assert_error(
        r#"userName "x""#,
        FilterErrorKind::Syntax,
        9,
        "comparison operator",
    );
}

#[test]
fn presence_test_takes_no_value() {
    assert_error(
        r#"title pr "x""#,
        FilterErrorKind::Syntax,
        9,
        "takes no comparison value",
    );
    assert_error(
        "title pr true",
        FilterErrorKind::Syntax,
        9,
        "takes no comparison value",
    );
    assert_error(
        "title pr 3",
        FilterErrorKind::Syntax,
        9,
        "takes no comparison value",
    );
}

#[test]
fn trailing_garbage_is_rejected() {
    assert_error(
        "title pr title pr",
        FilterErrorKind::Syntax,
        9,
        "expected \"and\", \"or\" or the end",
    );
    assert_error(
        "title pr and",
        FilterErrorKind::Syntax,
        12,
        "expected an attribute path",
    );
    assert_error("title pr (", FilterErrorKind::Syntax, 9, "found \"(\"");
}

#[test]
fn empty_filters_are_rejected() {
    for text in ["", "   ", "\t\n"] {
        assert_error(text, FilterErrorKind::Syntax, text.len(), "filter is empty");
    }
    assert_error(
        "()",
        FilterErrorKind::Syntax,
        1,
        "expected an attribute path",
    );
    assert_error(
        "emails[]",
        FilterErrorKind::Syntax,
        7,
        "expected an attribute path",
    );
}

#[test]
fn unbalanced_parentheses_and_brackets_are_rejected() {
    assert_error(
        "(title pr",
        FilterErrorKind::Syntax,
        9,
        "to close the \"(\" at offset 0",
    );
    assert_error(
        "title pr)",
        FilterErrorKind::Syntax,
        8,
        "no \"(\" for it to close",
    );
    assert_error(
        "emails[type pr",
        FilterErrorKind::Syntax,
        14,
        "to close the \"[\" at offset 6",
    );
    assert_error(
        "title pr]",
        FilterErrorKind::Syntax,
        8,
        "no \"[\" for it to close",
    );
    assert_error(
        "emails[type pr)",
        FilterErrorKind::Syntax,
        14,
        "\"]\" (to close",
    );
    assert_error(
        "(emails[type pr)]",
        FilterErrorKind::Syntax,
        15,
        "\"]\" (to close",
    );
}

#[test]
fn not_requires_a_parenthesised_filter() {
    assert_error(
        r#"not userName eq "x""#,
        FilterErrorKind::Syntax,
        4,
        "expected \"(\" after \"not\" at offset 4, found \"userName\"",
    );
    assert_error(
        "not",
        FilterErrorKind::Syntax,
        3,
        "expected \"(\" after \"not\"",
    );
}

#[test]
fn sub_attribute_after_a_value_path_belongs_to_patch_paths() {
    assert_error(
        r#"emails[type eq "work"].value eq "x""#,
        FilterErrorKind::Syntax,
        22,
        "only valid in a PATCH path",
    );
}

#[test]
fn invalid_attribute_paths_are_rejected_where_they_go_wrong() {
    assert_error(
        "1abc pr",
        FilterErrorKind::Syntax,
        0,
        "invalid attribute name",
    );
    assert_error(
        "title pr and name.given.x pr",
        FilterErrorKind::Syntax,
        23,
        "at most one sub-attribute",
    );
}
