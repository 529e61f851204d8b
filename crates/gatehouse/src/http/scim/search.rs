//! `POST /.search` at the root (RFC 7644 §3.4.3): Users and Groups in one list response.

use super::groups::Groups;
use super::parameters::{JsonBytes, Kind, list_query, members_for, search_parameters};
use super::resource::{ResourceType, ScimCaller};
use super::response::{ScimResult, list_response};
use super::users::Users;
use crate::service::scim::ScimResource;

pub async fn search_all(caller: ScimCaller, JsonBytes(body): JsonBytes) -> ScimResult {
    let parameters = search_parameters(&body)?;
    let query = list_query(&parameters)?;
    let user_selection = parameters.selection(Kind::User)?;
    let group_selection = parameters.selection(Kind::Group)?;
    let page = caller
        .state
        .services
        .scim_search_all(&caller.principal, &query, members_for(&group_selection))
        .await?;
    Ok(list_response(&page, |resource| match resource {
        ScimResource::User(user) => {
            user_selection.apply(Users::representation(user, &caller.base_url))
        }
        ScimResource::Group(group) => {
            group_selection.apply(Groups::representation(group, &caller.base_url))
        }
    }))
}
