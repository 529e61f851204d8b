//! `AttributePath`, the RFC 7644 `attrPath = [URI ":"] ATTRNAME *1subAttr` that names what a
//! filter term tests, and the rules for spelling one. Names keep the client's spelling (it is
//! echoed in errors and in `Display`), while comparison goes through `eq_ignore_case` or
//! `normalized_key`, because RFC 7643 §2.1 makes attribute names case-insensitive and SCIM
//! clients do send `username` and `UserName` for `userName`.

use std::fmt;
use std::str::FromStr;

use super::error::{FilterError, quote_input};

/// A possibly schema-qualified attribute with at most one sub-attribute:
/// `userName`, `name.familyName`, `urn:ietf:params:scim:schemas:core:2.0:User:userName`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, `members.$ref`.
///
/// The schema URN is everything before the last `:`, so a bare extension URN such as
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` reads as schema `…:2.0` plus
/// attribute `User`; telling those apart needs the schema registry, not the grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttributePath {
    pub schema_urn: Option<String>,
    pub attribute: String,
    pub sub_attribute: Option<String>,
}

impl AttributePath {
    /// Parses a complete attribute path such as `name.familyName`.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        Self::parse_at(text, 0)
    }

    /// Parses `text`, which was found at byte `offset` of a larger filter, so that error
    /// positions point into that filter.
    pub(crate) fn parse_at(text: &str, offset: usize) -> Result<Self, FilterError> {
        let (schema_urn, unqualified, unqualified_offset) = match text.rfind(':') {
            Some(colon_index) => {
                let schema_urn = &text[..colon_index];
                if !is_schema_uri(schema_urn) {
                    return Err(FilterError::syntax(
                        offset,
                        format!(
                            "invalid schema URI {} at offset {offset} in attribute path {}",
                            quote_input(schema_urn),
                            quote_input(text)
                        ),
                    ));
                }
                (
                    Some(schema_urn.to_owned()),
                    &text[colon_index + 1..],
                    offset + colon_index + 1,
                )
            }
            None => (None, text, offset),
        };
        let (attribute, sub_attribute) = match unqualified.split_once('.') {
            Some((attribute, sub_attribute)) => (attribute, Some(sub_attribute)),
            None => (unqualified, None),
        };
        check_attribute_name(attribute, unqualified_offset, "an attribute name")?;
        if let Some(sub_attribute) = sub_attribute {
            let sub_attribute_offset = unqualified_offset + attribute.len() + 1;
            if let Some(dot_index) = sub_attribute.find('.') {
                let dot_offset = sub_attribute_offset + dot_index;
                return Err(FilterError::syntax(
                    dot_offset,
                    format!(
                        "unexpected \".\" at offset {dot_offset} in attribute path {}: an \
                         attribute path has at most one sub-attribute",
                        quote_input(text)
                    ),
                ));
            }
            check_attribute_name(sub_attribute, sub_attribute_offset, "a sub-attribute name")?;
        }
        Ok(Self {
            schema_urn,
            attribute: attribute.to_owned(),
            sub_attribute: sub_attribute.map(str::to_owned),
        })
    }

    /// Whether both paths name the same attribute, ignoring ASCII case as RFC 7643 §2.1 asks
    /// for attribute names (and as SCIM implementations do for schema URNs).
    pub fn eq_ignore_case(&self, other: &Self) -> bool {
        fn same(left: Option<&str>, right: Option<&str>) -> bool {
            match (left, right) {
                (Some(left), Some(right)) => left.eq_ignore_ascii_case(right),
                (None, None) => true,
                _ => false,
            }
        }
        same(self.schema_urn.as_deref(), other.schema_urn.as_deref())
            && self.attribute.eq_ignore_ascii_case(&other.attribute)
            && same(
                self.sub_attribute.as_deref(),
                other.sub_attribute.as_deref(),
            )
    }

    /// The path in lower case (`urn:…:user:name.familyname`), for use as a map key when
    /// looking attributes up case-insensitively.
    pub fn normalized_key(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema_urn) = &self.schema_urn {
            write!(formatter, "{schema_urn}:")?;
        }
        formatter.write_str(&self.attribute)?;
        if let Some(sub_attribute) = &self.sub_attribute {
            write!(formatter, ".{sub_attribute}")?;
        }
        Ok(())
    }
}

impl FromStr for AttributePath {
    type Err = FilterError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// RFC 7643 §2.1: `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`,
/// plus the reserved `$ref` that §7 uses for reference sub-attributes.
pub(crate) fn is_attribute_name(name: &str) -> bool {
    if name.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && characters.all(|rest| rest.is_ascii_alphanumeric() || rest == '-' || rest == '_')
}

fn check_attribute_name(name: &str, offset: usize, what: &str) -> Result<(), FilterError> {
    if name.is_empty() {
        return Err(FilterError::syntax(
            offset,
            format!("expected {what} at offset {offset}"),
        ));
    }
    if !is_attribute_name(name) {
        return Err(FilterError::syntax(
            offset,
            format!(
                "invalid attribute name {} at offset {offset}: expected {what}, which starts \
                 with a letter and continues with letters, digits, \"-\" or \"_\" (or is \"$ref\")",
                quote_input(name)
            ),
        ));
    }
    Ok(())
}

/// A URI as far as a schema prefix needs one: an RFC 3986 scheme (`ALPHA *(ALPHA / DIGIT /
/// "+" / "-" / ".")`), a colon, and only URI characters after it. Brackets and parentheses
/// are excluded even though URIs may contain them, since they delimit filter syntax.
fn is_schema_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_characters = scheme.chars();
    let scheme_is_valid = scheme_characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && scheme_characters
            .all(|rest| rest.is_ascii_alphanumeric() || matches!(rest, '+' | '-' | '.'));
    scheme_is_valid
        && !rest.is_empty()
        && rest.chars().all(|character| {
            character.is_ascii_alphanumeric() || "-._~:/?#@!$&'*+,;=%".contains(character)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FilterErrorKind;

    fn path(
        schema_urn: Option<&str>,
        attribute: &str,
        sub_attribute: Option<&str>,
    ) -> AttributePath {
        AttributePath {
            schema_urn: schema_urn.map(str::to_owned),
            attribute: attribute.to_owned(),
            sub_attribute: sub_attribute.map(str::to_owned),
        }
    }

    /// Asserts that `text` parses to `expected`.
    #[track_caller]
    fn assert_parses(text: &str, expected: AttributePath) {
        assert_eq!(AttributePath::parse(text).unwrap(), expected, "{text:?}");
    }

    #[test]
    fn simple_and_sub_attribute_paths_parse() {
        assert_parses("userName", path(None, "userName", None));
        assert_parses("name.familyName", path(None, "name", Some("familyName")));
        assert_parses(
            "meta.lastModified",
            path(None, "meta", Some("lastModified")),
        );
        assert_parses(
            "x-custom_attribute2",
            path(None, "x-custom_attribute2", None),
        );
    }

    #[test]
    fn reference_attribute_is_accepted_as_attribute_or_sub_attribute() {
        assert_parses("$ref", path(None, "$ref", None));
        assert_parses("members.$ref", path(None, "members", Some("$ref")));
        assert!(AttributePath::parse("$other").is_err());
    }

    #[test]
    fn schema_qualified_paths_split_at_the_last_colon() {
        assert_parses(
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            path(
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "userName",
                None,
            ),
        );
        assert_parses(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            path(
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                "manager",
                Some("value"),
            ),
        );
    }

    #[test]
    fn display_reproduces_the_original_spelling() {
        for text in [
            "userName",
            "NAME.FamilyName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref",
        ] {
            assert_eq!(AttributePath::parse(text).unwrap().to_string(), text);
            assert_eq!(text.parse::<AttributePath>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn comparison_ignores_case_but_not_structure() {
        let original =
            AttributePath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName")
                .unwrap();
        let shouted =
            AttributePath::parse("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:NAME.FAMILYNAME")
                .unwrap();
        assert!(original.eq_ignore_case(&shouted));
        assert_ne!(original, shouted);
        assert_eq!(original.normalized_key(), shouted.normalized_key());
        assert_eq!(
            original.normalized_key(),
            "urn:ietf:params:scim:schemas:core:2.0:user:name.familyname"
        );
        let unqualified = AttributePath::parse("name.familyName").unwrap();
        assert!(!original.eq_ignore_case(&unqualified));
        let without_sub_attribute = AttributePath::parse("name").unwrap();
        assert!(!unqualified.eq_ignore_case(&without_sub_attribute));
    }

    #[test]
    fn invalid_names_are_syntax_errors_at_the_offending_part() {
        let cases = [
            ("1name", 0),
            ("name.", 5),
            (".name", 0),
            ("name.family.given", 11),
            ("na*me", 0),
            ("name.fam ily", 5),
            ("urn:x:", 6),
            (":userName", 0),
            ("userName:", 0),
            ("1urn:x:userName", 0),
            ("urn:x:user:na%me", 11),
        ];
        for (text, expected_position) in cases {
            let error = AttributePath::parse(text).unwrap_err();
            assert_eq!(error.kind, FilterErrorKind::Syntax, "{text}");
            assert_eq!(error.position, expected_position, "{text}: {error}");
        }
    }

    #[test]
    fn errors_point_into_the_enclosing_filter() {
        let error = AttributePath::parse_at("name.1x", 20).unwrap_err();
        assert_eq!(error.position, 25);
        assert!(error.message().contains("at offset 25"), "{error}");
    }
}
