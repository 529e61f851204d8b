//! The PATCH `path` grammar of RFC 7644 §3.5.2, `PATH = attrPath / valuePath [subAttr]`:
//! `members`, `name.familyName`, `emails[type eq "work"].value`, or a schema-qualified
//! `urn:…:enterprise:2.0:User:manager`. Only the outer shape is handled here; the attribute
//! path and the bracketed filter are handed to the filter module, so a PATCH path and a
//! `filter` query parameter can never disagree about what an attribute name or a filter is.

use std::fmt;

use crate::error::{ScimError, quote_client_text};
use crate::filter::{
    AttributePath, Filter, FilterError, FilterLimits, outside_string_literals,
    parse_value_filter_with,
};

/// Longest accepted `path`, in bytes, checked before any parsing. It matches the filter
/// length limit, so any value filter the filter parser would take also fits in a path.
pub const MAX_PATH_LENGTH_BYTES: usize = 4096;

/// Longest piece of a client's path echoed back in an error message.
const MAX_QUOTED_CHARACTERS: usize = 80;

/// A parsed PATCH path.
///
/// Exactly one of two shapes: without `value_filter`, `attribute` may carry a sub-attribute
/// (`name.familyName`) and `sub_attribute` is `None`; with `value_filter`, `attribute` has no
/// sub-attribute and the one after the brackets (`emails[…].value`) is in `sub_attribute`.
/// Names keep the client's spelling; comparisons elsewhere ignore case (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    pub attribute: AttributePath,
    /// The `valFilter` between the brackets; its attribute paths are relative to one value
    /// of `attribute` (`type` in `emails[type eq "work"]` means `emails.type`).
    pub value_filter: Option<Filter>,
    pub sub_attribute: Option<String>,
}

impl PatchPath {
    /// The sub-attribute the path ends in, whichever of the two shapes it has.
    pub fn target_sub_attribute(&self) -> Option<&str> {
        self.sub_attribute
            .as_deref()
            .or(self.attribute.sub_attribute.as_deref())
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.attribute)?;
        if let Some(filter) = &self.value_filter {
            write!(formatter, "[{filter}]")?;
        }
        if let Some(sub_attribute) = &self.sub_attribute {
            write!(formatter, ".{sub_attribute}")?;
        }
        Ok(())
    }
}

/// Parses a PATCH `path`. Errors are `invalidPath`, except a malformed bracketed filter,
/// which is `invalidFilter` because that is what RFC 7644 §3.12 calls a bad filter.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, ScimError> {
    if text.len() > MAX_PATH_LENGTH_BYTES {
        return Err(ScimError::invalid_path(format!(
            "PATCH path is {} bytes long; at most {MAX_PATH_LENGTH_BYTES} bytes are accepted",
            text.len()
        )));
    }
    let path = unwrap_quotes(text.trim());
    if path.is_empty() {
        return Err(ScimError::invalid_path("PATCH path is empty"));
    }
    let Some(open_index) = path.find('[') else {
        return Ok(PatchPath {
            attribute: parse_attribute(path, text)?,
            value_filter: None,
            sub_attribute: None,
        });
    };
    let attribute = parse_attribute(&path[..open_index], text)?;
    if let Some(sub_attribute) = &attribute.sub_attribute {
        return Err(ScimError::invalid_path(format!(
            "invalid PATCH path {}: a value filter applies to a multi-valued attribute, not to \
             the sub-attribute {sub_attribute:?}",
            quote(text)
        )));
    }
    let close_index = matching_bracket(path, open_index).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "invalid PATCH path {}: the \"[\" at offset {open_index} is never closed",
            quote(text)
        ))
    })?;
    let filter_text = &path[open_index + 1..close_index];
    let value_filter = parse_value_filter_with(filter_text, &FilterLimits::default())
        .map_err(|error| filter_error(text, &error))?;
    let sub_attribute = parse_trailing_sub_attribute(&path[close_index + 1..], text)?;
    Ok(PatchPath {
        attribute,
        value_filter: Some(value_filter),
        sub_attribute,
    })
}

/// Entra ID has been seen to send a path wrapped in its own JSON quotes (`"\"members\""`).
/// No valid path starts with a quote, so one enclosing pair can be dropped safely.
fn unwrap_quotes(path: &str) -> &str {
    path.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .map_or(path, str::trim)
}

fn parse_attribute(attribute_text: &str, full_text: &str) -> Result<AttributePath, ScimError> {
    if attribute_text.is_empty() {
        return Err(ScimError::invalid_path(format!(
            "invalid PATCH path {}: expected an attribute name before \"[\"",
            quote(full_text)
        )));
    }
    AttributePath::parse(attribute_text).map_err(|error| {
        ScimError::invalid_path(format!(
            "invalid PATCH path {}: {}",
            quote(full_text),
            error.message()
        ))
    })
}

/// The offset of the `]` that closes the `[` at `open_index`. Brackets inside JSON string
/// literals do not count (`members[value eq "a]b"]`), and nested brackets are paired so the
/// filter parser, not this scan, gets to explain why nesting is not allowed.
fn matching_bracket(path: &str, open_index: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, byte) in outside_string_literals(&path[open_index..]) {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open_index + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// What may follow `]`: nothing, or `.subAttr`.
fn parse_trailing_sub_attribute(rest: &str, full_text: &str) -> Result<Option<String>, ScimError> {
    if rest.is_empty() {
        return Ok(None);
    }
    let invalid = |what: &str| {
        ScimError::invalid_path(format!(
            "invalid PATCH path {}: {what} after the value filter, found {}",
            quote(full_text),
            quote(rest)
        ))
    };
    let Some(sub_attribute) = rest.strip_prefix('.') else {
        return Err(invalid(
            "expected the end of the path or \".\" and a sub-attribute",
        ));
    };
    // Reuse the attribute-name rules by parsing the name as a one-word attribute path.
    match AttributePath::parse(sub_attribute) {
        Ok(parsed) if parsed.schema_urn.is_none() && parsed.sub_attribute.is_none() => {
            Ok(Some(parsed.attribute))
        }
        _ => Err(invalid("expected a single sub-attribute name")),
    }
}

fn filter_error(full_text: &str, error: &FilterError) -> ScimError {
    let detail = format!(
        "invalid value filter in PATCH path {}: {} (offsets count from the character after \
         \"[\")",
        quote(full_text),
        error.message()
    );
    ScimError::invalid_filter(detail)
}

/// Quotes client input for an error message, escaped and cut short so a hostile path cannot
/// flood logs or break the message onto several lines.
fn quote(text: &str) -> String {
    quote_client_text(text, MAX_QUOTED_CHARACTERS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::filter::{CompareOperator, ComparisonValue};

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn attribute(schema_urn: Option<&str>, name: &str, sub: Option<&str>) -> AttributePath {
        AttributePath {
            schema_urn: schema_urn.map(str::to_owned),
            attribute: name.to_owned(),
            sub_attribute: sub.map(str::to_owned),
        }
    }

    fn equals(name: &str, value: &str) -> Filter {
        Filter::Compare {
            path: attribute(None, name, None),
            operator: CompareOperator::Equal,
            value: ComparisonValue::String(value.to_owned()),
        }
    }

    fn scim_type(text: &str) -> Option<ScimType> {
        parse_patch_path(text).unwrap_err().scim_type
    }

    #[test]
    fn plain_attribute_parses() {
        let path = parse_patch_path("members").unwrap();
        assert_eq!(path.attribute, attribute(None, "members", None));
        assert_eq!(path.value_filter, None);
        assert_eq!(path.sub_attribute, None);
    }

    #[test]
    fn sub_attribute_stays_on_the_attribute_path() {
        let path = parse_patch_path("name.familyName").unwrap();
        assert_eq!(path.attribute, attribute(None, "name", Some("familyName")));
        assert_eq!(path.sub_attribute, None);
        assert_eq!(path.target_sub_attribute(), Some("familyName"));
    }

    #[test]
    fn value_filter_is_parsed_by_the_filter_module() {
        let path = parse_patch_path(r#"emails[type eq "work"]"#).unwrap();
        assert_eq!(path.attribute, attribute(None, "emails", None));
        assert_eq!(path.value_filter, Some(equals("type", "work")));
        assert_eq!(path.sub_attribute, None);
    }

    #[test]
    fn value_filter_followed_by_a_sub_attribute() {
        let path = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(path.attribute, attribute(None, "emails", None));
        assert_eq!(path.value_filter, Some(equals("type", "work")));
        assert_eq!(path.sub_attribute.as_deref(), Some("value"));
        assert_eq!(path.target_sub_attribute(), Some("value"));
    }

    #[test]
    fn rfc_member_filter_parses() {
        let path = parse_patch_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#)
            .unwrap();
        assert_eq!(path.attribute.attribute, "members");
        assert_eq!(
            path.value_filter,
            Some(equals("value", "2819c223-7f76-453a-919d-413861904646"))
        );
    }

    #[test]
    fn rfc_member_filter_without_a_space_before_the_quote_parses() {
        // RFC 7644 §3.5.2.2 itself writes `members[value eq"2819c223-…"]`.
        let path =
            parse_patch_path(r#"members[value eq"2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
        assert_eq!(
            path.value_filter,
            Some(equals("value", "2819c223-7f76-453a-919d-413861904646"))
        );
    }

    #[test]
    fn complex_filters_and_rfc_address_paths_parse() {
        let path =
            parse_patch_path(r#"emails[type eq "work" and value ew "example.com"]"#).unwrap();
        assert!(matches!(path.value_filter, Some(Filter::And(_, _))));
        let path = parse_patch_path(r#"addresses[type eq "work"].streetAddress"#).unwrap();
        assert_eq!(path.sub_attribute.as_deref(), Some("streetAddress"));
    }

    #[test]
    fn enterprise_extension_attributes_keep_their_schema_urn() {
        let path = parse_patch_path(&format!("{ENTERPRISE}:manager")).unwrap();
        assert_eq!(path.attribute, attribute(Some(ENTERPRISE), "manager", None));
        let path = parse_patch_path(&format!("{ENTERPRISE}:employeeNumber")).unwrap();
        assert_eq!(
            path.attribute,
            attribute(Some(ENTERPRISE), "employeeNumber", None)
        );
        let path = parse_patch_path(&format!("{ENTERPRISE}:manager.value")).unwrap();
        assert_eq!(
            path.attribute,
            attribute(Some(ENTERPRISE), "manager", Some("value"))
        );
    }

    #[test]
    fn schema_qualified_value_path_parses() {
        let text = r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value"#;
        let path = parse_patch_path(text).unwrap();
        assert_eq!(
            path.attribute,
            attribute(
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "emails",
                None
            )
        );
        assert_eq!(path.sub_attribute.as_deref(), Some("value"));
    }

    #[test]
    fn capitalised_names_keep_the_client_spelling() {
        // Entra ID and hand-written scripts send `Members`, `Emails[Type eq "work"].Value`;
        // attribute names are case-insensitive, so they are accepted and matched later.
        let path = parse_patch_path(r#"Emails[Type EQ "work"].Value"#).unwrap();
        assert_eq!(path.attribute.attribute, "Emails");
        assert_eq!(path.sub_attribute.as_deref(), Some("Value"));
        let path = parse_patch_path(&format!("{}:Manager", ENTERPRISE.to_uppercase())).unwrap();
        assert_eq!(path.attribute.attribute, "Manager");
    }

    #[test]
    fn a_path_wrapped_in_quotes_or_whitespace_is_unwrapped() {
        // Seen from Entra ID: the path arrives with its own JSON quotes still on.
        assert_eq!(
            parse_patch_path("\"members\"").unwrap().attribute.attribute,
            "members"
        );
        let path = parse_patch_path(&format!(" \"{ENTERPRISE}:manager\" ")).unwrap();
        assert_eq!(path.attribute, attribute(Some(ENTERPRISE), "manager", None));
    }

    #[test]
    fn brackets_inside_filter_strings_do_not_close_the_filter() {
        let path = parse_patch_path(r#"members[value eq "a]b\"]"].display"#).unwrap();
        assert_eq!(path.value_filter, Some(equals("value", "a]b\"]")));
        assert_eq!(path.sub_attribute.as_deref(), Some("display"));
    }

    #[test]
    fn display_round_trips_through_the_parser() {
        for text in [
            "members",
            "name.familyName",
            r#"emails[type eq "work"].value"#,
            r#"members[value eq "2819c223"]"#,
        ] {
            let path = parse_patch_path(text).unwrap();
            assert_eq!(path.to_string(), text);
            assert_eq!(parse_patch_path(&path.to_string()).unwrap(), path);
        }
    }

    #[test]
    fn empty_and_blank_paths_are_invalid() {
        for text in ["", "   ", "\"\""] {
            let error = parse_patch_path(text).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{text:?}");
            assert_eq!(error.detail, "PATCH path is empty");
        }
    }

    #[test]
    fn over_long_paths_are_rejected_before_parsing() {
        let text = format!(
            "members[value eq \"{}\"]",
            "x".repeat(MAX_PATH_LENGTH_BYTES)
        );
        let error = parse_patch_path(&text).unwrap_err();
        error.assert_mentions(ScimType::InvalidPath, "at most 4096 bytes");
    }

    #[test]
    fn unbalanced_brackets_are_invalid_paths() {
        let error = parse_patch_path(r#"emails[type eq "work""#).unwrap_err();
        error.assert_mentions(ScimType::InvalidPath, "never closed");
        assert_eq!(
            scim_type(r#"emails[type eq "work]"#),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(scim_type("emails]"), Some(ScimType::InvalidPath));
    }

    #[test]
    fn trailing_garbage_after_the_filter_is_an_invalid_path() {
        for text in [
            r#"emails[type eq "work"]value"#,
            r#"emails[type eq "work"] .value"#,
            r#"emails[type eq "work"].value.more"#,
            r#"emails[type eq "work"]."#,
            r#"emails[type eq "work"][primary eq true]"#,
            r#"emails[type eq "work"].urn:x:y"#,
        ] {
            let error = parse_patch_path(text).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{text}");
            assert!(
                error.detail.contains("after the value filter"),
                "{}",
                error.detail
            );
        }
    }

    #[test]
    fn malformed_attribute_names_are_invalid_paths() {
        for text in [
            "9lives",
            "name.",
            ".name",
            "name.given.family",
            "na me",
            "[type eq 1]",
        ] {
            assert_eq!(scim_type(text), Some(ScimType::InvalidPath), "{text}");
        }
    }

    #[test]
    fn a_filter_on_a_sub_attribute_is_an_invalid_path() {
        let error = parse_patch_path(r#"name.givenName[value eq "x"]"#).unwrap_err();
        error.assert_mentions(ScimType::InvalidPath, "givenName");
    }

    #[test]
    fn filter_errors_surface_as_invalid_filter_naming_the_path() {
        for text in [
            r#"emails[type zz "work"]"#,
            "emails[]",
            r#"emails[type eq "work" and]"#,
            r#"emails[type eq "unterminated]"#,
            r#"emails[type eq "work" and phones[type pr]]"#,
        ] {
            let error = parse_patch_path(text).unwrap_err();
            let expected = if text.contains("unterminated") {
                ScimType::InvalidPath
            } else {
                ScimType::InvalidFilter
            };
            assert_eq!(error.scim_type, Some(expected), "{text}: {}", error.detail);
            assert!(error.detail.contains("emails["), "{}", error.detail);
        }
    }

    #[test]
    fn error_messages_quote_long_input_briefly() {
        let text = format!("{}!", "a".repeat(500));
        let error = parse_patch_path(&text).unwrap_err();
        assert!(error.detail.len() < 400, "{}", error.detail);
        assert!(error.detail.contains('…'));
    }
}
