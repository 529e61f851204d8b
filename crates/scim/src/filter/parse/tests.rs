//! The trees the filter parser builds: RFC 7644 examples, every literal kind, precedence and
//! associativity, value paths, whitespace and case tolerance.

use super::test_support::*;
use super::*;
use crate::filter::{FilterErrorKind, parse_filter, parse_value_filter_with};

#[test]
fn simple_comparisons_and_presence_parse() {
    assert_parses(
        r#"userName eq "bjensen""#,
        string_equals("userName", "bjensen"),
    );
    assert_parses("title pr", present("title"));
    assert_parses(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        compare(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            CompareOperator::StartsWith,
            ComparisonValue::String("J".to_owned()),
        ),
    );
}

#[test]
fn every_operator_keyword_parses_to_its_operator() {
    for operator in CompareOperator::ALL {
        let text = format!(
            "meta.lastModified {} \"2011-05-13T04:42:34Z\"",
            operator.keyword()
        );
        let Filter::Compare {
            operator: parsed, ..
        } = parse_filter(&text).unwrap()
        else {
            panic!("{text} should be a comparison");
        };
        assert_eq!(parsed, operator);
    }
}

#[test]
fn comparison_values_cover_every_json_literal() {
    let cases = [
        (r#"a eq "x""#, ComparisonValue::String("x".to_owned())),
        ("a eq true", ComparisonValue::Boolean(true)),
        ("a eq false", ComparisonValue::Boolean(false)),
        ("a eq null", ComparisonValue::Null),
        ("a eq -1", ComparisonValue::Number(Number::from(-1))),
        ("a eq 42", ComparisonValue::Number(Number::from(42))),
        (
            "a eq 3.5e2",
            ComparisonValue::Number(Number::from_f64(350.0).unwrap()),
        ),
        (
            "a eq 0.25",
            ComparisonValue::Number(Number::from_f64(0.25).unwrap()),
        ),
    ];
    for (text, expected_value) in cases {
        assert_eq!(
            parse_filter(text).unwrap(),
            compare("a", CompareOperator::Equal, expected_value),
            "{text}"
        );
    }
}

#[test]
fn long_numbers_parse_to_the_nearest_float_and_round_trip_through_display() {
    // Found by the `filter` fuzz target: without correct rounding this parsed one ULP away
    // from the nearest float, and its rendering `5.5555555555555556e+32` parsed to yet
    // another one, so `Display` did not round-trip.
    let digits = "5".repeat(33);
    let filter = parse_filter(&format!("t co {digits}")).unwrap();
    let nearest = Number::from_f64(digits.parse::<f64>().unwrap()).unwrap();
    assert_eq!(
        filter,
        compare(
            "t",
            CompareOperator::Contains,
            ComparisonValue::Number(nearest)
        )
    );
    assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter);
}

#[test]
fn string_values_are_decoded() {
    assert_parses(
        r#"name.familyName co "O'Malley \"\u00e9\"""#,
        compare(
            "name.familyName",
            CompareOperator::Contains,
            ComparisonValue::String("O'Malley \"é\"".to_owned()),
        ),
    );
}

#[test]
fn and_binds_tighter_than_or() {
    assert_parses(
        "a pr or b pr and c pr",
        or(present("a"), and(present("b"), present("c"))),
    );
    assert_parses(
        "a pr and b pr or c pr",
        or(and(present("a"), present("b")), present("c")),
    );
}

#[test]
fn and_and_or_are_left_associative() {
    assert_parses(
        "a pr and b pr and c pr",
        and(and(present("a"), present("b")), present("c")),
    );
    assert_parses(
        "a pr or b pr or c pr",
        or(or(present("a"), present("b")), present("c")),
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_parses(
        "(a pr or b pr) and c pr",
        and(or(present("a"), present("b")), present("c")),
    );
    assert_parses(
        "a pr and (b pr and c pr)",
        and(present("a"), and(present("b"), present("c"))),
    );
}

#[test]
fn not_applies_only_to_its_parenthesised_filter() {
    assert_eq!(
        parse_filter(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        )
        .unwrap(),
        and(
            compare(
                "userType",
                CompareOperator::NotEqual,
                ComparisonValue::String("Employee".to_owned())
            ),
            not(or(
                compare(
                    "emails",
                    CompareOperator::Contains,
                    ComparisonValue::String("example.com".to_owned())
                ),
                compare(
                    "emails.value",
                    CompareOperator::Contains,
                    ComparisonValue::String("example.org".to_owned())
                ),
            ))
        )
    );
    assert_parses("not(a pr) or b pr", or(not(present("a")), present("b")));
    assert_parses("not (not (a pr))", not(not(present("a"))));
}

#[test]
fn value_path_filter_binds_tighter_than_and() {
    let work_email = and(
        string_equals("type", "work"),
        compare(
            "value",
            CompareOperator::Contains,
            ComparisonValue::String("@example.com".to_owned()),
        ),
    );
    assert_eq!(
        parse_filter(
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
        )
        .unwrap(),
        and(
            string_equals("userType", "Employee"),
            value_path("emails", work_email.clone())
        )
    );
    assert_eq!(
        parse_filter(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
        )
        .unwrap(),
        or(
            value_path("emails", work_email),
            value_path(
                "ims",
                and(
                    string_equals("type", "xmpp"),
                    compare("value", CompareOperator::Contains, ComparisonValue::String("@foo.com".to_owned())),
                )
            )
        )
    );
}

#[test]
fn value_filters_may_group_and_negate_but_not_nest() {
    assert_parses(
        r#"emails[not (type eq "work") and (primary eq true)]"#,
        value_path(
            "emails",
            and(
                not(string_equals("type", "work")),
                compare(
                    "primary",
                    CompareOperator::Equal,
                    ComparisonValue::Boolean(true),
                ),
            ),
        ),
    );
    assert_error(
        r#"emails[type eq "work" and x[y pr]]"#,
        FilterErrorKind::Syntax,
        27,
        "a value filter cannot contain another value filter",
    );
    assert_error(
        r#"emails[(not (x[y pr]))]"#,
        FilterErrorKind::Syntax,
        14,
        "cannot contain another value filter",
    );
}

#[test]
fn whitespace_between_tokens_is_flexible() {
    let expected = and(string_equals("userName", "x"), present("title"));
    for text in [
        "userName   eq \t \"x\"   and\ttitle pr",
        "\t userName eq \"x\" and title pr \n",
        "userName eq\"x\"and title pr",
    ] {
        assert_eq!(parse_filter(text).unwrap(), expected, "{text:?}");
    }
}

#[test]
fn operators_and_logical_keywords_are_case_insensitive() {
    assert_parses(r#"userName EQ "x""#, string_equals("userName", "x"));
    assert_parses(
        r#"title PR AND userName Eq "x" OR NOT (nickName Pr)"#,
        or(
            and(present("title"), string_equals("userName", "x")),
            not(present("nickName")),
        ),
    );
}

#[test]
fn attribute_names_keep_their_spelling() {
    let Filter::Present(parsed) = parse_filter("UserName pr").unwrap() else {
        panic!("expected a presence test");
    };
    assert_eq!(parsed.attribute, "UserName");
    assert!(parsed.eq_ignore_case(&path("userName")));
}

#[test]
fn keywords_are_attribute_names_where_an_attribute_is_expected() {
    assert_parses(r#"not eq "x""#, string_equals("not", "x"));
    assert_parses("and pr or or pr", or(present("and"), present("or")));
    assert_parses("not[pr pr]", value_path("not", present("pr")));
}

#[test]
fn value_filter_grammar_rejects_value_paths() {
    let limits = FilterLimits::default();
    assert_eq!(
        parse_value_filter_with(r#"type eq "work" and primary eq true"#, &limits).unwrap(),
        and(
            string_equals("type", "work"),
            compare(
                "primary",
                CompareOperator::Equal,
                ComparisonValue::Boolean(true)
            )
        )
    );
    let error = parse_value_filter_with(r#"x[type eq "work"]"#, &limits).unwrap_err();
    assert_eq!((error.kind, error.position), (FilterErrorKind::Syntax, 1));
}
