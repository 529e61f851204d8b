//! `/Users` (RFC 7644 §3.2–3.6): thin handlers over the SCIM User commands. Representations
//! carry `meta` with a weak ETag; `If-Match` guards writes and `If-None-Match` reads.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;
use scim::projection::AttributeSelection;
use serde_json::{Map, Value, json};

use super::discovery::scim_base_url;
use super::parameters::{
    JsonBytes, Kind, ListParameters, ProjectionParameters, expected_version, id_of, json_body,
    list_query, search_parameters,
};
use super::response::{
    ScimFailure, ScimResponse, etag, list_message, no_content, not_modified, resource_response,
};
use crate::domain::{ScimPatchResponse, ScimUserRecord};
use crate::http::AppState;
use crate::service::Principal;

pub(super) type ScimResult = Result<Response, ScimFailure>;

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

fn single(
    status: StatusCode,
    record: &ScimUserRecord,
    base_url: &str,
    selection: &AttributeSelection,
) -> Response {
    let body = selection.apply(representation(record, base_url));
    let location = format!("{base_url}/Users/{}", record.id);
    resource_response(status, body, record.version, &location)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ListParameters>,
) -> ScimResult {
    parameters.refuse_password_in_uri()?;
    list_users(&state, &principal, &uri, parameters).await
}

pub async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let parameters = search_parameters(&body)?;
    list_users(&state, &principal, &uri, parameters).await
}

async fn list_users(
    state: &AppState,
    principal: &Principal,
    uri: &axum::http::Uri,
    parameters: ListParameters,
) -> ScimResult {
    let query = list_query(&parameters)?;
    let selection = parameters.selection(Kind::User)?;
    let page = state.services.scim_users(principal, &query).await?;
    let base_url = scim_base_url(state, uri);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|record| selection.apply(representation(record, &base_url)))
        .collect();
    Ok(ScimResponse(StatusCode::OK, list_message(&page, resources)).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ProjectionParameters>,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(Kind::User)?;
    let record = state
        .services
        .create_scim_user(&principal, &json_body(&body)?)
        .await?;
    Ok(single(
        StatusCode::CREATED,
        &record,
        &scim_base_url(&state, &uri),
        &selection,
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
    let selection = parameters.selection(Kind::User)?;
    let record = state.services.scim_user(&principal, id_of(&path)).await?;
    if let Some(response) = not_modified(&headers, record.version) {
        return Ok(response);
    }
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &selection,
    ))
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(Kind::User)?;
    let expected = expected_version(&headers)?;
    let record = state
        .services
        .replace_scim_user(&principal, id_of(&path), &json_body(&body)?, expected)
        .await?;
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &selection,
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(Kind::User)?;
    let expected = expected_version(&headers)?;
    let answer = state.services.scim_patch_response(&principal).await?;
    let record = state
        .services
        .patch_scim_user(&principal, id_of(&path), json_body(&body)?, expected)
        .await?;
    if answer == ScimPatchResponse::NoContent {
        return Ok(no_content(record.version));
    }
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &selection,
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
    let selection = parameters.selection(Kind::User)?;
    let record = state.services.scim_me(&principal).await?;
    Ok(single(
        StatusCode::OK,
        &record,
        &scim_base_url(&state, &uri),
        &selection,
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
