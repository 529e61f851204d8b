//! `/Users` (RFC 7644 §3.2–3.6): thin handlers over the SCIM User commands. Representations
//! carry `meta` with a weak ETag; `If-Match` guards writes and `If-None-Match` reads.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::discovery::scim_base_url;
use super::response::{
    ScimFailure, ScimResponse, etag, list_message, not_modified, resource_response,
};
use crate::domain::ScimUserRecord;
use crate::http::AppState;
use crate::service::Principal;
use crate::service::scim::{ScimListQuery, SortOrder};

pub(super) type ScimResult = Result<Response, ScimFailure>;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListParameters {
    pub(super) filter: Option<String>,
    pub(super) sort_by: Option<String>,
    pub(super) sort_order: Option<String>,
    pub(super) start_index: Option<String>,
    pub(super) count: Option<String>,
    pub(super) attributes: Option<String>,
    pub(super) excluded_attributes: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionParameters {
    pub(super) attributes: Option<String>,
    pub(super) excluded_attributes: Option<String>,
}

pub(super) fn integer(name: &str, raw: Option<&str>) -> Result<Option<i64>, ScimFailure> {
    raw.map(|text| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
    })
    .transpose()
    .map_err(ScimFailure::from)
}

/// The version an `If-Match` header names; `*` names any.
pub(super) fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ScimFailure> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let digits = text.trim_start_matches("W/").trim_matches('"');
    digits.parse::<i64>().map(Some).map_err(|_| {
        ScimFailure::from(ScimError::precondition_failed(format!(
            "If-Match {text} names no version of this User"
        )))
    })
}

/// The representation of a stored SCIM User (RFC 7643 §4.1, §3.1 `meta`).
pub(super) fn representation(record: &ScimUserRecord, base_url: &str) -> Value {
    let mut resource = match &record.resource {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    resource.insert("id".to_owned(), Value::from(record.id.to_string()));
    resource.insert(
        "meta".to_owned(),
        json!({
            "resourceType": "User",
            "created": record.created_at,
            "lastModified": record.updated_at,
            "location": format!("{base_url}/Users/{}", record.id),
            "version": etag(record.version),
        }),
    );
    Value::Object(resource)
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), at the level of top-level
/// attributes and extension objects; `id` and `schemas` are always returned.
pub(super) fn select(
    mut resource: Value,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|name| {
                let name = name.trim();
                // `urn:…:User:name.givenName` → `name`; an extension attribute keeps its URN key.
                let without_core = name
                    .strip_prefix(scim::schema::USER_SCHEMA_URN)
                    .map(|rest| rest.trim_start_matches(':'))
                    .unwrap_or(name);
                let extension = scim::schema::ENTERPRISE_USER_SCHEMA_URN;
                if without_core.len() > extension.len()
                    && without_core[..extension.len()].eq_ignore_ascii_case(extension)
                {
                    extension.to_owned()
                } else {
                    without_core
                        .split('.')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                }
            })
            .collect()
    };
    let Value::Object(object) = &mut resource else {
        return resource;
    };
    let always = |key: &str| key.eq_ignore_ascii_case("id") || key.eq_ignore_ascii_case("schemas");
    if let Some(list) = attributes.filter(|list| !list.trim().is_empty()) {
        let wanted = names(list);
        object.retain(|key, _| {
            always(key) || wanted.iter().any(|name| name.eq_ignore_ascii_case(key))
        });
    } else if let Some(list) = excluded.filter(|list| !list.trim().is_empty()) {
        let unwanted = names(list);
        object.retain(|key, _| {
            always(key) || !unwanted.iter().any(|name| name.eq_ignore_ascii_case(key))
        });
    }
    resource
}

fn single(
    status: StatusCode,
    record: &ScimUserRecord,
    base_url: &str,
    parameters: &ProjectionParameters,
) -> Response {
    let body = select(
        representation(record, base_url),
        parameters.attributes.as_deref(),
        parameters.excluded_attributes.as_deref(),
    );
    let location = format!("{base_url}/Users/{}", record.id);
    resource_response(status, body, record.version, &location)
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, ScimFailure> {
    serde_json::from_slice(body).map_err(|error| {
        ScimFailure::from(ScimError::invalid_syntax(format!(
            "the body is not valid JSON: {error}"
        )))
    })
}

pub(super) fn id_of(parameters: &HashMap<String, String>) -> &str {
    parameters.get("id").map_or("", String::as_str)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ListParameters>,
) -> ScimResult {
    list_users(&state, &principal, &uri, parameters).await
}

/// The body of `POST /.search` (RFC 7644 §3.4.3): the list parameters, in JSON, so filters
/// stay out of URLs and logs. Numbers may be JSON numbers or strings.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    schemas: Option<Vec<String>>,
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<Value>,
    count: Option<Value>,
    attributes: Option<Vec<String>>,
    excluded_attributes: Option<Vec<String>>,
}

/// The list parameters of a `SearchRequest` body.
pub(super) fn search_parameters(body: &Bytes) -> Result<ListParameters, ScimFailure> {
    let request: SearchRequest = serde_json::from_value(json_body(body)?).map_err(|error| {
        ScimFailure::from(ScimError::invalid_syntax(format!(
            "not a SearchRequest: {error}"
        )))
    })?;
    let declared = request.schemas.as_deref().unwrap_or_default();
    if !declared.is_empty()
        && !declared
            .iter()
            .any(|schema| schema.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
    {
        return Err(ScimError::invalid_syntax(format!(
            "a search request declares the {SEARCH_REQUEST_SCHEMA} schema"
        ))
        .into());
    }
    let text = |value: Option<Value>| match value {
        Some(Value::String(text)) => Some(text),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    let parameters = ListParameters {
        filter: request.filter,
        sort_by: request.sort_by,
        sort_order: request.sort_order,
        start_index: text(request.start_index),
        count: text(request.count),
        attributes: request.attributes.map(|names| names.join(",")),
        excluded_attributes: request.excluded_attributes.map(|names| names.join(",")),
    };
    Ok(parameters)
}

const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

pub async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> ScimResult {
    let parameters = search_parameters(&body)?;
    list_users(&state, &principal, &uri, parameters).await
}

/// The list parameters of a query string or a `.search` body, checked.
pub(super) fn list_query(parameters: &ListParameters) -> Result<ScimListQuery, ScimFailure> {
    let sort_order = match parameters.sort_order.as_deref() {
        None => None,
        Some(order) if order.eq_ignore_ascii_case("ascending") => Some(SortOrder::Ascending),
        Some(order) if order.eq_ignore_ascii_case("descending") => Some(SortOrder::Descending),
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "sortOrder must be ascending or descending, not {other}"
            ))
            .into());
        }
    };
    let query = ScimListQuery {
        filter: parameters.filter.clone(),
        sort_by: parameters.sort_by.clone(),
        sort_order,
        start_index: integer("startIndex", parameters.start_index.as_deref())?,
        count: integer("count", parameters.count.as_deref())?,
    };
    Ok(query)
}

async fn list_users(
    state: &AppState,
    principal: &Principal,
    uri: &axum::http::Uri,
    parameters: ListParameters,
) -> ScimResult {
    let query = list_query(&parameters)?;
    let (listing, start_index) = state.services.scim_users(principal, &query).await?;
    let base_url = scim_base_url(state, uri);
    let resources: Vec<Value> = listing
        .items
        .iter()
        .map(|record| {
            select(
                representation(record, &base_url),
                parameters.attributes.as_deref(),
                parameters.excluded_attributes.as_deref(),
            )
        })
        .collect();
    Ok(ScimResponse(
        StatusCode::OK,
        list_message(listing.total, start_index, resources),
    )
    .into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ProjectionParameters>,
    body: Bytes,
) -> ScimResult {
    let record = state
        .services
        .create_scim_user(&principal, &json_body(&body)?)
        .await?;
    Ok(single(
        StatusCode::CREATED,
        &record,
        &scim_base_url(&state, &uri),
        &parameters,
    ))
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
) -> ScimResult {
    let record = state.services.scim_user(&principal, id_of(&path)).await?;
    if let Some(response) = not_modified(&headers, record.version) {
        return Ok(response);
    }
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &parameters,
    ))
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let expected = expected_version(&headers)?;
    let record = state
        .services
        .replace_scim_user(&principal, id_of(&path), &json_body(&body)?, expected)
        .await?;
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &parameters,
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let expected = expected_version(&headers)?;
    let record = state
        .services
        .patch_scim_user(&principal, id_of(&path), json_body(&body)?, expected)
        .await?;
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &parameters,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> ScimResult {
    let expected = expected_version(&headers)?;
    state
        .services
        .delete_scim_user(&principal, id_of(&path), expected)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /Me`: the caller's own SCIM User, at its `/Users` location.
pub async fn me(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ProjectionParameters>,
) -> ScimResult {
    let record = state.services.scim_me(&principal).await?;
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &parameters,
    ))
}

/// `/Me` is read-only here: people change themselves in the identity provider, which then
/// provisions the change (RFC 7644 §3.11 answers 501 for what a provider doesn't support).
pub async fn me_not_implemented() -> ScimResult {
    Err(ScimError::new(
        501,
        None,
        "/Me supports GET only: change the User in the identity provider",
    )
    .into())
}
