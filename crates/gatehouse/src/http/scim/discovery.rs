//! Discovery (RFC 7644 §4): what this service provider supports, its resource types and their
//! schemas, with `meta.location` under the URL the client used. §4: query parameters such as
//! sorting and pagination are ignored here, and a `filter` is refused with 403, so a client
//! never takes a whole list for the answer to its filter.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use scim::error::{ScimError, ScimType};
use scim::schema::{
    self, BulkSettings, PaginationSettings, ResourceTypeDefinition, SchemaDefinition,
    ServiceProviderConfig,
};
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

/// RFC 7644 §4: "If a "filter" is provided, the service provider SHOULD respond with HTTP status
/// code 403 (Forbidden) to ensure that clients cannot incorrectly assume that any matching
/// conditions specified in a filter are true." Parameter names are matched ignoring case, as
/// the list endpoints read them; every other parameter is ignored.
fn refuse_filter(query: Option<&str>) -> Result<(), ScimFailure> {
    let filtered = query.is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(name, _)| name.eq_ignore_ascii_case("filter"))
    });
    if filtered {
        return Err(ScimError::with_type(
            ScimType::InvalidFilter,
            "the discovery endpoints (/ServiceProviderConfig, /ResourceTypes, /Schemas) take \
             no filter (RFC 7644 §4): ask without one, every definition is answered",
        )
        .with_status(403)
        .into());
    }
    Ok(())
}

pub async fn service_provider_config(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(failure) = refuse_filter(query.as_deref()) {
        return failure.into_response();
    }
    ScimResponse(
        StatusCode::OK,
        served_capabilities().to_json(&scim_base_url(&state, &uri)),
    )
    .into_response()
}

/// What discovery serves both as a whole list (`/Schemas`) and one by one (`/Schemas/{id}`):
/// the schemas and the resource types.
pub trait Definition: Sync + 'static {
    /// How a 404 names it: `Schema {id} not found`.
    const NOUN: &'static str;

    /// Every definition, in the order the list shows them.
    fn all() -> Vec<&'static Self>;

    /// The definition `id` names, if any.
    fn find(id: &str) -> Option<&'static Self>;

    /// Its representation, with `meta.location` under `base_url`.
    fn render(&self, base_url: &str) -> Value;
}

impl Definition for SchemaDefinition {
    const NOUN: &'static str = "Schema";

    fn all() -> Vec<&'static Self> {
        schema::schemas()
    }

    fn find(id: &str) -> Option<&'static Self> {
        schema::schema(id)
    }

    fn render(&self, base_url: &str) -> Value {
        self.to_json(base_url)
    }
}

impl Definition for ResourceTypeDefinition {
    const NOUN: &'static str = "Resource type";

    fn all() -> Vec<&'static Self> {
        schema::resource_types()
    }

    fn find(id: &str) -> Option<&'static Self> {
        schema::resource_type(id)
    }

    fn render(&self, base_url: &str) -> Value {
        self.to_json(base_url)
    }
}

/// `GET /Schemas`, `GET /ResourceTypes`: every definition of the kind, as one whole list.
pub async fn all<D: Definition>(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(failure) = refuse_filter(query.as_deref()) {
        return failure.into_response();
    }
    let base_url = scim_base_url(&state, &uri);
    let resources: Vec<Value> = D::all()
        .into_iter()
        .map(|definition| definition.render(&base_url))
        .collect();
    ScimResponse(StatusCode::OK, whole_list_message(resources)).into_response()
}

/// `GET /Schemas/{id}`, `GET /ResourceTypes/{id}`: one definition, or a SCIM 404.
pub async fn one<D: Definition>(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Path(parameters): Path<Vec<(String, String)>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(failure) = refuse_filter(query.as_deref()) {
        return failure.into_response();
    }
    let id = last_parameter(&parameters);
    match D::find(id) {
        Some(definition) => ScimResponse(
            StatusCode::OK,
            definition.render(&scim_base_url(&state, &uri)),
        )
        .into_response(),
        None => ScimFailure::from(ScimError::not_found(format!("{} {id} not found", D::NOUN)))
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
