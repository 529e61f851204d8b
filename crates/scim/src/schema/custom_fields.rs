//! Xurrent's (formerly 4me's) custom fields extension for Users,
//! `urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields`: fields an account defines for
//! itself, so the schema declares no attributes — any field id that follows the rules below is
//! an attribute of it (`urn:…:custom_fields:payroll_id`).
//!
//! Xurrent accepts two shapes, and so does this: a flat object of fields,
//! `{"payroll_id": "P-1", "year_of_birth": 1975}`, and a list,
//! `{"custom_fields": [{"id": "payroll_id", "value": "P-1"}]}`. Both normalise to the flat
//! object, which is what is stored and returned; values keep their JSON type.

use serde_json::{Map, Value};

use super::definition::SchemaDefinition;
use crate::error::ScimError;

/// The URN of Xurrent's custom fields extension.
pub const CUSTOM_FIELDS_SCHEMA_URN: &str =
    "urn:ietf:params:scim:schemas:extension:4me:1.0:custom_fields";

/// The most fields one User may hold.
pub const MAX_CUSTOM_FIELDS: usize = 100;
/// The longest field id, in characters.
pub const MAX_CUSTOM_FIELD_ID_LENGTH: usize = 64;
/// The largest value, as compact JSON, in bytes.
pub const MAX_CUSTOM_FIELD_VALUE_BYTES: usize = 4096;

/// The key of the list shape inside the extension's object.
const LIST_KEY: &str = "custom_fields";

/// The custom fields extension schema: no declared attributes, since each account has its own.
pub fn custom_fields_schema() -> SchemaDefinition {
    SchemaDefinition {
        id: CUSTOM_FIELDS_SCHEMA_URN,
        name: "CustomFields",
        description: "Xurrent (4me) custom fields: any field whose id starts with an ASCII \
                      letter followed by up to 63 ASCII letters, digits, '_' or '-', with any \
                      JSON value of at most 4096 bytes; at most 100 fields per User. Ids \
                      compare ignoring case.",
        attributes: Vec::new(),
    }
}

/// Whether `id` may name a custom field: an ASCII letter, then ASCII letters, digits, `_` or
/// `-`, at most 64 characters. That is RFC 7643 §2.1's `ATTRNAME`, so every field can be named
/// in a filter, `sortBy` or PATCH path; and being ASCII, it can be compared ignoring ASCII case
/// as attribute names are, and pasted into SQL as a literal.
pub fn is_custom_field_id(id: &str) -> bool {
    let mut characters = id.chars();
    id.len() <= MAX_CUSTOM_FIELD_ID_LENGTH
        && characters
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
        && characters.all(|rest| rest.is_ascii_alphanumeric() || rest == '_' || rest == '-')
}

/// The extension's value as the flat object of its fields, checked against the limits: the
/// flat fields first, then the entries of a `custom_fields` list, which replace a flat field
/// of the same id (a PATCH that adds the list to stored fields updates them). A field whose
/// value is null is no field.
pub fn normalize_custom_fields(value: &Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(object) = value else {
        return Err(ScimError::invalid_value(format!(
            "{CUSTOM_FIELDS_SCHEMA_URN} must be an object of custom fields, \
             {{\"<id>\": <value>}} or {{\"custom_fields\": [{{\"id\": …, \"value\": …}}]}}"
        )));
    };
    let mut fields = Map::new();
    let mut list = None;
    for (key, value) in object {
        if key.eq_ignore_ascii_case(LIST_KEY) && value.is_array() {
            list = Some(value);
            continue;
        }
        set_field(&mut fields, key, value.clone())?;
    }
    if let Some(Value::Array(entries)) = list {
        let mut listed: Vec<String> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let (id, value) = list_entry(index, entry)?;
            let lowered = id.to_ascii_lowercase();
            if listed.contains(&lowered) {
                return Err(ScimError::invalid_value(format!(
                    "custom_fields[{index}]: the custom field {id:?} is listed twice"
                )));
            }
            listed.push(lowered);
            set_field(&mut fields, id, value)?;
        }
    }
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(ScimError::invalid_value(format!(
            "a User has at most {MAX_CUSTOM_FIELDS} custom fields, not {}",
            fields.len()
        )));
    }
    Ok(fields)
}

/// One `{"id": …, "value": …}` of the list shape (a missing value is null).
fn list_entry(index: usize, entry: &Value) -> Result<(&str, Value), ScimError> {
    let id = entry.get("id").and_then(Value::as_str).ok_or_else(|| {
        ScimError::invalid_value(format!(
            "custom_fields[{index}] must be an object with a string \"id\" and a \"value\""
        ))
    })?;
    Ok((id, entry.get("value").cloned().unwrap_or(Value::Null)))
}

/// Sets (or, with null, removes) field `id`, replacing one whose id differs only in case.
fn set_field(fields: &mut Map<String, Value>, id: &str, value: Value) -> Result<(), ScimError> {
    if !is_custom_field_id(id) {
        return Err(ScimError::invalid_value(format!(
            "{} is not a custom field id: an id is an ASCII letter followed by ASCII letters, \
             digits, '_' or '-', at most {MAX_CUSTOM_FIELD_ID_LENGTH} characters",
            crate::error::quote_client_text(id, 80)
        )));
    }
    let size = value.to_string().len();
    if size > MAX_CUSTOM_FIELD_VALUE_BYTES {
        return Err(ScimError::invalid_value(format!(
            "the value of custom field {id:?} is {size} bytes of JSON; at most \
             {MAX_CUSTOM_FIELD_VALUE_BYTES} are allowed"
        )));
    }
    fields.retain(|existing, _| !existing.eq_ignore_ascii_case(id));
    if !value.is_null() {
        fields.insert(id.to_owned(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_shapes_normalise_to_the_flat_object_and_the_list_wins() {
        let flat = json!({"payroll_id": "P-1", "year_of_birth": 1975, "gone": null});
        assert_eq!(
            Value::Object(normalize_custom_fields(&flat).expect("valid")),
            json!({"payroll_id": "P-1", "year_of_birth": 1975})
        );
        let listed = json!({"Payroll_ID": "old", "custom_fields": [
            {"id": "payroll_id", "value": "P-2"}, {"id": "vip", "value": true}, {"id": "x"}
        ]});
        assert_eq!(
            Value::Object(normalize_custom_fields(&listed).expect("valid")),
            json!({"payroll_id": "P-2", "vip": true})
        );
    }

    #[test]
    fn ids_values_and_counts_are_limited() {
        assert!(is_custom_field_id("payroll_id"));
        assert!(is_custom_field_id(&"a".repeat(64)));
        for id in ["", "1st", "_x", "a b", "a.b", "ä", &"a".repeat(65)] {
            assert!(!is_custom_field_id(id), "{id}");
        }
        let too_big = json!({"x": "y".repeat(4095)});
        assert!(normalize_custom_fields(&too_big).is_err());
        let many: Map<String, Value> = (0..101).map(|n| (format!("f{n}"), json!(n))).collect();
        let error = normalize_custom_fields(&Value::Object(many)).expect_err("101 fields");
        assert_eq!(error.scim_type, Some(crate::error::ScimType::InvalidValue));
        let twice = json!({"custom_fields": [{"id": "a", "value": 1}, {"id": "A", "value": 2}]});
        assert!(normalize_custom_fields(&twice).is_err());
        assert!(normalize_custom_fields(&json!(["x"])).is_err());
    }
}
