//! Case-insensitive access to JSON object members. RFC 7643 §2.1 makes attribute names
//! case-insensitive, so `Emails`, `emails` and `EMAILS` must reach the same stored member;
//! the stored spelling wins when a member already exists, so a PATCH never renames one.

use serde_json::{Map, Value};

/// The stored key that names `name`, preferring an exact match over a case-insensitive one.
pub(crate) fn find_key(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_owned());
    }
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()
}

pub(crate) fn get<'object>(
    object: &'object Map<String, Value>,
    name: &str,
) -> Option<&'object Value> {
    match object.get(name) {
        Some(value) => Some(value),
        None => object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value),
    }
}

pub(crate) fn get_mut<'object>(
    object: &'object mut Map<String, Value>,
    name: &str,
) -> Option<&'object mut Value> {
    let key = find_key(object, name)?;
    object.get_mut(&key)
}

/// Sets `name` to `value`, under the stored spelling when the member already exists.
pub(crate) fn insert(object: &mut Map<String, Value>, name: &str, value: Value) {
    let key = find_key(object, name).unwrap_or_else(|| name.to_owned());
    object.insert(key, value);
}

pub(crate) fn remove(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(object, name)?;
    object.remove(&key)
}

/// The member `name`, created as an empty object first if it is missing. `None` when it
/// exists but holds something other than an object.
pub(crate) fn object_entry<'object>(
    object: &'object mut Map<String, Value>,
    name: &str,
) -> Option<&'object mut Map<String, Value>> {
    let key = find_key(object, name).unwrap_or_else(|| name.to_owned());
    object
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// Whether `value` is `true`, or the string `"true"` in any case.
pub(crate) fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Copies every member of `source` into `target` (stored spellings win); a null member
/// unassigns the target's member, as RFC 7643 §2.5 equates null with "no value".
pub(crate) fn merge_into(target: &mut Map<String, Value>, source: Map<String, Value>) {
    for (name, value) in source {
        if value.is_null() {
            remove(target, &name);
        } else {
            insert(target, &name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            other => panic!("expected an object, got {other}"),
        }
    }

    #[test]
    fn lookups_ignore_case_but_prefer_an_exact_match() {
        let user = object(json!({"userName": "bjensen", "username": "other"}));
        assert_eq!(get(&user, "userName"), Some(&json!("bjensen")));
        assert_eq!(get(&user, "username"), Some(&json!("other")));
        assert_eq!(find_key(&user, "USERNAME").as_deref(), Some("userName"));
        assert_eq!(get(&user, "nickName"), None);
    }

    #[test]
    fn insert_keeps_the_stored_spelling() {
        let mut user = object(json!({"displayName": "Babs"}));
        insert(&mut user, "DISPLAYNAME", json!("Barbara"));
        insert(&mut user, "nickName", json!("B"));
        assert_eq!(
            Value::Object(user),
            json!({"displayName": "Barbara", "nickName": "B"})
        );
    }

    #[test]
    fn remove_and_get_mut_find_members_in_any_case() {
        let mut user = object(json!({"Title": "Tour Guide", "active": true}));
        if let Some(active) = get_mut(&mut user, "ACTIVE") {
            *active = json!(false);
        }
        assert_eq!(remove(&mut user, "title"), Some(json!("Tour Guide")));
        assert_eq!(remove(&mut user, "title"), None);
        assert_eq!(Value::Object(user), json!({"active": false}));
    }

    #[test]
    fn object_entry_creates_missing_objects_and_refuses_non_objects() {
        let mut user = object(json!({"title": "x"}));
        object_entry(&mut user, "name")
            .unwrap()
            .insert("givenName".to_owned(), json!("Barbara"));
        assert_eq!(user["name"], json!({"givenName": "Barbara"}));
        assert!(object_entry(&mut user, "TITLE").is_none());
    }

    #[test]
    fn merging_overwrites_adds_and_unassigns_null_members() {
        let mut name = object(json!({"givenName": "Barbara", "familyName": "Jensen"}));
        merge_into(
            &mut name,
            object(json!({"GivenName": "Babs", "middleName": "J", "familyName": null})),
        );
        assert_eq!(
            Value::Object(name),
            json!({"givenName": "Babs", "middleName": "J"})
        );
    }

    #[test]
    fn truth_accepts_booleans_and_true_strings() {
        assert!(is_true(Some(&json!(true))));
        assert!(is_true(Some(&json!("True"))));
        assert!(!is_true(Some(&json!("yes"))));
        assert!(!is_true(None));
    }
}
