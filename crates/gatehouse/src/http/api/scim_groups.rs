//! `/v1/scim_groups`: the SCIM Groups the provisioning client made, read-only, with their
//! members a page at a time (a group may have 100,000). Needs `scim:read` and an account or
//! directory administrator.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::FieldsParams;
use super::scim_users::{ListParams, ScimSortFields};
use super::{ApiPath, ApiQuery, ErrorBody, list_response, record_response};
use crate::domain::GroupMember;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::pagination::Page;
use crate::service::Principal;
use crate::service::scim::GroupSummary;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scim_groups))
        .routes(routes!(get_scim_group))
        .routes(routes!(list_scim_group_members))
}

const SORT_FIELDS: ScimSortFields = &[
    ("display_name", Some("displayName")),
    ("created_at", None),
    ("updated_at", Some("meta.lastModified")),
];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
    /// Comma-separated fields to return.
    pub fields: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimGroupView {
    pub id: Uuid,
    pub display_name: String,
    pub external_id: Option<String>,
    /// `team`, `organization`, `site`, `skill_pool` or `role`; or, for a group Xurrent typed
    /// otherwise (its core `groupType`), that text as sent.
    pub group_type: String,
    pub member_count: u64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&GroupSummary> for ScimGroupView {
    fn from(summary: &GroupSummary) -> Self {
        let group = &summary.group;
        Self {
            id: group.id.0,
            display_name: group.display_name.clone(),
            external_id: group.external_id.clone(),
            group_type: group.group_type.clone(),
            member_count: summary.member_count,
            version: group.version,
            created_at: group.created_at,
            updated_at: group.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimGroupMemberView {
    /// The member's SCIM id: a SCIM User or a SCIM Group of the account.
    pub id: Uuid,
    /// `User` or `Group`.
    #[serde(rename = "type")]
    pub member_type: &'static str,
    pub display: Option<String>,
}

impl From<&GroupMember> for ScimGroupMemberView {
    fn from(member: &GroupMember) -> Self {
        Self {
            id: member.id,
            member_type: member.member_type.as_str(),
            display: member.display.clone(),
        }
    }
}

/// The account's SCIM Groups with their member counts, oldest first unless `sort` says
/// otherwise. `sort` takes `display_name`, `created_at` or `updated_at`; `q` looks in the
/// display name and external id.
#[utoipa::path(
    get, path = "/v1/scim_groups", tag = "scim_groups", params(ListParams),
    operation_id = "list_scim_groups",
    responses(
        (status = 200, description = "A page of SCIM Groups; see the Link and X-Pagination-* headers", body = [ScimGroupView]),
        (status = 400, description = "Bad page, per_page, sort, fields or filter", body = ErrorBody),
    )
)]
async fn list_scim_groups(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<ListParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let (page, query) = params.page_and_query(SORT_FIELDS)?;
    let listing = state
        .services
        .browse_scim_groups(&principal, &query)
        .await?;
    let views = listing.views(ScimGroupView::from);
    list_response(&state, &uri, page, views, params.fields.as_deref())
}

/// One SCIM Group, with its member count (its members are a list of their own).
#[utoipa::path(
    get, path = "/v1/scim_groups/{id}", tag = "scim_groups",
    operation_id = "get_scim_group",
    params(("id" = Uuid, Path, description = "SCIM Group id"), FieldsParams),
    responses(
        (status = 200, description = "The SCIM Group", body = ScimGroupView),
        (status = 404, description = "No such SCIM Group in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn get_scim_group(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let summary = state
        .services
        .browse_scim_group(&principal, &id.to_string())
        .await?;
    record_response(
        StatusCode::OK,
        &ScimGroupView::from(&summary),
        params.fields.as_deref(),
    )
}

/// A page of a group's members, in member id order.
#[utoipa::path(
    get, path = "/v1/scim_groups/{id}/members", tag = "scim_groups",
    operation_id = "list_scim_group_members",
    params(("id" = Uuid, Path, description = "SCIM Group id"), PageParams),
    responses(
        (status = 200, description = "A page of members; see the Link and X-Pagination-* headers", body = [ScimGroupMemberView]),
        (status = 404, description = "No such SCIM Group in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn list_scim_group_members(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<PageParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let page = Page::from_query(&params.page, &params.per_page)?;
    let listing = state
        .services
        .browse_scim_group_members(&principal, &id.to_string(), page.offset(), page.limit())
        .await?;
    let views = listing.views(ScimGroupMemberView::from);
    list_response(&state, &uri, page, views, params.fields.as_deref())
}
