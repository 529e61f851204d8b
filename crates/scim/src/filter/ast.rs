//! The parsed form of a SCIM filter (RFC 7644 §3.4.2.2) that the rest of Gatehouse works with:
//! schema validation walks its attribute paths and the store compiles it to SQL. It holds
//! decoded values only; grouping parentheses leave no node behind, because the tree shape
//! already says how terms group. `Display` (in `display.rs`) turns it back into filter text.

use serde_json::Number;

use super::attribute_path::AttributePath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attrPath compareOp compValue`, e.g. `userName eq "bjensen"`.
    Compare {
        path: AttributePath,
        operator: CompareOperator,
        value: ComparisonValue,
    },
    /// `attrPath pr`: the attribute has a non-empty value.
    Present(AttributePath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attribute[filter]`: some value of the multi-valued complex `attribute` matches
    /// `filter`, whose paths are relative to that value. The grammar forbids nesting, so
    /// `filter` never contains another `ValuePath`.
    ValuePath {
        attribute: AttributePath,
        filter: Box<Filter>,
    },
}

/// The binary attribute operators; `pr` is `Filter::Present` because it takes no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOperator {
    Equal,
    NotEqual,
    Contains,
    StartsWith,
    EndsWith,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
}

impl CompareOperator {
    pub const ALL: [Self; 9] = [
        Self::Equal,
        Self::NotEqual,
        Self::Contains,
        Self::StartsWith,
        Self::EndsWith,
        Self::GreaterThan,
        Self::GreaterOrEqual,
        Self::LessThan,
        Self::LessOrEqual,
    ];

    /// The operator for a filter keyword, which RFC 7644 makes case-insensitive (`eq`, `EQ`).
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operator| operator.keyword().eq_ignore_ascii_case(keyword))
    }

    /// The canonical lower-case keyword: `eq`, `ne`, `co`, `sw`, `ew`, `gt`, `ge`, `lt`, `le`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Equal => "eq",
            Self::NotEqual => "ne",
            Self::Contains => "co",
            Self::StartsWith => "sw",
            Self::EndsWith => "ew",
            Self::GreaterThan => "gt",
            Self::GreaterOrEqual => "ge",
            Self::LessThan => "lt",
            Self::LessOrEqual => "le",
        }
    }

    /// `co`, `sw` and `ew`: substring tests, which only strings (and references) support.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Contains | Self::StartsWith | Self::EndsWith)
    }

    /// `gt`, `ge`, `lt` and `le`: comparisons that need an ordered type.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Self::GreaterThan | Self::GreaterOrEqual | Self::LessThan | Self::LessOrEqual
        )
    }
}

/// A `compValue`: a JSON `false`, `null`, `true`, number or string. Date-times arrive as
/// strings; interpreting them needs the attribute's schema type, which the grammar lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComparisonValue {
    /// The decoded string (escapes already resolved).
    String(String),
    Number(Number),
    Boolean(bool),
    Null,
}

/// One attribute path in a filter together with the value path it sits in, if any: inside
/// `emails[type eq "work"]` the path `type` means `emails.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeReference<'filter> {
    /// The enclosing value path's attribute (`emails`), or `None` at the top level.
    pub value_path: Option<&'filter AttributePath>,
    pub path: &'filter AttributePath,
}

impl Filter {
    /// Every attribute path in the filter, left to right, value-path attributes included
    /// (before the paths inside them). Used to check names against the schema before the
    /// filter is compiled.
    pub fn attribute_paths(&self) -> Vec<&AttributePath> {
        self.attribute_references()
            .into_iter()
            .map(|reference| reference.path)
            .collect()
    }

    /// Like `attribute_paths`, but says which value path each path is relative to.
    pub fn attribute_references(&self) -> Vec<AttributeReference<'_>> {
        let mut references = Vec::new();
        // An explicit stack rather than recursion: filters built in code are not bound by
        // the parser's depth limit. Right children go on first so output is left to right.
        let mut pending: Vec<(&Filter, Option<&AttributePath>)> = vec![(self, None)];
        while let Some((filter, value_path)) = pending.pop() {
            match filter {
                Filter::Compare { path, .. } | Filter::Present(path) => {
                    references.push(AttributeReference { value_path, path });
                }
                Filter::And(left, right) | Filter::Or(left, right) => {
                    pending.push((right, value_path));
                    pending.push((left, value_path));
                }
                Filter::Not(inner) => pending.push((inner, value_path)),
                Filter::ValuePath { attribute, filter } => {
                    references.push(AttributeReference {
                        value_path,
                        path: attribute,
                    });
                    pending.push((filter, Some(attribute)));
                }
            }
        }
        references
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    #[test]
    fn operator_keywords_are_case_insensitive_and_round_trip() {
        for operator in CompareOperator::ALL {
            assert_eq!(
                CompareOperator::from_keyword(operator.keyword()),
                Some(operator)
            );
            let shouted = operator.keyword().to_ascii_uppercase();
            assert_eq!(CompareOperator::from_keyword(&shouted), Some(operator));
        }
        assert_eq!(
            CompareOperator::from_keyword("Sw"),
            Some(CompareOperator::StartsWith)
        );
        assert_eq!(CompareOperator::from_keyword("pr"), None);
        assert_eq!(CompareOperator::from_keyword("equals"), None);
    }

    #[test]
    fn attribute_paths_are_listed_left_to_right_with_value_path_attributes_first() {
        let filter = parse_filter(
            r#"userType eq "Employee" and not (title pr) or emails[type eq "work" and value co "@x"]"#,
        )
        .unwrap();
        let paths: Vec<String> = filter
            .attribute_paths()
            .into_iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(paths, ["userType", "title", "emails", "type", "value"]);
    }

    #[test]
    fn attribute_references_say_which_value_path_a_path_is_relative_to() {
        let filter = parse_filter(r#"emails[type eq "work"] and type pr"#).unwrap();
        let references: Vec<(Option<String>, String)> = filter
            .attribute_references()
            .into_iter()
            .map(|reference| {
                (
                    reference.value_path.map(ToString::to_string),
                    reference.path.to_string(),
                )
            })
            .collect();
        assert_eq!(
            references,
            [
                (None, "emails".to_owned()),
                (Some("emails".to_owned()), "type".to_owned()),
                (None, "type".to_owned()),
            ]
        );
    }
}
