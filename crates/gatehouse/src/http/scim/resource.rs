//! The handlers `/Users` and `/Groups` share (RFC 7644 §3.2–3.6), generic over the resource
//! type: parameters, ETags (`If-Match` guards writes, `If-None-Match` reads) and answers are
//! handled alike; only the service commands and the representation differ.

use std::collections::HashMap;
use std::fmt::Display;

use axum::Extension;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{FromRequestParts, OriginalUri, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use scim::projection::AttributeSelection;
use serde_json::{Map, Value, json};

use super::discovery::scim_base_url;
use super::parameters::{
    JsonBytes, Kind, ListParameters, ProjectionParameters, expected_version, id_of, json_body,
    list_query, members_for, search_parameters,
};
use super::response::{
    ScimResult, etag, list_response, no_content, not_modified, resource_response,
};
use crate::domain::ScimPatchResponse;
use crate::http::AppState;
use crate::service::scim::{ListPage, Members, ScimListQuery};
use crate::service::{ScimPrincipal, ServiceResult, Services};

/// The caller of a SCIM endpoint: the services, the principal `require_scim_bearer` resolved,
/// and the base URL the request came through (every location in the answer starts with it).
pub(super) struct ScimCaller {
    pub state: AppState,
    pub principal: ScimPrincipal,
    pub base_url: String,
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ExtensionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, ExtensionRejection> {
        let Extension(principal) =
            Extension::<ScimPrincipal>::from_request_parts(parts, state).await?;
        let OriginalUri(uri) = match OriginalUri::from_request_parts(parts, state).await {
            Ok(uri) => uri,
            Err(never) => match never {},
        };
        Ok(Self {
            base_url: scim_base_url(state, &uri),
            state: state.clone(),
            principal,
        })
    }
}

/// What a command is given besides its own arguments: who runs it, the version `If-Match`
/// names (`None`: any), and whether a Group's members are read — only when the answer shows
/// them. Users have no members.
pub(super) struct Command<'a> {
    pub services: &'a Services,
    pub principal: &'a ScimPrincipal,
    pub expected_version: Option<i64>,
    pub members: Members,
}

impl ScimCaller {
    fn command(&self, expected_version: Option<i64>, members: Members) -> Command<'_> {
        Command {
            services: &self.state.services,
            principal: &self.principal,
            expected_version,
            members,
        }
    }
}

/// A SCIM resource type served at its own endpoint: its stored records, their representation,
/// and the service commands that read and change them.
pub(super) trait ResourceType {
    /// The stored record the commands answer with.
    type Record: Send + Sync;
    /// The resource type, for its schemas and endpoint.
    const KIND: Kind;

    /// The representation of a stored record (RFC 7643 §3.1 `meta` included).
    fn representation(record: &Self::Record, base_url: &str) -> Value;
    /// The record's id, as its location spells it.
    fn id(record: &Self::Record) -> String;
    /// The record's version, as its ETag carries it.
    fn version(record: &Self::Record) -> i64;

    fn list(
        on: Command<'_>,
        query: &ScimListQuery,
    ) -> impl Future<Output = ServiceResult<ListPage<Self::Record>>> + Send;
    fn create(
        on: Command<'_>,
        body: &Value,
    ) -> impl Future<Output = ServiceResult<Self::Record>> + Send;
    fn get(on: Command<'_>, id: &str) -> impl Future<Output = ServiceResult<Self::Record>> + Send;
    fn replace(
        on: Command<'_>,
        id: &str,
        body: &Value,
    ) -> impl Future<Output = ServiceResult<Self::Record>> + Send;
    fn patch(
        on: Command<'_>,
        id: &str,
        body: Value,
    ) -> impl Future<Output = ServiceResult<Self::Record>> + Send;
    fn delete(on: Command<'_>, id: &str) -> impl Future<Output = ServiceResult<()>> + Send;
}

/// The client's representation as stored, with the server's `id` set.
pub(super) fn with_id(resource: &Value, id: impl Display) -> Map<String, Value> {
    let mut object = match resource {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    object.insert("id".to_owned(), Value::from(id.to_string()));
    object
}

/// A resource's `meta` (RFC 7643 §3.1), with its weak ETag as `version`.
pub(super) fn meta(
    kind: Kind,
    base_url: &str,
    id: impl Display,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    version: i64,
) -> Value {
    json!({
        "resourceType": kind.resource_type(),
        "created": created,
        "lastModified": last_modified,
        "location": kind.location(base_url, id),
        "version": etag(version),
    })
}

/// One record as the selection shows it, with its ETag (and its `Location` when created).
pub(super) fn single<R: ResourceType>(
    status: StatusCode,
    record: &R::Record,
    caller: &ScimCaller,
    selection: &AttributeSelection,
) -> Response {
    let body = selection.apply(R::representation(record, &caller.base_url));
    let location = R::KIND.location(&caller.base_url, R::id(record));
    resource_response(status, body, R::version(record), &location)
}

pub async fn list<R: ResourceType>(
    caller: ScimCaller,
    Query(parameters): Query<ListParameters>,
) -> ScimResult {
    parameters.refuse_password_in_uri()?;
    list_page::<R>(&caller, parameters).await
}

pub async fn search<R: ResourceType>(caller: ScimCaller, JsonBytes(body): JsonBytes) -> ScimResult {
    let parameters = search_parameters(&body)?;
    list_page::<R>(&caller, parameters).await
}

async fn list_page<R: ResourceType>(caller: &ScimCaller, parameters: ListParameters) -> ScimResult {
    let query = list_query(&parameters)?;
    let selection = parameters.selection(R::KIND)?;
    let page = R::list(caller.command(None, members_for(&selection)), &query).await?;
    Ok(list_response(&page, |record| {
        selection.apply(R::representation(record, &caller.base_url))
    }))
}

pub async fn create<R: ResourceType>(
    caller: ScimCaller,
    Query(parameters): Query<ProjectionParameters>,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(R::KIND)?;
    let record = R::create(
        caller.command(None, members_for(&selection)),
        &json_body(&body)?,
    )
    .await?;
    Ok(single::<R>(
        StatusCode::CREATED,
        &record,
        &caller,
        &selection,
    ))
}

pub async fn get_one<R: ResourceType>(
    caller: ScimCaller,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
) -> ScimResult {
    let selection = parameters.selection(R::KIND)?;
    let record = R::get(caller.command(None, members_for(&selection)), id_of(&path)).await?;
    if let Some(response) = not_modified(&headers, R::version(&record)) {
        return Ok(response);
    }
    Ok(single::<R>(StatusCode::OK, &record, &caller, &selection))
}

pub async fn replace<R: ResourceType>(
    caller: ScimCaller,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(R::KIND)?;
    let expected = expected_version(&headers)?;
    let on = caller.command(expected, members_for(&selection));
    let record = R::replace(on, id_of(&path), &json_body(&body)?).await?;
    Ok(single::<R>(StatusCode::OK, &record, &caller, &selection))
}

pub async fn patch<R: ResourceType>(
    caller: ScimCaller,
    Path(path): Path<HashMap<String, String>>,
    Query(parameters): Query<ProjectionParameters>,
    headers: HeaderMap,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(R::KIND)?;
    let expected = expected_version(&headers)?;
    // The account may have PATCH answered with 204: then the members are not even read.
    let answer = caller
        .state
        .services
        .scim_patch_response(&caller.principal)
        .await?;
    let members = match answer {
        ScimPatchResponse::NoContent => Members::Skip,
        ScimPatchResponse::Resource => members_for(&selection),
    };
    let record = R::patch(
        caller.command(expected, members),
        id_of(&path),
        json_body(&body)?,
    )
    .await?;
    if answer == ScimPatchResponse::NoContent {
        return Ok(no_content(R::version(&record)));
    }
    Ok(single::<R>(StatusCode::OK, &record, &caller, &selection))
}

pub async fn delete<R: ResourceType>(
    caller: ScimCaller,
    Path(path): Path<HashMap<String, String>>,
    headers: HeaderMap,
) -> ScimResult {
    let expected = expected_version(&headers)?;
    R::delete(caller.command(expected, Members::Skip), id_of(&path)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
