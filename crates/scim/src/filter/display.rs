//! Renders a `Filter` as canonical filter text: lower-case keywords, single spaces, JSON
//! literals re-encoded, and parentheses only where the tree needs them. The guarantee is that
//! the text parses back to an equal `Filter`, so a filter can be logged, put in a `next` link
//! or forwarded to another SCIM service without changing its meaning. Parentheses are needed
//! for an `or` under an `and`, and for a right operand of the same operator, since `and` and
//! `or` are left-associative and `a and (b and c)` is a different tree from `a and b and c`.

use std::fmt;

use super::ast::{CompareOperator, ComparisonValue, Filter};
use super::literal::write_json_string;

impl fmt::Display for CompareOperator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.keyword())
    }
}

impl fmt::Display for ComparisonValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => write_json_string(formatter, text),
            Self::Number(number) => write!(formatter, "{number}"),
            Self::Boolean(value) => write!(formatter, "{value}"),
            Self::Null => formatter.write_str("null"),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare {
                path,
                operator,
                value,
            } => write!(formatter, "{path} {operator} {value}"),
            Self::Present(path) => write!(formatter, "{path} pr"),
            Self::Not(inner) => write!(formatter, "not ({inner})"),
            Self::ValuePath { attribute, filter } => write!(formatter, "{attribute}[{filter}]"),
            Self::And(left, right) => {
                write_operand(formatter, left, matches!(**left, Self::Or(..)))?;
                formatter.write_str(" and ")?;
                write_operand(
                    formatter,
                    right,
                    matches!(**right, Self::And(..) | Self::Or(..)),
                )
            }
            Self::Or(left, right) => {
                write_operand(formatter, left, false)?;
                formatter.write_str(" or ")?;
                write_operand(formatter, right, matches!(**right, Self::Or(..)))
            }
        }
    }
}

fn write_operand(
    formatter: &mut fmt::Formatter<'_>,
    operand: &Filter,
    needs_parentheses: bool,
) -> fmt::Result {
    if needs_parentheses {
        write!(formatter, "({operand})")
    } else {
        write!(formatter, "{operand}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{AttributePath, parse_filter};

    /// Every example filter in RFC 7644 §3.4.2.2, Figure 2 (without the `filter=` prefix).
    const RFC_7644_EXAMPLE_FILTERS: [&str; 17] = [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ];

    fn assert_round_trips(text: &str) -> String {
        let parsed = parse_filter(text).unwrap_or_else(|error| panic!("{text}: {error}"));
        let rendered = parsed.to_string();
        let reparsed =
            parse_filter(&rendered).unwrap_or_else(|error| panic!("{rendered}: {error}"));
        assert_eq!(reparsed, parsed, "{text} rendered as {rendered}");
        assert_eq!(
            reparsed.to_string(),
            rendered,
            "rendering should be a fixed point"
        );
        rendered
    }

    #[test]
    fn every_rfc_example_filter_round_trips_through_display() {
        for text in RFC_7644_EXAMPLE_FILTERS {
            assert_round_trips(text);
        }
    }

    #[test]
    fn canonical_rfc_examples_render_exactly_as_written() {
        // Only the redundant grouping in `… and (emails.type eq "work")` is dropped.
        for text in RFC_7644_EXAMPLE_FILTERS {
            let expected = text.replace(r#"(emails.type eq "work")"#, r#"emails.type eq "work""#);
            assert_eq!(assert_round_trips(text), expected);
        }
    }

    #[test]
    fn rendering_normalises_case_whitespace_and_redundant_parentheses() {
        assert_eq!(
            assert_round_trips("  ((userName   EQ\t\"x\"))  AND  NOT(title PR) "),
            r#"userName eq "x" and not (title pr)"#
        );
    }

    #[test]
    fn parentheses_are_kept_where_the_tree_needs_them() {
        for text in [
            r#"a pr and (b pr or c pr)"#,
            r#"(a pr or b pr) and c pr"#,
            r#"a pr and (b pr and c pr)"#,
            r#"a pr or (b pr or c pr)"#,
            r#"not (a pr or b pr) and c pr"#,
            r#"x[a pr and (b pr or c pr)] or (y pr or z pr)"#,
        ] {
            assert_eq!(assert_round_trips(text), text);
        }
        assert_eq!(
            assert_round_trips("(a pr and b pr) or c pr"),
            "a pr and b pr or c pr"
        );
        assert_eq!(
            assert_round_trips("(a pr and b pr) and c pr"),
            "a pr and b pr and c pr"
        );
    }

    #[test]
    fn values_are_rendered_as_json_literals() {
        assert_eq!(
            assert_round_trips(r#"a eq "q\"b\\s\/\u00e9\n\uD83D\uDE00""#),
            "a eq \"q\\\"b\\\\s/é\\n😀\""
        );
        assert_eq!(assert_round_trips("a eq -1"), "a eq -1");
        assert_eq!(assert_round_trips("a gt 3.5e2"), "a gt 350.0");
        assert_eq!(
            assert_round_trips("a eq true or b eq false"),
            "a eq true or b eq false"
        );
        assert_eq!(assert_round_trips("a ne null"), "a ne null");
    }

    #[test]
    fn attribute_names_that_are_also_keywords_round_trip() {
        for text in [
            r#"not eq "x""#,
            r#"and pr or or eq 1"#,
            r#"not[pr pr] and not (eq pr)"#,
        ] {
            assert_eq!(assert_round_trips(text), text);
        }
    }

    #[test]
    fn filters_built_in_code_render_too() {
        let filter = Filter::Not(Box::new(Filter::Compare {
            path: AttributePath::parse("meta.resourceType").unwrap(),
            operator: CompareOperator::Equal,
            value: ComparisonValue::String("Group".to_owned()),
        }));
        assert_eq!(filter.to_string(), r#"not (meta.resourceType eq "Group")"#);
    }
}
