//! Reads a PatchOp request body (RFC 7644 §3.5.2) into `PatchOperation`s, checking the
//! structure once so that application code can rely on it: every `remove` has a path, every
//! `add` and `replace` has a value, every path is parsed. The quirks of real provisioning
//! clients that are safe to accept are accepted here, each with a test saying who sends it.

use std::fmt;

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::path::{PatchPath, parse_patch_path};

/// The schema URN a PatchOp request body must list.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Most operations accepted in one request. Provisioning clients send a handful; Entra ID
/// batches group membership changes but stays far below this. More is answered `tooMany`.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

impl PatchOpKind {
    /// The operation for an `op` value. RFC 7644 spells them in lower case, but Entra ID
    /// sends `Add`, `Replace` and `Remove`, so case is ignored.
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        [Self::Add, Self::Remove, Self::Replace]
            .into_iter()
            .find(|kind| kind.keyword().eq_ignore_ascii_case(keyword))
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.keyword())
    }
}

/// One validated operation. `path` is `None` only for path-less `add`/`replace`, whose
/// `value` is then an object of attributes; `value` is `None` only for `remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Parses a request body that has not been decoded yet; malformed JSON is `invalidSyntax`.
pub fn parse_patch_request_text(body: &str) -> Result<Vec<PatchOperation>, ScimError> {
    let body: Value = serde_json::from_str(body).map_err(|error| {
        ScimError::invalid_syntax(format!("PATCH request body is not valid JSON: {error}"))
    })?;
    parse_patch_request(body)
}

/// Parses a decoded request body. It takes the body by value so a group's member list (which
/// may hold 100,000 entries) is moved into the operations rather than copied.
pub fn parse_patch_request(body: Value) -> Result<Vec<PatchOperation>, ScimError> {
    let Value::Object(mut body) = body else {
        return Err(ScimError::invalid_syntax(
            "PATCH request body must be a JSON object",
        ));
    };
    check_schemas(&body)?;
    let operations = match take(&mut body, "Operations") {
        Some(Value::Array(operations)) => operations,
        Some(_) => {
            return Err(ScimError::invalid_syntax(
                "\"Operations\" in a PATCH request must be an array",
            ));
        }
        None => {
            return Err(ScimError::invalid_syntax(
                "PATCH request body has no \"Operations\" array",
            ));
        }
    };
    if operations.is_empty() {
        return Err(ScimError::invalid_syntax(
            "\"Operations\" in a PATCH request must hold at least one operation",
        ));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::too_many(format!(
            "PATCH request has {} operations; at most {MAX_OPERATIONS} are accepted per request",
            operations.len()
        )));
    }
    operations
        .into_iter()
        .enumerate()
        .map(|(index, operation)| {
            parse_operation(operation).map_err(|mut error| {
                error.detail = format!("Operations[{index}]: {}", error.detail);
                error
            })
        })
        .collect()
}

/// RFC 7644 requires the PatchOp URN. URNs are compared ignoring case, since some clients
/// capitalise them and nothing else could be meant.
fn check_schemas(body: &Map<String, Value>) -> Result<(), ScimError> {
    let listed = match member(body, "schemas") {
        Some(Value::Array(schemas)) => schemas
            .iter()
            .filter_map(Value::as_str)
            .any(|schema| schema.eq_ignore_ascii_case(PATCH_OP_SCHEMA)),
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "PATCH request body must have \"schemas\": [\"{PATCH_OP_SCHEMA}\"]"
        )))
    }
}

fn parse_operation(operation: Value) -> Result<PatchOperation, ScimError> {
    let Value::Object(mut operation) = operation else {
        return Err(ScimError::invalid_syntax(
            "each operation must be a JSON object",
        ));
    };
    let op = match member(&operation, "op") {
        Some(Value::String(keyword)) => PatchOpKind::from_keyword(keyword).ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "unknown \"op\" {keyword:?}; expected \"add\", \"remove\" or \"replace\""
            ))
        })?,
        Some(_) => return Err(ScimError::invalid_syntax("\"op\" must be a string")),
        None => {
            return Err(ScimError::invalid_syntax(
                "operation has no \"op\"; expected \"add\", \"remove\" or \"replace\"",
            ));
        }
    };
    let path = match take(&mut operation, "path") {
        // A null path is how some serialisers write "no path".
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(parse_patch_path(&text)?),
        Some(_) => return Err(ScimError::invalid_path("\"path\" must be a string")),
    };
    let value = take(&mut operation, "value");
    match op {
        PatchOpKind::Remove if path.is_none() => Err(ScimError::no_target(
            "a \"remove\" operation needs a \"path\" naming what to remove",
        )),
        PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => Err(
            ScimError::invalid_value(format!("an \"{op}\" operation needs a \"value\"")),
        ),
        PatchOpKind::Add | PatchOpKind::Replace if path.is_none() && !is_object(&value) => {
            Err(ScimError::invalid_value(format!(
                "an \"{op}\" operation without a \"path\" needs an object \"value\" whose \
                 members are the attributes to {op}"
            )))
        }
        _ => Ok(PatchOperation { op, path, value }),
    }
}

fn is_object(value: &Option<Value>) -> bool {
    matches!(value, Some(Value::Object(_)))
}

/// The member `name`, matched exactly first and then ignoring case: Entra ID and others send
/// `operations` for `Operations`, and nothing else could be meant by it.
fn member<'body>(object: &'body Map<String, Value>, name: &str) -> Option<&'body Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn take(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    if let Some(value) = object.remove(name) {
        return Some(value);
    }
    let key = object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .cloned()?;
    object.remove(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn body(operations: Value) -> Value {
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})
    }

    fn error(body: Value) -> ScimError {
        parse_patch_request(body).unwrap_err()
    }

    #[test]
    fn rfc_add_members_request_parses() {
        let operations = parse_patch_request(body(json!([{
            "op": "add",
            "path": "members",
            "value": [{
                "display": "Babs Jensen",
                "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "value": "2819c223-7f76-453a-919d-413861904646"
            }]
        }])))
        .unwrap();
        assert_eq!(operations.len(), 1);
        assert_eq!(operations[0].op, PatchOpKind::Add);
        assert_eq!(
            operations[0].path,
            Some(parse_patch_path("members").unwrap())
        );
        assert_eq!(
            operations[0].value.as_ref().unwrap()[0]["value"],
            "2819c223-7f76-453a-919d-413861904646"
        );
    }

    #[test]
    fn operations_keep_their_order_and_optional_parts() {
        let operations = parse_patch_request(body(json!([
            {"op": "remove", "path": "members"},
            {"op": "replace", "value": {"displayName": "Tour Guides"}},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "x@example.com"},
        ])))
        .unwrap();
        let kinds: Vec<PatchOpKind> = operations.iter().map(|operation| operation.op).collect();
        assert_eq!(
            kinds,
            [PatchOpKind::Remove, PatchOpKind::Replace, PatchOpKind::Add]
        );
        assert_eq!(operations[0].value, None);
        assert_eq!(operations[1].path, None);
        assert!(operations[2].path.as_ref().unwrap().value_filter.is_some());
    }

    #[test]
    fn op_is_case_insensitive_because_entra_id_capitalises_it() {
        let operations = parse_patch_request(body(json!([
            {"op": "Add", "path": "title", "value": "x"},
            {"op": "Replace", "path": "title", "value": "y"},
            {"op": "Remove", "path": "title"},
            {"op": "REPLACE", "path": "title", "value": "z"},
        ])))
        .unwrap();
        let kinds: Vec<PatchOpKind> = operations.iter().map(|operation| operation.op).collect();
        assert_eq!(
            kinds,
            [
                PatchOpKind::Add,
                PatchOpKind::Replace,
                PatchOpKind::Remove,
                PatchOpKind::Replace
            ]
        );
    }

    #[test]
    fn lower_case_operations_key_is_accepted_as_some_clients_send_it() {
        let request = json!({
            "schemas": [PATCH_OP_SCHEMA],
            "operations": [{"op": "remove", "path": "title"}],
        });
        assert_eq!(parse_patch_request(request).unwrap().len(), 1);
    }

    #[test]
    fn schema_urn_is_required_but_matched_ignoring_case() {
        let request = json!({
            "schemas": [PATCH_OP_SCHEMA.to_uppercase()],
            "Operations": [{"op": "remove", "path": "title"}],
        });
        assert!(parse_patch_request(request).is_ok());
        for request in [
            json!({"Operations": [{"op": "remove", "path": "title"}]}),
            json!({"schemas": [], "Operations": [{"op": "remove", "path": "title"}]}),
            json!({"schemas": PATCH_OP_SCHEMA, "Operations": [{"op": "remove", "path": "x"}]}),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "Operations": [{"op": "remove", "path": "title"}]}),
        ] {
            let error = error(request);
            error.assert_mentions(ScimType::InvalidSyntax, PATCH_OP_SCHEMA);
        }
    }

    #[test]
    fn null_path_means_no_path() {
        let operations = parse_patch_request(body(
            json!([{"op": "add", "path": null, "value": {"title": "x"}}]),
        ))
        .unwrap();
        assert_eq!(operations[0].path, None);
    }

    #[test]
    fn explicit_null_value_is_kept_to_unassign_the_target() {
        let operations = parse_patch_request(body(
            json!([{"op": "replace", "path": "title", "value": null}]),
        ))
        .unwrap();
        assert_eq!(operations[0].value, Some(Value::Null));
    }

    #[test]
    fn remove_without_path_is_no_target() {
        let error = error(body(json!([{"op": "remove", "value": {"title": "x"}}])));
        error.assert_names_operation(ScimType::NoTarget, 0);
    }

    #[test]
    fn add_or_replace_without_value_is_invalid_value() {
        for op in ["add", "replace"] {
            let error = error(body(json!([{"op": op, "path": "title"}])));
            assert_eq!(error.scim_type, Some(ScimType::InvalidValue), "{op}");
        }
    }

    #[test]
    fn path_less_add_needs_an_object_value() {
        let error = error(body(json!([{"op": "add", "value": ["x"]}])));
        assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn the_failing_operation_is_named_in_the_error() {
        let error = error(body(json!([
            {"op": "remove", "path": "title"},
            {"op": "remove", "path": "emails[type zz \"work\"]"},
        ])));
        error.assert_names_operation(ScimType::InvalidFilter, 1);
    }

    #[test]
    fn invalid_paths_are_invalid_path() {
        for path in [json!(""), json!("emails[type eq \"work\""), json!(7)] {
            let error = error(body(json!([{"op": "remove", "path": path}])));
            assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{path}");
        }
    }

    #[test]
    fn unknown_or_missing_op_is_invalid_syntax() {
        for operation in [
            json!({"op": "move", "path": "title"}),
            json!({"op": "test", "path": "title", "value": "x"}),
            json!({"op": 1, "path": "title"}),
            json!({"path": "title"}),
            json!("remove title"),
        ] {
            let error = error(body(json!([operation])));
            assert_eq!(
                error.scim_type,
                Some(ScimType::InvalidSyntax),
                "{operation}"
            );
        }
    }

    #[test]
    fn malformed_bodies_are_invalid_syntax() {
        for request in [
            json!([]),
            json!({"schemas": [PATCH_OP_SCHEMA]}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": {"op": "remove"}}),
            json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
        ] {
            assert_eq!(
                error(request.clone()).scim_type,
                Some(ScimType::InvalidSyntax),
                "{request}"
            );
        }
        let error = parse_patch_request_text("{\"schemas\": [").unwrap_err();
        assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax));
    }

    #[test]
    fn text_bodies_parse_like_decoded_ones() {
        let text = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations":[{"op":"replace","value":{"active":false}}]}"#;
        let operations = parse_patch_request_text(text).unwrap();
        assert_eq!(operations[0].value, Some(json!({"active": false})));
    }

    #[test]
    fn too_many_operations_is_too_many() {
        let operations = vec![json!({"op": "remove", "path": "title"}); MAX_OPERATIONS + 1];
        let error = error(body(Value::Array(operations)));
        assert_eq!(error.scim_type, Some(ScimType::TooMany));
        assert_eq!(error.status, 400);
        let operations = vec![json!({"op": "remove", "path": "title"}); MAX_OPERATIONS];
        assert_eq!(
            parse_patch_request(body(Value::Array(operations)))
                .unwrap()
                .len(),
            MAX_OPERATIONS
        );
    }

    #[test]
    fn op_keywords_round_trip() {
        for kind in [PatchOpKind::Add, PatchOpKind::Remove, PatchOpKind::Replace] {
            assert_eq!(PatchOpKind::from_keyword(kind.keyword()), Some(kind));
            assert_eq!(kind.to_string(), kind.keyword());
        }
    }
}
