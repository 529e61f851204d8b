//! `/Bulk` (RFC 7644 §3.7): many SCIM operations in one request, each run as the command it
//! names, in its own transaction, in the order `scim::bulk::plan` gives (producers of a
//! `bulkId` before their consumers). Bulk is not atomic (§3.7): an operation that fails is
//! reported and the others go on, until `failOnErrors` errors have been seen.

use std::collections::HashMap;

use scim::bulk::{
    BulkMethod, BulkOperation, BulkRequest, CheckedOperation, Step, check_operation, plan,
    references, resolve_id, resolve_references,
};
use scim::error::{ScimError, ScimType};
use serde_json::{Map, Value};

use super::groups::Members;
use crate::service::{ScimPrincipal, ServiceError, ServiceResult, Services};

/// What one operation did: the resource's id and version, and the status it answers.
struct Done {
    id: String,
    version: Option<i64>,
    status: u16,
}

/// An operation's failure as the SCIM error its response carries; failures of the caller's
/// credentials or of the store end the whole request instead.
fn operation_error(error: ServiceError) -> Result<ScimError, ServiceError> {
    match error {
        ServiceError::Scim(error) => Ok(error),
        ServiceError::NotFound(what) => Ok(ScimError::not_found(format!("{what} not found"))),
        ServiceError::Conflict(message) => Ok(ScimError::uniqueness(message)),
        ServiceError::Invalid { message, .. } => Ok(ScimError::invalid_value(message)),
        ServiceError::Forbidden(message) => Ok(ScimError::forbidden(message)),
        other => Err(other),
    }
}

/// `W/"3"` or `"3"` or `3`: the version an operation's `version` names (RFC 7644 §3.7,
/// §3.14), `None` for `*`.
fn expected_version(version: Option<&str>) -> Result<Option<i64>, ScimError> {
    let Some(text) = version.map(str::trim) else {
        return Ok(None);
    };
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ScimError::precondition_failed(format!("version {text} names no version")))
}

impl Services {
    /// Runs a bulk request and answers each operation it ran, in request order.
    pub async fn scim_bulk(
        &self,
        principal: &ScimPrincipal,
        request: &BulkRequest,
        base_url: &str,
    ) -> ServiceResult<Vec<Value>> {
        let mut created: HashMap<String, String> = HashMap::new();
        let mut answers: Vec<(usize, Value)> = Vec::new();
        let mut errors = 0u64;
        for step in plan(&request.operations) {
            if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
                break;
            }
            let (index, outcome) = match step {
                Step::Fail(index, error) => (index, Err(error)),
                Step::Run(index) => {
                    let operation = &request.operations[index];
                    let outcome = self
                        .run_bulk_operation(principal, operation, &created)
                        .await;
                    let outcome = match outcome {
                        Ok(done) => Ok(done),
                        Err(error) => Err(operation_error(error)?),
                    };
                    (index, outcome)
                }
            };
            let operation = &request.operations[index];
            if let (Ok(done), Some(bulk_id)) = (&outcome, &operation.bulk_id) {
                created.insert(bulk_id.clone(), done.id.clone());
            }
            if outcome.is_err() {
                errors += 1;
            }
            answers.push((index, answer(operation, outcome, &created, base_url)));
        }
        answers.sort_by_key(|(index, _)| *index);
        Ok(answers.into_iter().map(|(_, answer)| answer).collect())
    }

    async fn run_bulk_operation(
        &self,
        principal: &ScimPrincipal,
        operation: &BulkOperation,
        created: &HashMap<String, String>,
    ) -> ServiceResult<Done> {
        let CheckedOperation {
            method,
            endpoint,
            id,
            data,
        } = check_operation(operation).map_err(ServiceError::Scim)?;
        if let Some(missing) = references(operation)
            .into_iter()
            .find(|bulk_id| !created.contains_key(bulk_id))
        {
            return Err(ServiceError::Scim(
                ScimError::with_type(
                    ScimType::InvalidValue,
                    format!("bulkId {missing} names an operation that failed"),
                )
                .with_status(409),
            ));
        }
        let mut data = data.unwrap_or(Value::Null);
        resolve_references(&mut data, created);
        let id = id.map(|id| resolve_id(&id, created)).unwrap_or_default();
        let expected =
            expected_version(operation.version.as_deref()).map_err(ServiceError::Scim)?;
        let users = endpoint == "Users";
        let done = |id: String, version: Option<i64>, status: u16| Done {
            id,
            version,
            status,
        };
        Ok(match (method, users) {
            (BulkMethod::Post, true) => {
                let user = self.create_scim_user(principal, &data).await?;
                done(user.id.to_string(), Some(user.version), 201)
            }
            (BulkMethod::Post, false) => {
                let group = self
                    .create_scim_group(principal, &data, Members::Skip)
                    .await?
                    .group;
                done(group.id.to_string(), Some(group.version), 201)
            }
            (BulkMethod::Put, true) => {
                let user = self
                    .replace_scim_user(principal, &id, &data, expected)
                    .await?;
                done(id, Some(user.version), 200)
            }
            (BulkMethod::Put, false) => {
                let group = self
                    .replace_scim_group(principal, &id, &data, expected, Members::Skip)
                    .await?
                    .group;
                done(id, Some(group.version), 200)
            }
            (BulkMethod::Patch, true) => {
                let user = self.patch_scim_user(principal, &id, data, expected).await?;
                done(id, Some(user.version), 200)
            }
            (BulkMethod::Patch, false) => {
                let group = self
                    .patch_scim_group(principal, &id, data, expected, Members::Skip)
                    .await?
                    .group;
                done(id, Some(group.version), 200)
            }
            (BulkMethod::Delete, true) => {
                self.delete_scim_user(principal, &id, expected).await?;
                done(id, None, 204)
            }
            (BulkMethod::Delete, false) => {
                self.delete_scim_group(principal, &id, expected).await?;
                done(id, None, 204)
            }
        })
    }
}

/// One operation of the `BulkResponse` (RFC 7644 §3.7.3): method, bulkId, location and
/// version when known, the status as a string, and the error message of a failure.
fn answer(
    operation: &BulkOperation,
    outcome: Result<Done, ScimError>,
    created: &HashMap<String, String>,
    base_url: &str,
) -> Value {
    let mut answer = Map::new();
    answer.insert(
        "method".to_owned(),
        Value::from(operation.method.to_ascii_uppercase()),
    );
    if let Some(bulk_id) = &operation.bulk_id {
        answer.insert("bulkId".to_owned(), Value::from(bulk_id.clone()));
    }
    let endpoint = check_operation(operation)
        .ok()
        .map(|checked| checked.endpoint);
    let location = |id: &str| endpoint.map(|endpoint| format!("{base_url}/{endpoint}/{id}"));
    match outcome {
        Ok(done) => {
            if let Some(location) = location(&done.id) {
                answer.insert("location".to_owned(), Value::from(location));
            }
            if let Some(version) = done.version {
                answer.insert(
                    "version".to_owned(),
                    Value::from(format!("W/\"{version}\"")),
                );
            }
            answer.insert("status".to_owned(), Value::from(done.status.to_string()));
        }
        Err(error) => {
            let named = check_operation(operation)
                .ok()
                .and_then(|checked| checked.id)
                .map(|id| resolve_id(&id, created));
            if let Some(location) = named.as_deref().and_then(location) {
                answer.insert("location".to_owned(), Value::from(location));
            }
            answer.insert("status".to_owned(), Value::from(error.status.to_string()));
            answer.insert("response".to_owned(), error.to_json());
        }
    }
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions_read_weak_and_strong_etags() {
        assert_eq!(expected_version(Some("W/\"3\"")).expect("valid"), Some(3));
        assert_eq!(expected_version(Some("\"4\"")).expect("valid"), Some(4));
        assert_eq!(expected_version(Some("*")).expect("valid"), None);
        assert_eq!(expected_version(None).expect("valid"), None);
        assert_eq!(
            expected_version(Some("W/\"x\"")).expect_err("bad").status,
            412
        );
    }

    #[test]
    fn failures_carry_the_scim_error_and_no_version() {
        let operation = BulkOperation {
            method: "patch".to_owned(),
            bulk_id: None,
            version: None,
            path: Some("/Users/abc".to_owned()),
            data: Some(json!({})),
        };
        let answer = answer(
            &operation,
            Err(ScimError::not_found("User abc not found")),
            &HashMap::new(),
            "https://example.org/scim/v2",
        );
        assert_eq!(
            answer,
            json!({
                "method": "PATCH",
                "location": "https://example.org/scim/v2/Users/abc",
                "status": "404",
                "response": ScimError::not_found("User abc not found").to_json()
            })
        );
    }
}
