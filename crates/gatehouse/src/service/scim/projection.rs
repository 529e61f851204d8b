//! From a SCIM User representation to what Gatehouse stores: the cleaned resource, the indexed
//! columns, the filter rows of multi-valued attributes, and the person fields the spec maps
//! (docs/PRODUCT.md "SCIM Users"). Pure: no I/O.

use scim::error::ScimError;
use scim::schema::{
    CUSTOM_FIELDS_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN, USER_SCHEMA_URN, normalize_custom_fields,
};
use serde_json::{Map, Value};

use crate::domain::{CustomFieldValue, ScimUserId, ScimValue};
use crate::store::MULTI_VALUED_USER_ATTRIBUTES;

/// Attributes the server owns or never keeps: dropped from what the client sent.
const NOT_STORED: &[&str] = &["id", "meta", "password", "groups"];

/// Everything a SCIM User's representation says, in the shapes the store and the person need.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProjection {
    pub resource: Value,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub active: bool,
    pub employee_number: Option<String>,
    pub department: Option<String>,
    pub organization: Option<String>,
    pub site: Option<String>,
    pub location: Option<String>,
    pub support_id: Option<String>,
    pub manager_id: Option<ScimUserId>,
    pub values: Vec<ScimValue>,
    pub custom_fields: Vec<CustomFieldValue>,
    pub primary_email: Option<String>,
    /// The `phoneNumbers` of type `work` (the primary one if several) and `mobile`.
    pub work_phone: Option<String>,
    pub mobile_phone: Option<String>,
}

impl UserProjection {
    /// The person's name: displayName, else name.formatted, else given and family name, else
    /// the userName.
    pub fn person_name(&self) -> String {
        let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.display_name
            .clone()
            .or_else(|| self.formatted_name.clone())
            .or_else(|| (!joined.is_empty()).then_some(joined))
            .unwrap_or_else(|| self.user_name.clone())
    }
}

/// Finds a key case-insensitively (RFC 7643 §2.1: attribute names are case-insensitive).
fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    context: &str,
) -> Result<Option<String>, ScimError> {
    match get(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ScimError::invalid_value(format!(
            "{context}{name} must be a string"
        ))),
    }
}

/// Refuses an identifier (`userName`, an email, a Group's `displayName`) holding a character
/// `scim::text::refused_character` names: invisible or control characters would let two
/// values that look alike differ. The message names the character by code point, never
/// echoing it, so what the client reads shows what is wrong.
pub(crate) fn check_visible(attribute: &str, value: &str) -> Result<(), ScimError> {
    match scim::text::refused_character(value) {
        None => Ok(()),
        Some(character) => Err(ScimError::invalid_value(format!(
            "{attribute} contains {}, an invisible or control character, which it may not",
            scim::text::code_point(character)
        ))),
    }
}

/// `active` as a boolean; Entra ID sends `"True"`/`"False"` strings, accepted here.
fn active(object: &Map<String, Value>) -> Result<bool, ScimError> {
    match get(object, "active") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(active)) => Ok(*active),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ScimError::invalid_value("active must be a boolean")),
    }
}

fn multi_valued_rows(object: &Map<String, Value>) -> Result<Vec<ScimValue>, ScimError> {
    let mut rows = Vec::new();
    for attribute in MULTI_VALUED_USER_ATTRIBUTES {
        let elements = match get(object, attribute) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(elements)) => elements,
            Some(_) => {
                return Err(ScimError::invalid_value(format!(
                    "{attribute} must be an array"
                )));
            }
        };
        for (position, element) in elements.iter().enumerate() {
            let Value::Object(element) = element else {
                return Err(ScimError::invalid_value(format!(
                    "each of {attribute} must be an object"
                )));
            };
            let context = format!("{attribute}[{position}].");
            // Addresses have no `value`; their formatted form stands in for it.
            let value = match optional_string(element, "value", &context)? {
                Some(value) => Some(value),
                None => optional_string(element, "formatted", &context)?,
            };

            let primary = match get(element, "primary") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(primary)) => *primary,
                Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
                Some(_) => {
                    return Err(ScimError::invalid_value(format!(
                        "{context}primary must be a boolean"
                    )));
                }
            };
            rows.push(ScimValue {
                attribute: (*attribute).to_owned(),
                position: i32::try_from(position).unwrap_or(i32::MAX),
                value,
                value_type: optional_string(element, "type", &context)?,
                primary,
                display: optional_string(element, "display", &context)?,
            });
        }
    }
    Ok(rows)
}

/// The primary email, else the first work email, else the first email.
fn primary_email(values: &[ScimValue]) -> Option<String> {
    let emails: Vec<&ScimValue> = values
        .iter()
        .filter(|row| row.attribute == "emails" && row.value.is_some())
        .collect();
    emails
        .iter()
        .find(|row| row.primary)
        .or_else(|| {
            emails.iter().find(|row| {
                row.value_type
                    .as_deref()
                    .is_some_and(|kind| kind.eq_ignore_ascii_case("work"))
            })
        })
        .or_else(|| emails.first())
        .and_then(|row| row.value.clone())
}

/// The phone number of `kind` (`work`, `mobile`): the primary one of that type, else the first.
fn phone(values: &[ScimValue], kind: &str) -> Option<String> {
    let phones: Vec<&ScimValue> = values
        .iter()
        .filter(|row| {
            row.attribute == "phoneNumbers"
                && row.value.is_some()
                && row
                    .value_type
                    .as_deref()
                    .is_some_and(|value_type| value_type.eq_ignore_ascii_case(kind))
        })
        .collect();
    phones
        .iter()
        .find(|row| row.primary)
        .or_else(|| phones.first())
        .and_then(|row| row.value.clone())
}

/// Projects a new User's representation (a POST body): every identifier is checked.
pub fn project_user(body: &Value) -> Result<UserProjection, ScimError> {
    let projection = project(body)?;
    projection.check_identifiers(None)?;
    Ok(projection)
}

/// Projects the representation that replaces a stored User (a PUT body, or the result of a
/// PATCH). Identifiers the stored representation already had are not checked again: a User
/// provisioned before the rule on invisible characters must still be deactivated or renamed,
/// whatever its old `userName`; any new or changed one is checked.
pub fn project_user_update(body: &Value, stored: &Value) -> Result<UserProjection, ScimError> {
    let projection = project(body)?;
    let before = project(stored).ok();
    projection.check_identifiers(before.as_ref())?;
    Ok(projection)
}

impl UserProjection {
    /// The `userName` and every `emails[].value` (identifiers: a person's primary email is
    /// unique) through `check_visible`, except values `before` already had. Phone numbers,
    /// addresses and names are not identifiers and may hold, say, a zero-width joiner.
    fn check_identifiers(&self, before: Option<&UserProjection>) -> Result<(), ScimError> {
        let emails = |projection: &'_ UserProjection| -> Vec<(i32, String)> {
            projection
                .values
                .iter()
                .filter(|row| row.attribute == "emails")
                .filter_map(|row| row.value.clone().map(|value| (row.position, value)))
                .collect()
        };
        if before.is_none_or(|before| before.user_name != self.user_name) {
            check_visible("userName", &self.user_name)?;
        }
        let kept = before.map(emails).unwrap_or_default();
        for (position, email) in emails(self) {
            if !kept.iter().any(|(_, old)| *old == email) {
                check_visible(&format!("emails[{position}].value"), &email)?;
            }
        }
        Ok(())
    }
}

fn project(body: &Value) -> Result<UserProjection, ScimError> {
    let Value::Object(object) = body else {
        return Err(ScimError::invalid_syntax(
            "a SCIM User must be a JSON object",
        ));
    };
    let user_name = optional_string(object, "userName", "")?
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    let name = match get(object, "name") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(name)) => name.clone(),
        Some(_) => return Err(ScimError::invalid_value("name must be an object")),
    };
    let enterprise = match get(object, ENTERPRISE_USER_SCHEMA_URN) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(extension)) => extension.clone(),
        Some(_) => {
            return Err(ScimError::invalid_value(
                "the enterprise extension must be an object",
            ));
        }
    };
    let manager_id = match get(&enterprise, "manager") {
        None | Some(Value::Null) => None,
        Some(Value::Object(manager)) => optional_string(manager, "value", "manager.")?,
        // Entra ID sends the manager as a bare id.
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(Value::String(_)) => None,
        Some(_) => return Err(ScimError::invalid_value("manager must be an object")),
    }
    .map(|id| {
        uuid::Uuid::parse_str(&id).map(ScimUserId).map_err(|_| {
            ScimError::invalid_value(format!(
                "manager {id} is not a SCIM User id of this account"
            ))
        })
    })
    .transpose()?;
    let values = multi_valued_rows(object)?;
    // Xurrent's custom fields count whenever their key is there, listed in `schemas` or not
    // (Xurrent's clients don't list it), and are kept in the flat shape under the canonical URN.
    let custom_fields = match get(object, CUSTOM_FIELDS_SCHEMA_URN) {
        None | Some(Value::Null) => Map::new(),
        Some(extension) => normalize_custom_fields(extension)?,
    };

    let mut resource: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| !NOT_STORED.iter().any(|name| key.eq_ignore_ascii_case(name)))
        .filter(|(key, _)| !key.eq_ignore_ascii_case(CUSTOM_FIELDS_SCHEMA_URN))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut schemas = vec![Value::from(USER_SCHEMA_URN)];
    if !enterprise.is_empty() {
        schemas.push(Value::from(ENTERPRISE_USER_SCHEMA_URN));
    }
    let custom_field_rows = custom_field_rows(&custom_fields);
    if !custom_fields.is_empty() {
        schemas.push(Value::from(CUSTOM_FIELDS_SCHEMA_URN));
        resource.insert(
            CUSTOM_FIELDS_SCHEMA_URN.to_owned(),
            Value::Object(custom_fields),
        );
    }
    resource.retain(|key, _| !key.eq_ignore_ascii_case("schemas"));
    resource.insert("schemas".to_owned(), Value::Array(schemas));
    if let Some(active_key) = resource
        .keys()
        .find(|key| key.eq_ignore_ascii_case("active"))
        .cloned()
    {
        resource.insert(active_key, Value::Bool(active(object)?));
    }

    Ok(UserProjection {
        user_name,
        external_id: optional_string(object, "externalId", "")?,
        display_name: optional_string(object, "displayName", "")?,
        given_name: optional_string(&name, "givenName", "name.")?,
        family_name: optional_string(&name, "familyName", "name.")?,
        formatted_name: optional_string(&name, "formatted", "name.")?,
        title: optional_string(object, "title", "")?,
        user_type: optional_string(object, "userType", "")?,
        active: active(object)?,
        employee_number: optional_string(&enterprise, "employeeNumber", "")?,
        department: optional_string(&enterprise, "department", "")?,
        organization: optional_string(&enterprise, "organization", "")?,
        site: optional_string(&enterprise, "site", "")?,
        location: optional_string(&enterprise, "location", "")?,
        support_id: optional_string(&enterprise, "supportID", "")?,
        manager_id,
        primary_email: primary_email(&values),
        work_phone: phone(&values, "work"),
        mobile_phone: phone(&values, "mobile"),
        values,
        custom_fields: custom_field_rows,
        resource: Value::Object(resource),
    })
}

/// The filter rows of the custom fields: ids in ASCII lower case (they compare ignoring case,
/// as attribute names do), values as text.
fn custom_field_rows(fields: &Map<String, Value>) -> Vec<CustomFieldValue> {
    fields
        .iter()
        .map(|(id, value)| CustomFieldValue {
            field: id.to_ascii_lowercase(),
            value: match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rfc_full_user_projects_to_columns_rows_and_person_fields() {
        let projection = project_user(&json!({
            "schemas": [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
            "id": "ignored", "password": "t1meMa$heen", "meta": {"version": "x"},
            "userName": "bjensen@example.com",
            "externalId": "701984",
            "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
            "title": "Tour Guide", "userType": "Employee", "active": "False",
            "emails": [
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "bjensen@example.com", "type": "work", "primary": true}
            ],
            "addresses": [{"type": "work", "formatted": "100 Universal City Plaza"}],
            "phoneNumbers": [
                {"value": "555-555-5555", "type": "work"},
                {"value": "555-555-4444", "type": "mobile"},
                {"value": "555-555-3333", "type": "work", "primary": true}
            ],
            ENTERPRISE_USER_SCHEMA_URN: {"employeeNumber": "701984", "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
        }))
        .expect("valid");
        assert_eq!(projection.user_name, "bjensen@example.com");
        assert!(!projection.active, "Entra's string booleans");
        assert_eq!(
            projection.primary_email.as_deref(),
            Some("bjensen@example.com")
        );
        assert_eq!(projection.person_name(), "Ms. Barbara J Jensen, III");
        assert_eq!(projection.employee_number.as_deref(), Some("701984"));
        assert_eq!(projection.values.len(), 6);
        assert_eq!(projection.values[2].value.as_deref(), Some("555-555-5555"));
        assert_eq!(
            projection.values[5].value.as_deref(),
            Some("100 Universal City Plaza")
        );
        assert_eq!(
            projection.work_phone.as_deref(),
            Some("555-555-3333"),
            "primary work phone"
        );
        assert_eq!(projection.mobile_phone.as_deref(), Some("555-555-4444"));
        let stored = projection.resource.as_object().expect("object");
        for dropped in ["id", "password", "meta"] {
            assert!(!stored.contains_key(dropped), "{dropped} is not stored");
        }
        assert_eq!(stored["active"], json!(false));
        assert_eq!(
            stored["schemas"],
            json!([USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN])
        );
    }

    #[test]
    fn user_name_is_required_and_types_are_checked() {
        for (body, detail) in [
            (json!({"displayName": "x"}), "userName is required"),
            (json!({"userName": "  "}), "userName is required"),
            (
                json!({"userName": "x", "active": 3}),
                "active must be a boolean",
            ),
            (
                json!({"userName": "x", "emails": "a@b.c"}),
                "emails must be an array",
            ),
            (
                json!({"userName": "x", "title": ["a"]}),
                "title must be a string",
            ),
            (json!({"userName": 7}), "userName must be a string"),
        ] {
            let error = project_user(&body).expect_err("invalid");
            assert_eq!(
                (error.status, error.detail.as_str()),
                (400, detail),
                "{body}"
            );
        }
    }

    #[test]
    fn user_names_and_emails_refuse_invisible_and_control_characters() {
        for (body, detail) in [
            (
                json!({"userName": "bob\u{200B}"}),
                "userName contains U+200B, an invisible or control character, which it may not",
            ),
            (
                json!({"userName": "\u{FEFF}bob"}),
                "userName contains U+FEFF, an invisible or control character, which it may not",
            ),
            (
                json!({"userName": "bob", "emails": [{"value": "a@b.c"}, {"value": "b\u{200D}ob@b.c"}]}),
                "emails[1].value contains U+200D, an invisible or control character, which it may not",
            ),
            (
                json!({"userName": "bob\u{2028}x"}),
                "userName contains U+2028, an invisible or control character, which it may not",
            ),
        ] {
            let error = project_user(&body).expect_err("refused");
            assert_eq!(
                (error.status, error.scim_type, error.detail.as_str()),
                (400, Some(scim::error::ScimType::InvalidValue), detail),
                "{body}"
            );
        }
        // What a stored User already had is not checked again; anything new is.
        let stored = json!({"userName": "bob\u{200B}", "emails": [{"value": "b\u{200B}@b.c"}]});
        let deactivated = json!({"userName": "bob\u{200B}", "active": false,
            "emails": [{"value": "b\u{200B}@b.c"}]});
        assert!(project_user_update(&deactivated, &stored).is_ok());
        let renamed = json!({"userName": "rob\u{200B}", "emails": [{"value": "b\u{200B}@b.c"}]});
        assert_eq!(
            project_user_update(&renamed, &stored)
                .expect_err("new name")
                .detail,
            "userName contains U+200B, an invisible or control character, which it may not"
        );
        // Only identifiers: a display name or phone number may hold a zero-width joiner.
        let projection = project_user(&json!({
            "userName": "ｂｏｂ", "displayName": "👩\u{200D}💻",
            "phoneNumbers": [{"value": "555\u{200B}"}]
        }))
        .expect("valid");
        assert_eq!(projection.user_name, "ｂｏｂ", "stored as sent");
    }

    #[test]
    fn person_name_falls_back_to_given_and_family_then_user_name() {
        let named = project_user(
            &json!({"userName": "u", "name": {"givenName": "Ada", "familyName": "Lovelace"}}),
        )
        .expect("valid");
        assert_eq!(named.person_name(), "Ada Lovelace");
        let bare = project_user(&json!({"userName": "ada"})).expect("valid");
        assert_eq!(bare.person_name(), "ada");
        assert!(bare.active, "active defaults to true");
    }
}
