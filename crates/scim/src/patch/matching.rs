//! Evaluates a PATCH value filter (`emails[type eq "work"]`) against one value of a
//! multi-valued attribute, in memory. It only ever sees the values of one attribute of one
//! resource, so a straightforward tree walk is enough; filtering lists of resources is done
//! by the store in SQL and never comes here.
//!
//! Semantics follow RFC 7644 §3.4.2.2: strings compare ignoring case unless the attribute is
//! `caseExact`; a multi-valued sub-attribute matches when any of its values does; `ne` is the
//! negation of `eq`, so it also matches an absent attribute; ordering operators on booleans
//! or `null`, and substring operators on non-strings, are `invalidFilter`.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::object;
use super::rules::AttributeRules;
use crate::error::ScimError;
use crate::filter::{AttributePath, CompareOperator, ComparisonValue, Filter};

/// Whether `element`, one value of the multi-valued `attribute`, matches `filter`, whose
/// paths are relative to the element (`type`, not `emails.type`). For a simple multi-valued
/// attribute such as `schemas`, the element itself is its `value`.
pub fn matches(
    filter: &Filter,
    element: &Value,
    attribute: &AttributePath,
    rules: &dyn AttributeRules,
) -> Result<bool, ScimError> {
    match filter {
        Filter::And(left, right) => {
            Ok(matches(left, element, attribute, rules)?
                && matches(right, element, attribute, rules)?)
        }
        Filter::Or(left, right) => {
            Ok(matches(left, element, attribute, rules)?
                || matches(right, element, attribute, rules)?)
        }
        Filter::Not(inner) => Ok(!matches(inner, element, attribute, rules)?),
        Filter::Present(path) => Ok(lookup(element, path).into_iter().any(is_present)),
        Filter::Compare {
            path,
            operator,
            value,
        } => {
            check_operator_applies(*operator, value)?;
            let case_exact = rules.is_case_exact(&sub_attribute_path(attribute, path));
            let candidates = lookup(element, path);
            Ok(compare_any(&candidates, *operator, value, case_exact))
        }
        Filter::ValuePath {
            attribute: inner_attribute,
            filter: inner_filter,
        } => {
            // The PATCH grammar forbids nesting, but a filter built in code may nest; treat it
            // like RFC 7644 does at the top level: some value of the attribute must match.
            let nested = sub_attribute_path(attribute, inner_attribute);
            for candidate in lookup(element, inner_attribute) {
                if matches(inner_filter, candidate, &nested, rules)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// `emails` + `type` → `emails.type`, the path the rules are asked about.
fn sub_attribute_path(attribute: &AttributePath, relative: &AttributePath) -> AttributePath {
    AttributePath {
        schema_urn: attribute.schema_urn.clone(),
        attribute: attribute.attribute.clone(),
        sub_attribute: Some(relative.attribute.clone()),
    }
}

/// The values `path` names inside `element`, with arrays flattened so a multi-valued
/// sub-attribute contributes each of its values.
fn lookup<'element>(element: &'element Value, path: &AttributePath) -> Vec<&'element Value> {
    let Value::Object(members) = element else {
        // A simple multi-valued attribute's values have no sub-attributes; RFC 7644 calls
        // each of them `value`.
        let is_value = path.attribute.eq_ignore_ascii_case("value") && path.sub_attribute.is_none();
        return if is_value { vec![element] } else { Vec::new() };
    };
    let Some(found) = object::get(members, &path.attribute) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for value in flatten(found) {
        match &path.sub_attribute {
            None => values.push(value),
            Some(sub_attribute) => {
                if let Some(inner) = value
                    .as_object()
                    .and_then(|inner| object::get(inner, sub_attribute))
                {
                    values.extend(flatten(inner));
                }
            }
        }
    }
    values
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(values) => values.iter().collect(),
        other => vec![other],
    }
}

/// RFC 7644 §3.4.2.2 `pr`: a non-empty value.
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(values) => !values.is_empty(),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Operator and literal combinations RFC 7644 rejects outright, whatever the data holds.
fn check_operator_applies(
    operator: CompareOperator,
    value: &ComparisonValue,
) -> Result<(), ScimError> {
    let is_substring = operator.is_substring();
    let is_ordering = operator.is_ordering();
    let applies = match value {
        ComparisonValue::String(_) => true,
        ComparisonValue::Number(_) => !is_substring,
        ComparisonValue::Boolean(_) | ComparisonValue::Null => !is_substring && !is_ordering,
    };
    if applies {
        Ok(())
    } else {
        Err(ScimError::invalid_filter(format!(
            "the operator \"{}\" cannot compare with {value}",
            operator.keyword()
        )))
    }
}

fn compare_any(
    candidates: &[&Value],
    operator: CompareOperator,
    expected: &ComparisonValue,
    case_exact: bool,
) -> bool {
    if operator == CompareOperator::NotEqual {
        return !compare_any(candidates, CompareOperator::Equal, expected, case_exact);
    }
    if operator == CompareOperator::Equal && *expected == ComparisonValue::Null {
        // `eq null` asks for "no value", which an absent attribute has too (RFC 7643 §2.5).
        return candidates.iter().all(|candidate| candidate.is_null());
    }
    candidates
        .iter()
        .any(|candidate| compare_one(candidate, operator, expected, case_exact))
}

fn compare_one(
    actual: &Value,
    operator: CompareOperator,
    expected: &ComparisonValue,
    case_exact: bool,
) -> bool {
    match (actual, expected) {
        (Value::String(actual), ComparisonValue::String(expected)) => {
            compare_strings(actual, operator, expected, case_exact)
        }
        (Value::Number(actual), ComparisonValue::Number(expected)) => {
            compare_numbers(actual, expected).is_some_and(|ordering| holds(operator, ordering))
        }
        (Value::Bool(actual), ComparisonValue::Boolean(expected)) => {
            operator == CompareOperator::Equal && actual == expected
        }
        // Entra ID stores and sends booleans as "True"/"False" strings; compare them as such.
        (Value::String(actual), ComparisonValue::Boolean(expected)) => {
            operator == CompareOperator::Equal
                && actual.eq_ignore_ascii_case(if *expected { "true" } else { "false" })
        }
        _ => false,
    }
}

fn compare_strings(
    actual: &str,
    operator: CompareOperator,
    expected: &str,
    case_exact: bool,
) -> bool {
    let (actual, expected) = if case_exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (actual.to_lowercase(), expected.to_lowercase())
    };
    match operator {
        CompareOperator::Contains => actual.contains(&expected),
        CompareOperator::StartsWith => actual.starts_with(&expected),
        CompareOperator::EndsWith => actual.ends_with(&expected),
        // Date-times are ISO 8601 strings, which order correctly as text (RFC 7644 §3.4.2.2
        // "lexicographical" ordering for strings).
        _ => holds(operator, actual.cmp(&expected)),
    }
}

fn compare_numbers(actual: &Number, expected: &Number) -> Option<Ordering> {
    if let (Some(actual), Some(expected)) = (actual.as_i64(), expected.as_i64()) {
        return Some(actual.cmp(&expected));
    }
    if let (Some(actual), Some(expected)) = (actual.as_u64(), expected.as_u64()) {
        return Some(actual.cmp(&expected));
    }
    actual.as_f64()?.partial_cmp(&expected.as_f64()?)
}

fn holds(operator: CompareOperator, ordering: Ordering) -> bool {
    match operator {
        CompareOperator::Equal => ordering == Ordering::Equal,
        CompareOperator::NotEqual => ordering != Ordering::Equal,
        CompareOperator::GreaterThan => ordering == Ordering::Greater,
        CompareOperator::GreaterOrEqual => ordering != Ordering::Less,
        CompareOperator::LessThan => ordering == Ordering::Less,
        CompareOperator::LessOrEqual => ordering != Ordering::Greater,
        // Substring operators only apply to strings and are handled in `compare_strings`.
        CompareOperator::Contains | CompareOperator::StartsWith | CompareOperator::EndsWith => {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::filter::FilterLimits;
    use crate::filter::parse_value_filter_with;
    use crate::patch::test_support::TestRules;
    use serde_json::json;

    fn check(filter: &str, element: Value) -> Result<bool, ScimError> {
        let filter = parse_value_filter_with(filter, &FilterLimits::default()).unwrap();
        let emails = AttributePath::parse("emails").unwrap();
        matches(&filter, &element, &emails, &TestRules)
    }

    fn work_email() -> Value {
        json!({"value": "Babs@Example.com", "type": "work", "primary": true, "rank": 3})
    }

    #[test]
    fn equality_ignores_case_for_case_insensitive_attributes() {
        assert!(check(r#"type eq "WORK""#, work_email()).unwrap());
        assert!(check(r#"value eq "babs@example.com""#, work_email()).unwrap());
        assert!(!check(r#"type eq "home""#, work_email()).unwrap());
    }

    #[test]
    fn equality_is_exact_for_case_exact_attributes() {
        let filter =
            parse_value_filter_with(r#"value eq "ABC""#, &FilterLimits::default()).unwrap();
        let members = AttributePath::parse("members").unwrap();
        let element = json!({"value": "abc"});
        assert!(!matches(&filter, &element, &members, &TestRules).unwrap());
        let element = json!({"value": "ABC"});
        assert!(matches(&filter, &element, &members, &TestRules).unwrap());
    }

    #[test]
    fn attribute_names_in_filters_ignore_case() {
        assert!(check(r#"TYPE eq "work""#, work_email()).unwrap());
        assert!(check(r#"type eq "work""#, json!({"Type": "work"})).unwrap());
    }

    #[test]
    fn not_equal_matches_other_values_and_absent_attributes() {
        assert!(check(r#"type ne "home""#, work_email()).unwrap());
        assert!(!check(r#"type ne "work""#, work_email()).unwrap());
        assert!(check(r#"display ne "x""#, work_email()).unwrap());
    }

    #[test]
    fn substring_operators_ignore_case() {
        assert!(check(r#"value co "EXAMPLE""#, work_email()).unwrap());
        assert!(check(r#"value sw "babs@""#, work_email()).unwrap());
        assert!(check(r#"value ew ".COM""#, work_email()).unwrap());
        assert!(!check(r#"value ew ".org""#, work_email()).unwrap());
    }

    #[test]
    fn ordering_operators_compare_numbers_and_strings() {
        assert!(check("rank gt 2", work_email()).unwrap());
        assert!(check("rank ge 3", work_email()).unwrap());
        assert!(!check("rank lt 3", work_email()).unwrap());
        assert!(check("rank le 3.5", work_email()).unwrap());
        assert!(check(r#"type gt "home""#, work_email()).unwrap());
        assert!(check(r#"type lt "X""#, work_email()).unwrap());
        let dated = json!({"created": "2011-05-13T04:42:34Z"});
        assert!(check(r#"created gt "2011-01-01T00:00:00Z""#, dated).unwrap());
    }

    #[test]
    fn booleans_and_null_compare_for_equality() {
        assert!(check("primary eq true", work_email()).unwrap());
        assert!(!check("primary eq false", work_email()).unwrap());
        assert!(check("primary eq true", json!({"primary": "True"})).unwrap());
        assert!(check("display eq null", work_email()).unwrap());
        assert!(!check("type eq null", work_email()).unwrap());
        assert!(check("type ne null", work_email()).unwrap());
    }

    #[test]
    fn mismatched_types_do_not_match() {
        assert!(!check(r#"rank eq "3""#, work_email()).unwrap());
        assert!(!check("type eq 3", work_email()).unwrap());
    }

    #[test]
    fn present_requires_a_non_empty_value() {
        assert!(check("type pr", work_email()).unwrap());
        assert!(!check("display pr", work_email()).unwrap());
        assert!(!check("display pr", json!({"display": ""})).unwrap());
        assert!(!check("display pr", json!({"display": null})).unwrap());
        assert!(!check("tags pr", json!({"tags": []})).unwrap());
    }

    #[test]
    fn logical_operators_combine() {
        let filter = r#"type eq "work" and value ew "example.com""#;
        assert!(check(filter, work_email()).unwrap());
        assert!(check(r#"type eq "home" or primary eq true"#, work_email()).unwrap());
        assert!(!check(r#"not (type eq "work")"#, work_email()).unwrap());
        assert!(check(r#"not (type eq "home") and (rank gt 1)"#, work_email()).unwrap());
    }

    #[test]
    fn sub_attributes_and_multi_valued_sub_attributes_are_searched() {
        let element = json!({"name": {"given": "Babs"}, "tags": ["a", "b"]});
        assert!(check(r#"name.given eq "babs""#, element.clone()).unwrap());
        assert!(check(r#"tags eq "b""#, element).unwrap());
    }

    #[test]
    fn simple_values_are_their_own_value_sub_attribute() {
        assert!(check(r#"value eq "urn:x""#, json!("urn:X")).unwrap());
        assert!(!check(r#"type eq "urn:x""#, json!("urn:x")).unwrap());
    }

    #[test]
    fn operators_that_cannot_apply_to_the_literal_are_invalid_filters() {
        for filter in [
            "primary gt true",
            "display lt null",
            "rank co 3",
            "primary sw true",
        ] {
            let error = check(filter, work_email()).unwrap_err();
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{filter}");
        }
    }
}
