//! `POST /.search` at the root (RFC 7644 §3.4.3): Users and Groups in one list response.

use axum::Extension;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use super::discovery::scim_base_url;
use super::parameters::{JsonBytes, Kind, list_query, members_for, search_parameters};
use super::response::{ScimResponse, list_message};
use super::users::ScimResult;
use crate::http::AppState;
use crate::service::Principal;
use crate::service::scim::ScimResource;

pub async fn search_all(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    JsonBytes(body): JsonBytes,
) -> ScimResult {
    let parameters = search_parameters(&body)?;
    let query = list_query(&parameters)?;
    let user_selection = parameters.selection(Kind::User)?;
    let group_selection = parameters.selection(Kind::Group)?;
    let page = state
        .services
        .scim_search_all(&principal, &query, members_for(&group_selection))
        .await?;
    let base_url = scim_base_url(&state, &uri);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|resource| {
            let representation = match resource {
                ScimResource::User(user) => super::users::representation(user, &base_url),
                ScimResource::Group(group) => super::groups::representation(group, &base_url),
            };
            match resource {
                ScimResource::User(_) => user_selection.apply(representation),
                ScimResource::Group(_) => group_selection.apply(representation),
            }
        })
        .collect();
    Ok(ScimResponse(StatusCode::OK, list_message(&page, resources)).into_response())
}
