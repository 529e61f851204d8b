//! `POST /.search` at the root (RFC 7644 §3.4.3): Users and Groups in one list response.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use super::discovery::scim_base_url;
use super::response::{ScimResponse, list_message};
use super::users::{ScimResult, list_query, search_parameters, select};
use crate::http::AppState;
use crate::service::Principal;
use crate::service::scim::ScimResource;

pub async fn search_all(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> ScimResult {
    let parameters = search_parameters(&body)?;
    let query = list_query(&parameters)?;
    let (listing, start_index) = state.services.scim_search_all(&principal, &query).await?;
    let base_url = scim_base_url(&state, &uri);
    let resources: Vec<Value> = listing
        .items
        .iter()
        .map(|resource| {
            let representation = match resource {
                ScimResource::User(user) => super::users::representation(user, &base_url),
                ScimResource::Group(group) => super::groups::representation(group, &base_url),
            };
            select(
                representation,
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
