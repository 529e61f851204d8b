//! `POST /Bulk` (RFC 7644 §3.7): the limits the ServiceProviderConfig advertises, enforced
//! with 413 before anything runs; then one `BulkResponse` with an answer per operation run.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use scim::bulk::{BULK_RESPONSE_SCHEMA, BulkLimits, parse_bulk_request};
use scim::error::ScimError;
use serde_json::json;

use super::parameters::JsonMediaType;
use super::resource::ScimCaller;
use super::response::{ScimResponse, ScimResult};

/// At most 1,000 operations and 1 MiB per request.
pub const BULK_LIMITS: BulkLimits = BulkLimits {
    max_operations: 1000,
    max_payload_bytes: 1_048_576,
};

pub async fn bulk(
    caller: ScimCaller,
    _json: JsonMediaType,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    // A body beyond the server's own body limit never reaches us whole: say which limit.
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::payload_too_large(format!(
                "the bulk request is larger than maxPayloadSize, {} bytes",
                BULK_LIMITS.max_payload_bytes
            ))
        } else {
            ScimError::invalid_syntax(rejection.body_text())
        }
    })?;
    let request = parse_bulk_request(&body, &BULK_LIMITS)?;
    let operations = caller
        .state
        .services
        .scim_bulk(&caller.principal, &request, &caller.base_url)
        .await?;
    Ok(ScimResponse(
        StatusCode::OK,
        json!({ "schemas": [BULK_RESPONSE_SCHEMA], "Operations": operations }),
    )
    .into_response())
}
