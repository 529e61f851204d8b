//! `/v1/scim_users`: the SCIM Users the provisioning client made, read-only (writes go through
//! SCIM). Needs `scim:read` and an account or directory administrator, like the SCIM endpoint.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiPath, ApiQuery, ErrorBody, FieldsParams, list_response, record_response};
use crate::domain::ScimUserRecord;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::pagination::{Page, SortDirection, parse_sort};
use crate::service::Principal;
use crate::service::scim::BrowseQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scim_users))
        .routes(routes!(get_scim_user))
}

/// The `sort` names a SCIM record list accepts and the SCIM attribute each sorts by (`None`:
/// creation order, the store's default).
pub type ScimSortFields = &'static [(&'static str, Option<&'static str>)];

const SORT_FIELDS: ScimSortFields = &[
    ("user_name", Some("userName")),
    ("display_name", Some("displayName")),
    ("created_at", None),
    ("updated_at", Some("meta.lastModified")),
];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
    /// One field to sort by; prefix `-` for descending. Default `created_at`.
    pub sort: Option<String>,
    /// Comma-separated fields to return.
    pub fields: Option<String>,
    /// Text to look for (case-insensitive, anywhere) in the names and email addresses.
    pub q: Option<String>,
    /// An RFC 7644 §3.4.2.2 filter, such as `active eq false` or `emails[type eq "work"]`.
    pub filter: Option<String>,
}

/// A SCIM User as people and scripts see it: the fields Gatehouse maps to the person, plus the
/// whole SCIM representation the client sent (less password).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimUserView {
    pub id: Uuid,
    /// The person this SCIM User provisions.
    pub person_id: Uuid,
    pub user_name: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub external_id: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub active: bool,
    pub employee_number: Option<String>,
    pub department: Option<String>,
    pub organization: Option<String>,
    /// The SCIM User id of the manager (enterprise extension `manager.value`).
    pub manager_id: Option<Uuid>,
    /// The SCIM representation (RFC 7643 §4.1), as the provisioning client last sent it.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub scim: serde_json::Value,
    /// Grows by one with every change (the SCIM ETag is `W/"version"`).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&ScimUserRecord> for ScimUserView {
    fn from(record: &ScimUserRecord) -> Self {
        Self {
            id: record.id.0,
            person_id: record.person_id.0,
            user_name: record.user_name.clone(),
            display_name: record.display_name.clone(),
            given_name: record.given_name.clone(),
            family_name: record.family_name.clone(),
            external_id: record.external_id.clone(),
            title: record.title.clone(),
            user_type: record.user_type.clone(),
            active: record.active,
            employee_number: record.employee_number.clone(),
            department: record.department.clone(),
            organization: record.organization.clone(),
            manager_id: record.manager_id.map(|id| id.0),
            scim: record.resource.clone(),
            version: record.version,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

impl ListParams {
    /// The page asked for, and `sort`, `q` and `filter` as a browse query over SCIM
    /// attributes, `sort` naming one of `fields`.
    pub fn page_and_query(&self, fields: ScimSortFields) -> ApiResult<(Page, BrowseQuery)> {
        let page = Page::from_query(&self.page, &self.per_page)?;
        let query = browse_query(
            page,
            self.sort.as_deref(),
            fields,
            self.q.as_deref(),
            self.filter.as_deref(),
        )?;
        Ok((page, query))
    }
}

/// `?page=&per_page=&sort=&q=&filter=` as a browse query over SCIM attributes.
fn browse_query(
    page: Page,
    sort: Option<&str>,
    fields: ScimSortFields,
    q: Option<&str>,
    filter: Option<&str>,
) -> ApiResult<BrowseQuery> {
    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let parsed = parse_sort(sort, &names, "created_at")?;
    let [(name, direction)] = parsed.as_slice() else {
        return Err(ApiError::bad_request("sort takes one field here"));
    };
    let path = fields
        .iter()
        .find(|(candidate, _)| candidate == name)
        .and_then(|(_, path)| *path);
    let descending = *direction == SortDirection::Descending;
    let sort = match path {
        Some(path) => Some((path.to_owned(), descending)),
        None if descending => Some(("meta.created".to_owned(), true)),
        None => None,
    };
    Ok(BrowseQuery {
        filter: filter.map(str::to_owned),
        search: q.map(str::to_owned),
        sort,
        offset: page.offset(),
        limit: page.limit(),
    })
}

/// The account's SCIM Users, oldest first unless `sort` says otherwise.
#[utoipa::path(
    get, path = "/v1/scim_users", tag = "scim_users", params(ListParams),
    operation_id = "list_scim_users",
    responses(
        (status = 200, description = "A page of SCIM Users; see the Link and X-Pagination-* headers", body = [ScimUserView]),
        (status = 400, description = "Bad page, per_page, sort, fields or filter", body = ErrorBody),
    )
)]
async fn list_scim_users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<ListParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let (page, query) = params.page_and_query(SORT_FIELDS)?;
    let listing = state.services.browse_scim_users(&principal, &query).await?;
    let views = listing.views(ScimUserView::from);
    list_response(&state, &uri, page, views, params.fields.as_deref())
}

/// One SCIM User: the fields mapped to the person, and the representation the client sent.
#[utoipa::path(
    get, path = "/v1/scim_users/{id}", tag = "scim_users",
    operation_id = "get_scim_user",
    params(("id" = Uuid, Path, description = "SCIM User id"), FieldsParams),
    responses(
        (status = 200, description = "The SCIM User", body = ScimUserView),
        (status = 404, description = "No such SCIM User in this account", body = ErrorBody),
        (status = 400, description = "Malformed id or query parameter", body = ErrorBody),
    )
)]
async fn get_scim_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let record = state
        .services
        .browse_scim_user(&principal, &id.to_string())
        .await?;
    record_response(
        StatusCode::OK,
        &ScimUserView::from(&record),
        params.fields.as_deref(),
    )
}
