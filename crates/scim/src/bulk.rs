//! Bulk requests (RFC 7644 §3.7): reading a `BulkRequest`, enforcing the advertised limits,
//! and the `bulkId` bookkeeping — which operation needs which other one created first, in what
//! order to run them, and putting created ids in place of `bulkId:…` references. Running each
//! operation is the server's business; this module only plans.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::{ScimError, ScimType};

pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// A value `bulkId:qwerty` names the resource the operation with `bulkId` `qwerty` creates.
const REFERENCE_PREFIX: &str = "bulkId:";

/// What a request may hold, as the ServiceProviderConfig advertises (RFC 7644 §3.7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: usize,
    pub max_payload_bytes: usize,
}

impl Default for BulkLimits {
    fn default() -> Self {
        Self {
            max_operations: 1000,
            max_payload_bytes: 1_048_576,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One operation as the client sent it; `method` as given, for the response.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkOperation {
    pub method: String,
    pub bulk_id: Option<String>,
    pub version: Option<String>,
    pub path: Option<String>,
    pub data: Option<Value>,
}

/// An operation checked far enough to run: its method known, its path a resource type
/// endpoint (POST) or a resource (the others), its data present where the method needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedOperation {
    pub method: BulkMethod,
    /// `Users` or `Groups`, as spelled by RFC 7644 §3.2.
    pub endpoint: &'static str,
    /// The resource id (possibly `bulkId:…`), for all but POST.
    pub id: Option<String>,
    pub data: Option<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (RFC 7644 §3.7.3); `None` runs every operation.
    pub fail_on_errors: Option<u64>,
    pub operations: Vec<BulkOperation>,
}

/// Reads a `BulkRequest` body, refusing one over the limits with 413 (naming the limit) and a
/// malformed one with 400 `invalidSyntax`. Problems of single operations are left to
/// [`check_operation`], so one bad operation fails alone.
pub fn parse_bulk_request(body: &[u8], limits: &BulkLimits) -> Result<BulkRequest, ScimError> {
    if body.len() > limits.max_payload_bytes {
        return Err(ScimError::payload_too_large(format!(
            "the bulk request is {} bytes; maxPayloadSize is {}",
            body.len(),
            limits.max_payload_bytes
        )));
    }
    let value = crate::json::parse_body(body)?;
    let Value::Object(object) = value else {
        return Err(ScimError::invalid_syntax("a BulkRequest is a JSON object"));
    };
    let get = |name: &str| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    };
    let declares_schema = match get("schemas") {
        Some(Value::Array(schemas)) => schemas.iter().any(|schema| {
            schema
                .as_str()
                .is_some_and(|schema| schema.eq_ignore_ascii_case(BULK_REQUEST_SCHEMA))
        }),
        _ => false,
    };
    if !declares_schema {
        return Err(ScimError::invalid_syntax(format!(
            "a BulkRequest declares the {BULK_REQUEST_SCHEMA} schema"
        )));
    }
    let fail_on_errors = match get("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => match number.as_u64() {
            Some(count) if count >= 1 => Some(count),
            _ => {
                return Err(ScimError::invalid_value(
                    "failOnErrors must be a whole number of at least 1",
                ));
            }
        },
        Some(_) => return Err(ScimError::invalid_value("failOnErrors must be a number")),
    };
    let Some(Value::Array(operations)) = get("Operations") else {
        return Err(ScimError::invalid_syntax(
            "a BulkRequest carries an Operations array",
        ));
    };
    if operations.len() > limits.max_operations {
        return Err(ScimError::payload_too_large(format!(
            "the bulk request has {} operations; maxOperations is {}",
            operations.len(),
            limits.max_operations
        )));
    }
    let operations = operations.iter().map(read_operation).collect();
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

fn read_operation(value: &Value) -> BulkOperation {
    let text = |name: &str| {
        value
            .as_object()
            .and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
            })
            .and_then(|(_, value)| value.as_str())
            .map(str::to_owned)
    };
    BulkOperation {
        method: text("method").unwrap_or_default(),
        bulk_id: text("bulkId"),
        version: text("version"),
        path: text("path"),
        data: value
            .as_object()
            .and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("data"))
            })
            .map(|(_, data)| data.clone()),
    }
}

/// Checks one operation's method, path and data (RFC 7644 §3.7: POST names a resource type
/// endpoint and needs a `bulkId`; PUT, PATCH and DELETE name a resource).
pub fn check_operation(operation: &BulkOperation) -> Result<CheckedOperation, ScimError> {
    let method = match operation.method.to_ascii_uppercase().as_str() {
        "POST" => BulkMethod::Post,
        "PUT" => BulkMethod::Put,
        "PATCH" => BulkMethod::Patch,
        "DELETE" => BulkMethod::Delete,
        "" => return Err(ScimError::invalid_syntax("the operation has no method")),
        other => {
            return Err(ScimError::invalid_syntax(format!(
                "method {other} is not one of POST, PUT, PATCH, DELETE"
            )));
        }
    };
    let path = operation
        .path
        .as_deref()
        .ok_or_else(|| ScimError::invalid_syntax("the operation has no path"))?;
    let trimmed = path.trim_matches('/');
    let (endpoint, id) = match trimmed.split_once('/') {
        Some((endpoint, id)) => (endpoint, Some(id)),
        None => (trimmed, None),
    };
    let endpoint = ["Users", "Groups"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(endpoint))
        .ok_or_else(|| {
            ScimError::invalid_path(format!("path {path} names neither /Users nor /Groups"))
        })?;
    match (method, id) {
        (BulkMethod::Post, Some(_)) => {
            return Err(ScimError::invalid_path(format!(
                "POST goes to /{endpoint}, not to {path}"
            )));
        }
        (BulkMethod::Post, None) if operation.bulk_id.is_none() => {
            return Err(ScimError::invalid_syntax("a POST operation needs a bulkId"));
        }
        (BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete, None) => {
            return Err(ScimError::invalid_path(format!(
                "{} needs a resource path such as /{endpoint}/{{id}}",
                method.as_str()
            )));
        }
        (_, Some(id)) if id.is_empty() || id.contains('/') => {
            return Err(ScimError::invalid_path(format!("{path} names no resource")));
        }
        _ => {}
    }
    if method != BulkMethod::Delete && !operation.data.as_ref().is_some_and(Value::is_object) {
        return Err(ScimError::invalid_syntax(format!(
            "a {} operation needs data: a JSON object",
            method.as_str()
        )));
    }
    Ok(CheckedOperation {
        method,
        endpoint,
        id: id.map(str::to_owned),
        data: operation.data.clone(),
    })
}

/// The `bulkId`s an operation refers to, in its path and anywhere in its data.
pub fn references(operation: &BulkOperation) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(id) = operation
        .path
        .as_deref()
        .and_then(|path| path.trim_matches('/').split_once('/'))
        .and_then(|(_, id)| id.strip_prefix(REFERENCE_PREFIX))
    {
        found.push(id.to_owned());
    }
    if let Some(data) = &operation.data {
        collect_references(data, &mut found);
    }
    found.sort();
    found.dedup();
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text.strip_prefix(REFERENCE_PREFIX) {
                found.push(id.to_owned());
            }
        }
        Value::Array(values) => values
            .iter()
            .for_each(|value| collect_references(value, found)),
        Value::Object(object) => object
            .values()
            .for_each(|value| collect_references(value, found)),
        _ => {}
    }
}

/// Replaces every `bulkId:…` reference in `value` by the id its operation created.
pub fn resolve_references(value: &mut Value, created: &HashMap<String, String>) {
    match value {
        Value::String(text) => {
            if let Some(id) = text
                .strip_prefix(REFERENCE_PREFIX)
                .and_then(|bulk_id| created.get(bulk_id))
            {
                *text = id.clone();
            }
        }
        Value::Array(values) => values
            .iter_mut()
            .for_each(|value| resolve_references(value, created)),
        Value::Object(object) => object
            .values_mut()
            .for_each(|value| resolve_references(value, created)),
        _ => {}
    }
}

/// The id a resource path names, with a `bulkId:…` resolved.
pub fn resolve_id(id: &str, created: &HashMap<String, String>) -> String {
    id.strip_prefix(REFERENCE_PREFIX)
        .and_then(|bulk_id| created.get(bulk_id))
        .cloned()
        .unwrap_or_else(|| id.to_owned())
}

/// One step of a plan: run operation `index`, or fail it at once with `error`.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Run(usize),
    Fail(usize, ScimError),
}

/// The order to run operations in: each after the operations whose `bulkId`s it refers to,
/// otherwise in request order (RFC 7644 §3.7.2 lets the service provider reorder). An
/// operation that refers to a `bulkId` no operation defines, reuses another's `bulkId`, or
/// sits in a reference cycle fails with 409 `invalidValue` (§3.7.2: a provider that cannot
/// resolve references returns 409). Operations that wait for a failed one are failed by the
/// runner when it reaches them.
pub fn plan(operations: &[BulkOperation]) -> Vec<Step> {
    let mut defined: HashMap<&str, usize> = HashMap::new();
    let mut steps = Vec::new();
    let mut failed: HashSet<usize> = HashSet::new();
    for (index, operation) in operations.iter().enumerate() {
        if let Some(bulk_id) = operation.bulk_id.as_deref() {
            if defined.contains_key(bulk_id) {
                failed.insert(index);
                steps.push(Step::Fail(
                    index,
                    ScimError::with_type(
                        ScimType::InvalidValue,
                        format!("bulkId {bulk_id} is used by an earlier operation"),
                    )
                    .with_status(409),
                ));
            } else {
                defined.insert(bulk_id, index);
            }
        }
    }
    let needs: Vec<Vec<String>> = operations.iter().map(references).collect();
    for (index, references) in needs.iter().enumerate() {
        if failed.contains(&index) {
            continue;
        }
        if let Some(unknown) = references
            .iter()
            .find(|reference| !defined.contains_key(reference.as_str()))
        {
            failed.insert(index);
            steps.push(Step::Fail(
                index,
                ScimError::with_type(
                    ScimType::InvalidValue,
                    format!("bulkId {unknown} names no operation of this request"),
                )
                .with_status(409),
            ));
        }
    }
    // Kahn's algorithm, always taking the earliest ready operation.
    let mut done: HashSet<usize> = failed.clone();
    let mut remaining: Vec<usize> = (0..operations.len())
        .filter(|index| !failed.contains(index))
        .collect();
    loop {
        let ready = remaining.iter().position(|&index| {
            needs[index].iter().all(|reference| {
                let producer = defined[reference.as_str()];
                producer != index && done.contains(&producer)
            })
        });
        match ready {
            Some(position) => {
                let index = remaining.remove(position);
                done.insert(index);
                steps.push(Step::Run(index));
            }
            None => break,
        }
    }
    for index in remaining {
        steps.push(Step::Fail(
            index,
            ScimError::with_type(
                ScimType::InvalidValue,
                "circular bulkId references: this operation refers to one that refers back",
            )
            .with_status(409),
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(value: Value) -> Result<BulkRequest, ScimError> {
        parse_bulk_request(value.to_string().as_bytes(), &BulkLimits::default())
    }

    fn operation(method: &str, path: &str, bulk_id: Option<&str>, data: Value) -> BulkOperation {
        BulkOperation {
            method: method.to_owned(),
            bulk_id: bulk_id.map(str::to_owned),
            version: None,
            path: Some(path.to_owned()),
            data: Some(data),
        }
    }

    #[test]
    fn reads_operations_and_fail_on_errors() {
        let parsed = request(json!({
            "schemas": [BULK_REQUEST_SCHEMA],
            "failOnErrors": 1,
            "Operations": [
                { "method": "POST", "path": "/Users", "bulkId": "qwerty", "data": { "userName": "Alice" } },
                { "method": "DELETE", "path": "/Users/b7c1", "version": "W/\"3\"" }
            ]
        }))
        .expect("valid");
        assert_eq!(parsed.fail_on_errors, Some(1));
        assert_eq!(parsed.operations.len(), 2);
        assert_eq!(parsed.operations[1].version.as_deref(), Some("W/\"3\""));
        assert_eq!(parsed.operations[0].bulk_id.as_deref(), Some("qwerty"));
    }

    #[test]
    fn limits_are_413_naming_the_limit() {
        let limits = BulkLimits {
            max_operations: 2,
            max_payload_bytes: 200,
        };
        let many = json!({
            "schemas": [BULK_REQUEST_SCHEMA],
            "Operations": [{ "method": "DELETE", "path": "/Users/1" }, { "method": "DELETE", "path": "/Users/2" }, { "method": "DELETE", "path": "/Users/3" }]
        });
        let error = parse_bulk_request(
            many.to_string().as_bytes(),
            &BulkLimits {
                max_payload_bytes: 10_000,
                ..limits
            },
        )
        .expect_err("too many");
        assert_eq!(error.status, 413);
        assert!(
            error.detail.contains("maxOperations is 2"),
            "{}",
            error.detail
        );
        let error = parse_bulk_request(&[b' '; 201], &limits).expect_err("too big");
        assert_eq!(error.status, 413);
        assert!(
            error.detail.contains("maxPayloadSize is 200"),
            "{}",
            error.detail
        );
    }

    #[test]
    fn malformed_requests_are_invalid_syntax() {
        for bad in [
            json!([]),
            json!({ "Operations": [] }),
            json!({ "schemas": [BULK_REQUEST_SCHEMA] }),
            json!({ "schemas": [BULK_REQUEST_SCHEMA], "Operations": {} }),
        ] {
            let error = request(bad.clone()).expect_err("malformed");
            assert_eq!(error.scim_type, Some(ScimType::InvalidSyntax), "{bad}");
        }
        let error = request(
            json!({ "schemas": [BULK_REQUEST_SCHEMA], "failOnErrors": 0, "Operations": [] }),
        )
        .expect_err("zero");
        assert_eq!(error.scim_type, Some(ScimType::InvalidValue));
        assert!(parse_bulk_request(b"{", &BulkLimits::default()).is_err());
    }

    #[test]
    fn operations_are_checked_one_by_one() {
        let post = operation("post", "/users", Some("a"), json!({ "userName": "a" }));
        let checked = check_operation(&post).expect("valid");
        assert_eq!(
            (checked.method, checked.endpoint, checked.id),
            (BulkMethod::Post, "Users", None)
        );
        let patch = operation("PATCH", "/Groups/g1", None, json!({ "Operations": [] }));
        assert_eq!(
            check_operation(&patch).expect("valid").id.as_deref(),
            Some("g1")
        );
        let delete = BulkOperation {
            data: None,
            ..operation("DELETE", "/Users/u1", None, Value::Null)
        };
        assert!(check_operation(&delete).is_ok());

        let failures = [
            (
                operation("GET", "/Users/u1", None, json!({})),
                ScimType::InvalidSyntax,
            ),
            (
                operation("POST", "/Users", None, json!({})),
                ScimType::InvalidSyntax,
            ),
            (
                operation("POST", "/Users/u1", Some("a"), json!({})),
                ScimType::InvalidPath,
            ),
            (
                operation("PUT", "/Users", None, json!({})),
                ScimType::InvalidPath,
            ),
            (
                operation("PUT", "/Widgets/1", None, json!({})),
                ScimType::InvalidPath,
            ),
            (
                operation("PUT", "/Users/1/2", None, json!({})),
                ScimType::InvalidPath,
            ),
            (
                operation("PUT", "/Users/1", None, json!("no object")),
                ScimType::InvalidSyntax,
            ),
        ];
        for (operation, scim_type) in failures {
            let error = check_operation(&operation).expect_err("invalid");
            assert_eq!(error.scim_type, Some(scim_type), "{operation:?}");
        }
    }

    #[test]
    fn references_are_found_in_paths_and_data_and_resolved() {
        let group = operation(
            "POST",
            "/Groups",
            Some("g"),
            json!({ "members": [{ "value": "bulkId:alice" }, { "value": "bulkId:bob" }, { "value": "x" }] }),
        );
        assert_eq!(references(&group), ["alice", "bob"]);
        let patch = operation("PATCH", "/Users/bulkId:alice", None, json!({}));
        assert_eq!(references(&patch), ["alice"]);

        let created = HashMap::from([("alice".to_owned(), "id-1".to_owned())]);
        let mut data = group.data.clone().expect("data");
        resolve_references(&mut data, &created);
        assert_eq!(
            data["members"],
            json!([{ "value": "id-1" }, { "value": "bulkId:bob" }, { "value": "x" }])
        );
        assert_eq!(resolve_id("bulkId:alice", &created), "id-1");
        assert_eq!(resolve_id("plain", &created), "plain");
    }

    #[test]
    fn plan_runs_producers_before_their_consumers_and_keeps_request_order_otherwise() {
        let operations = [
            operation(
                "POST",
                "/Groups",
                Some("g"),
                json!({ "members": [{ "value": "bulkId:u" }] }),
            ),
            operation("POST", "/Users", Some("x"), json!({})),
            operation("POST", "/Users", Some("u"), json!({})),
        ];
        assert_eq!(
            plan(&operations),
            [Step::Run(1), Step::Run(2), Step::Run(0)]
        );
    }

    #[test]
    fn unknown_duplicate_and_circular_references_fail_with_409() {
        let operations = [
            operation(
                "POST",
                "/Users",
                Some("a"),
                json!({ "manager": { "value": "bulkId:b" } }),
            ),
            operation(
                "POST",
                "/Users",
                Some("b"),
                json!({ "manager": { "value": "bulkId:a" } }),
            ),
            operation("POST", "/Users", Some("c"), json!({ "x": "bulkId:nobody" })),
            operation("POST", "/Users", Some("c"), json!({})),
            operation("POST", "/Users", Some("d"), json!({})),
            operation("POST", "/Users", Some("e"), json!({ "self": "bulkId:e" })),
        ];
        let steps = plan(&operations);
        let failures: Vec<(usize, String)> = steps
            .iter()
            .filter_map(|step| match step {
                Step::Fail(index, error) => {
                    assert_eq!(
                        (error.status, error.scim_type),
                        (409, Some(ScimType::InvalidValue))
                    );
                    Some((*index, error.detail.clone()))
                }
                Step::Run(_) => None,
            })
            .collect();
        assert_eq!(
            failures.iter().map(|(index, _)| *index).collect::<Vec<_>>(),
            [3, 2, 0, 1, 5]
        );
        assert!(failures[0].1.contains("used by an earlier operation"));
        assert!(failures[1].1.contains("names no operation"));
        assert!(failures[2].1.contains("circular"));
        assert!(steps.contains(&Step::Run(4)));
    }
}
