//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which parts of a resource
//! a response carries. Both take a comma-separated list of attribute paths, each optionally
//! schema-qualified and with at most one sub-attribute (`name.givenName`, `emails.value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`), or a whole
//! extension URN. Names compare case-insensitively (RFC 7643 §2.1).
//!
//! Attributes returned `always` (`id`, and the `schemas` list, which is no attribute but
//! says how to read the rest) survive both lists. A path that names nothing the resource has
//! selects nothing; a path that is not a path at all is `invalidValue`.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::AttributePath;

/// Keys a response always carries, whatever the lists say.
const ALWAYS_RETURNED: [&str; 2] = ["id", "schemas"];

/// What a response should carry: everything returned by default, only the listed paths, or
/// everything but the listed paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AttributeSelection {
    #[default]
    Default,
    Only(Vec<SelectedPath>),
    Except(Vec<SelectedPath>),
}

/// One listed path as the JSON keys to follow, lower-cased: `["name", "givenname"]`, or for an
/// extension `["urn:…:enterprise:2.0:user", "manager", "value"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedPath(Vec<String>);

impl SelectedPath {
    /// Reads one path of a resource whose core schema is `core_schema` and whose extension
    /// schemas (JSON keys of their own) are `extensions`.
    pub fn parse(text: &str, core_schema: &str, extensions: &[&str]) -> Result<Self, ScimError> {
        let text = text.trim();
        if let Some(extension) = extensions
            .iter()
            .find(|extension| extension.eq_ignore_ascii_case(text))
        {
            return Ok(Self(vec![extension.to_ascii_lowercase()]));
        }
        let path = AttributePath::parse(text).map_err(|error| {
            ScimError::invalid_value(format!(
                "{text:?} is not an attribute path in attributes or excludedAttributes: {error}"
            ))
        })?;
        let mut keys = Vec::with_capacity(3);
        match path.schema_urn.as_deref() {
            None => {}
            Some(urn) if urn.eq_ignore_ascii_case(core_schema) => {}
            Some(urn) => keys.push(urn.to_ascii_lowercase()),
        }
        keys.push(path.attribute.to_ascii_lowercase());
        keys.extend(path.sub_attribute.map(|sub| sub.to_ascii_lowercase()));
        Ok(Self(keys))
    }

    fn top_level(&self) -> &str {
        &self.0[0]
    }
}

impl AttributeSelection {
    /// Reads the two query parameters. RFC 7644 §3.4.2.5 makes them alternatives; when a
    /// client sends both, `attributes` wins, as the more specific of the two.
    pub fn parse(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
        core_schema: &str,
        extensions: &[&str],
    ) -> Result<Self, ScimError> {
        let paths = |list: &str| -> Result<Vec<SelectedPath>, ScimError> {
            list.split(',')
                .filter(|name| !name.trim().is_empty())
                .map(|name| SelectedPath::parse(name, core_schema, extensions))
                .collect()
        };
        Ok(match (present(attributes), present(excluded_attributes)) {
            (Some(list), _) => Self::Only(paths(list)?),
            (None, Some(list)) => Self::Except(paths(list)?),
            (None, None) => Self::Default,
        })
    }

    /// Whether the response will carry (some of) the top-level attribute `name`, so a caller
    /// can skip loading what nobody will see (a group's members, say).
    pub fn includes(&self, name: &str) -> bool {
        match self {
            Self::Default => true,
            Self::Only(paths) => paths
                .iter()
                .any(|path| path.top_level().eq_ignore_ascii_case(name)),
            Self::Except(paths) => !paths
                .iter()
                .any(|path| path.0.len() == 1 && path.top_level().eq_ignore_ascii_case(name)),
        }
    }

    /// Applies the selection to a full representation.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(object) = resource else {
            return resource;
        };
        match self {
            Self::Default => Value::Object(object),
            Self::Only(paths) => {
                let mut kept = Map::new();
                for (key, value) in object {
                    if is_always_returned(&key) {
                        kept.insert(key, value);
                        continue;
                    }
                    let rests: Vec<&[String]> = paths
                        .iter()
                        .filter(|path| path.top_level().eq_ignore_ascii_case(&key))
                        .map(|path| &path.0[1..])
                        .collect();
                    if let Some(value) = keep(value, &rests) {
                        kept.insert(key, value);
                    }
                }
                Value::Object(kept)
            }
            Self::Except(paths) => {
                let mut object = object;
                for path in paths {
                    remove(&mut object, &path.0, true);
                }
                Value::Object(object)
            }
        }
    }
}

fn present(list: Option<&str>) -> Option<&str> {
    list.filter(|list| !list.trim().is_empty())
}

fn is_always_returned(key: &str) -> bool {
    ALWAYS_RETURNED
        .iter()
        .any(|always| always.eq_ignore_ascii_case(key))
}

/// The part of `value` that the remaining path segments `rests` select (an empty rest selects
/// the whole value), or `None` when they select nothing. A multi-valued attribute applies the
/// rest to each of its values.
fn keep(value: Value, rests: &[&[String]]) -> Option<Value> {
    if rests.is_empty() {
        return None;
    }
    if rests.iter().any(|rest| rest.is_empty()) {
        return Some(value);
    }
    match value {
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, value) in object {
                let deeper: Vec<&[String]> = rests
                    .iter()
                    .filter(|rest| rest[0].eq_ignore_ascii_case(&key))
                    .map(|rest| &rest[1..])
                    .collect();
                if let Some(value) = keep(value, &deeper) {
                    kept.insert(key, value);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(values) => {
            let kept: Vec<Value> = values
                .into_iter()
                .filter_map(|value| keep(value, rests))
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        // A sub-attribute of a simple value names nothing.
        _ => None,
    }
}

/// Removes what `path` names from `object` (from each value of a multi-valued attribute on
/// the way); `top` protects the always-returned keys.
fn remove(object: &mut Map<String, Value>, path: &[String], top: bool) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let keys: Vec<String> = object
        .keys()
        .filter(|key| key.eq_ignore_ascii_case(first))
        .filter(|key| !(top && is_always_returned(key)))
        .cloned()
        .collect();
    for key in keys {
        if rest.is_empty() {
            object.remove(&key);
            continue;
        }
        match object.get_mut(&key) {
            Some(Value::Object(inner)) => remove(inner, rest, false),
            Some(Value::Array(values)) => {
                for value in values.iter_mut() {
                    if let Value::Object(inner) = value {
                        remove(inner, rest, false);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA_URN, USER_SCHEMA_URN};

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
            "id": "2819c223",
            "userName": "bjensen",
            "name": { "givenName": "Barbara", "familyName": "Jensen" },
            "emails": [
                { "value": "bjensen@example.com", "type": "work", "primary": true },
                { "value": "babs@example.org", "type": "home" }
            ],
            ENTERPRISE_USER_SCHEMA_URN: {
                "employeeNumber": "701984",
                "manager": { "value": "26118915", "displayName": "John Smith" }
            },
            "meta": { "resourceType": "User", "version": "W/\"3\"" }
        })
    }

    fn select(attributes: Option<&str>, excluded: Option<&str>) -> Value {
        AttributeSelection::parse(
            attributes,
            excluded,
            USER_SCHEMA_URN,
            &[ENTERPRISE_USER_SCHEMA_URN],
        )
        .expect("valid lists")
        .apply(user())
    }

    #[test]
    fn no_lists_return_the_default_representation() {
        assert_eq!(select(None, None), user());
        assert_eq!(select(Some(" "), Some("")), user());
    }

    #[test]
    fn attributes_keep_listed_top_level_attributes_and_the_always_returned_ones() {
        assert_eq!(
            select(Some("userName"), None),
            json!({ "schemas": user()["schemas"], "id": "2819c223", "userName": "bjensen" })
        );
    }

    #[test]
    fn attribute_names_are_case_insensitive_and_may_carry_the_core_urn() {
        let selected = select(
            Some("USERNAME,urn:ietf:params:scim:schemas:core:2.0:User:name.givenname"),
            None,
        );
        assert_eq!(selected["userName"], "bjensen");
        assert_eq!(selected["name"], json!({ "givenName": "Barbara" }));
    }

    #[test]
    fn a_sub_attribute_of_a_multi_valued_attribute_applies_to_each_value() {
        let selected = select(Some("emails.value"), None);
        assert_eq!(
            selected["emails"],
            json!([{ "value": "bjensen@example.com" }, { "value": "babs@example.org" }])
        );
    }

    #[test]
    fn extension_attributes_are_selected_by_urn_with_or_without_sub_attributes() {
        let manager_id = select(
            Some(&format!("{ENTERPRISE_USER_SCHEMA_URN}:manager.value")),
            None,
        );
        assert_eq!(
            manager_id[ENTERPRISE_USER_SCHEMA_URN],
            json!({ "manager": { "value": "26118915" } })
        );
        let whole = select(Some(&ENTERPRISE_USER_SCHEMA_URN.to_lowercase()), None);
        assert_eq!(
            whole[ENTERPRISE_USER_SCHEMA_URN],
            user()[ENTERPRISE_USER_SCHEMA_URN]
        );
        assert!(whole.get("userName").is_none());
    }

    #[test]
    fn a_path_naming_nothing_selects_nothing() {
        let selected = select(Some("nickName,name.middleName,userName.value"), None);
        assert_eq!(
            selected,
            json!({ "schemas": user()["schemas"], "id": "2819c223" })
        );
    }

    #[test]
    fn excluded_attributes_remove_attributes_and_sub_attributes() {
        let selected = select(None, Some("emails.type, name, meta.version"));
        assert!(selected.get("name").is_none());
        assert_eq!(
            selected["emails"],
            json!([
                { "value": "bjensen@example.com", "primary": true },
                { "value": "babs@example.org" }
            ])
        );
        assert_eq!(selected["meta"], json!({ "resourceType": "User" }));
        assert_eq!(selected["userName"], "bjensen");
    }

    #[test]
    fn always_returned_attributes_cannot_be_excluded() {
        let selected = select(None, Some("id,schemas,userName"));
        assert_eq!(selected["id"], "2819c223");
        assert!(selected.get("schemas").is_some());
        assert!(selected.get("userName").is_none());
    }

    #[test]
    fn attributes_win_when_both_lists_are_given() {
        let selected = select(Some("userName"), Some("userName"));
        assert_eq!(selected["userName"], "bjensen");
    }

    #[test]
    fn includes_tells_whether_a_top_level_attribute_is_wanted() {
        let parse = |attributes, excluded| {
            AttributeSelection::parse(attributes, excluded, USER_SCHEMA_URN, &[])
                .expect("valid lists")
        };
        assert!(parse(None, None).includes("members"));
        assert!(parse(Some("members.value"), None).includes("Members"));
        assert!(!parse(Some("displayName"), None).includes("members"));
        assert!(!parse(None, Some("MEMBERS")).includes("members"));
        // Excluding one sub-attribute still returns the rest of the members.
        assert!(parse(None, Some("members.display")).includes("members"));
    }

    #[test]
    fn a_malformed_path_is_invalid_value() {
        for bad in [
            "name..givenName",
            "emails[type eq \"work\"]",
            "a.b.c",
            "1abc",
        ] {
            let error =
                AttributeSelection::parse(Some(bad), None, USER_SCHEMA_URN, &[]).expect_err(bad);
            assert_eq!(error.status, 400, "{bad}");
            assert_eq!(
                error.scim_type,
                Some(crate::error::ScimType::InvalidValue),
                "{bad}"
            );
        }
    }
}
