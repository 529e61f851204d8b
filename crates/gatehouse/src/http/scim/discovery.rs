//! Discovery (RFC 7644 §4): what this service provider supports, its resource types and their
//! schemas, with `meta.location` under the URL the client used.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;
use scim::schema::{self, BulkSettings, PaginationSettings, ServiceProviderConfig};
use serde_json::Value;

use super::response::{ScimFailure, ScimResponse, whole_list_message};
use crate::http::AppState;

/// The SCIM base URL the request came through: `…/scim/v2` or `…/accounts/{account}/scim/v2`.
pub(super) fn scim_base_url(state: &AppState, uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let base_path = path
        .find("/scim/v2")
        .map_or("/scim/v2", |at| &path[..at + "/scim/v2".len()]);
    format!("{}{}", state.base_url, base_path)
}

/// What is served, with the limits the handlers enforce.
fn served_capabilities() -> ServiceProviderConfig {
    let defaults = ServiceProviderConfig::default();
    ServiceProviderConfig {
        patch_supported: true,
        bulk: BulkSettings {
            supported: true,
            max_operations: u32::try_from(super::bulk::BULK_LIMITS.max_operations)
                .unwrap_or(u32::MAX),
            max_payload_size_bytes: u64::try_from(super::bulk::BULK_LIMITS.max_payload_bytes)
                .unwrap_or(u64::MAX),
        },
        // Both kinds, index by default (what Entra ID and Okta use); cursors expire as the
        // service checks them.
        pagination: PaginationSettings {
            cursor: true,
            cursor_timeout_seconds: u32::try_from(crate::service::scim::CURSOR_TIMEOUT_SECONDS)
                .unwrap_or(u32::MAX),
            ..defaults.pagination
        },
        ..defaults
    }
}

pub async fn service_provider_config(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    ScimResponse(
        StatusCode::OK,
        served_capabilities().to_json(&scim_base_url(&state, &uri)),
    )
    .into_response()
}

pub async fn resource_types(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let base_url = scim_base_url(&state, &uri);
    let resources: Vec<Value> = schema::resource_types()
        .iter()
        .map(|resource_type| resource_type.to_json(&base_url))
        .collect();
    ScimResponse(StatusCode::OK, whole_list_message(resources)).into_response()
}

pub async fn resource_type(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Path(parameters): Path<Vec<(String, String)>>,
) -> Response {
    let id = last_parameter(&parameters);
    match schema::resource_type(id) {
        Some(resource_type) => ScimResponse(
            StatusCode::OK,
            resource_type.to_json(&scim_base_url(&state, &uri)),
        )
        .into_response(),
        None => ScimFailure::from(ScimError::not_found(format!(
            "Resource type {id} not found"
        )))
        .into_response(),
    }
}

pub async fn schemas(State(state): State<AppState>, OriginalUri(uri): OriginalUri) -> Response {
    let base_url = scim_base_url(&state, &uri);
    let resources: Vec<Value> = schema::schemas()
        .iter()
        .map(|definition| definition.to_json(&base_url))
        .collect();
    ScimResponse(StatusCode::OK, whole_list_message(resources)).into_response()
}

pub async fn schema(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Path(parameters): Path<Vec<(String, String)>>,
) -> Response {
    let id = last_parameter(&parameters);
    match schema::schema(id) {
        Some(definition) => ScimResponse(
            StatusCode::OK,
            definition.to_json(&scim_base_url(&state, &uri)),
        )
        .into_response(),
        None => ScimFailure::from(ScimError::not_found(format!("Schema {id} not found")))
            .into_response(),
    }
}

/// The `{id}` of a route that may also carry `{account}`.
fn last_parameter(parameters: &[(String, String)]) -> &str {
    parameters
        .iter()
        .rev()
        .find(|(name, _)| name == "id")
        .map_or("", |(_, value)| value.as_str())
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    ScimFailure::from(ScimError::not_found(format!(
        "No SCIM endpoint at {}",
        uri.path()
    )))
    .into_response()
}
