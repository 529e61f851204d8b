//! `/Groups` (RFC 7644 §3.2–3.6): thin handlers over the SCIM Group commands, sharing the
//! parameter and ETag handling of `/Users`.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use scim::projection::AttributeSelection;
use serde_json::{Map, Value, json};

use super::discovery::scim_base_url;
use super::parameters::{
    JsonBytes, Kind, ListParameters, ProjectionParameters, expected_version, id_of, json_body,
    list_query, members_for, search_parameters,
};
use super::response::{
    ScimResponse, etag, list_message, no_content, not_modified, resource_response,
};
use super::users::ScimResult;
use crate::domain::{GroupMember, MemberType, ScimPatchResponse};
use crate::http::AppState;
use crate::service::Principal;
use crate::service::scim::{GroupWithMembers, Members};

/// The representation of a group (RFC 7643 §4.2) with its members.
pub(super) fn representation(group: &GroupWithMembers, base_url: &str) -> Value {
    let record = &group.group;
    let mut resource = match &record.resource {
        Value::Object(object) => object.clone(),
        _ => Map::new(),
    };
    resource.insert("id".to_owned(), Value::from(record.id.to_string()));
    resource.insert(
        "displayName".to_owned(),
        Value::from(record.display_name.clone()),
    );
    if let Some(members) = &group.members {
        resource.insert("members".to_owned(), member_values(members, base_url));
    }
    resource.insert(
        "meta".to_owned(),
        json!({
            "resourceType": "Group",
            "created": record.created_at,
            "lastModified": record.updated_at,
            "location": format!("{base_url}/Groups/{}", record.id),
            "version": etag(record.version),
        }),
    );
    Value::Object(resource)
}

/// `members` values (RFC 7643 §4.2): id, `$ref` to the member's own location, display, type.
fn member_values(members: &[GroupMember], base_url: &str) -> Value {
    members
        .iter()
        .map(|member| {
            let endpoint = match member.member_type {
                MemberType::User => "Users",
                MemberType::Group => "Groups",
            };
            json!({
                "value": member.id.to_string(),
                "$ref": format!("{base_url}/{endpoint}/{}", member.id),
                "display": member.display,
                "type": member.member_type.as_str(),
            })
        })
        .collect()
}

fn single(
    status: StatusCode,
    group: &GroupWithMembers,
    base_url: &str,
    selection: &AttributeSelection,
) -> Response {
    let body = selection.apply(representation(group, base_url));
    let location = format!("{base_url}/Groups/{}", group.group.id);
    resource_response(status, body, group.group.version, &location)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ListParameters>,
) -> ScimResult {
    parameters.refuse_password_in_uri()?;
    list_groups(&state, &principal, &uri, parameters).await
}

async fn list_groups(
    state: &AppState,
    principal: &Principal,
    uri: &axum::http::Uri,
    parameters: ListParameters,
) -> ScimResult {
    let query = list_query(&parameters)?;
    let selection = parameters.selection(Kind::Group)?;
    let page = state
        .services
        .scim_groups(principal, &query, members_for(&selection))
        .await?;
    let base_url = scim_base_url(state, uri);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|group| selection.apply(representation(group, &base_url)))
        .collect();
    Ok(ScimResponse(StatusCode::OK, list_message(&page, resources)).into_response())
}

pub async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let parameters = search_parameters(&body)?;
    list_groups(&state, &principal, &uri, parameters).await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    Query(parameters): Query<ProjectionParameters>,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let selection = parameters.selection(Kind::Group)?;
    let group = state
        .services
        .create_scim_group(&principal, &json_body(&body)?, members_for(&selection))
        .await?;
    Ok(single(
        StatusCode::CREATED,
        &group,
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
    let selection = parameters.selection(Kind::Group)?;
    let group = state
        .services
        .scim_group(&principal, id_of(&path), members_for(&selection))
        .await?;
    if let Some(response) = not_modified(&headers, group.group.version) {
        return Ok(response);
    }
    Ok(single(
        StatusCode::OK,
        &group,
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
    let selection = parameters.selection(Kind::Group)?;
    let expected = expected_version(&headers)?;
    let group = state
        .services
        .replace_scim_group(
            &principal,
            id_of(&path),
            &json_body(&body)?,
            expected,
            members_for(&selection),
        )
        .await?;
    Ok(single(
        StatusCode::OK,
        &group,
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
    let selection = parameters.selection(Kind::Group)?;
    let expected = expected_version(&headers)?;
    let answer = state.services.scim_patch_response(&principal).await?;
    let members = match answer {
        ScimPatchResponse::NoContent => Members::Skip,
        ScimPatchResponse::Resource => members_for(&selection),
    };
    let group = state
        .services
        .patch_scim_group(
            &principal,
            id_of(&path),
            json_body(&body)?,
            expected,
            members,
        )
        .await?;
    if answer == ScimPatchResponse::NoContent {
        return Ok(no_content(group.group.version));
    }
    Ok(single(
        StatusCode::OK,
        &group,
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
        .delete_scim_group(&principal, id_of(&path), expected)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
