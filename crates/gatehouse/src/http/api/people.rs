//! `/v1/people`: the account's people. Reading needs `people:read`; creating and changing
//! needs `people:write` and an administrator. SCIM-provisioned people are read-only here.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::Caller;
use super::{
    ApiJson, ApiPath, ApiQuery, ErrorBody, FieldsParams, ListParams, RoleName, double_option,
    list_response, record_response,
};
use crate::auth::RoleSet;
use crate::domain::PersonId;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{NewPerson, PersonChanges, PersonView, Principal};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePersonBody {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    #[schema(format = Email, max_length = 254, example = "ada@example.org")]
    pub primary_email: String,
    pub job_title: Option<String>,
    pub employee_number: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// `account_administrator`, `directory_administrator`, `specialist`.
    #[serde(default)]
    #[schema(value_type = Vec<RoleName>)]
    pub roles: RoleSet,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePersonBody {
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub primary_email: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub job_title: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub employee_number: Option<Option<String>>,
    pub disabled: Option<bool>,
    #[schema(value_type = Option<Vec<RoleName>>)]
    pub roles: Option<RoleSet>,
}

/// `q`: only people whose name or primary email contains it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Text the name or the primary email contains, ignoring case (emails compared as SCIM
    /// compares them).
    pub q: Option<String>,
}

/// The account's people, oldest first unless `sort` says otherwise; `q` searches names and
/// primary emails.
#[utoipa::path(
    get, path = "/v1/people", tag = "people", params(ListParams, SearchParams),
    operation_id = "list_people",
    responses(
        (status = 200, description = "A page of people; see the Link and X-Pagination-* headers", body = [PersonView]),
        (status = 400, description = "Bad page, per_page, sort or fields", body = ErrorBody),
    )
)]
async fn list_people(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(params): ApiQuery<ListParams>,
    ApiQuery(search): ApiQuery<SearchParams>,
    uri: Uri,
) -> ApiResult<Response> {
    let (page, query) = params.page_and_query()?;
    let listing = state
        .services
        .people(&principal, search.q.as_deref(), &query)
        .await?;
    let views = listing.views(PersonView::from);
    list_response(&state, &uri, page, views, params.fields.as_deref())
}

/// Creates a person by hand (`source = manual`). Needs `people:write` and an administrator;
/// only an account administrator may give the `account_administrator` role.
#[utoipa::path(
    post, path = "/v1/people", tag = "people", request_body = CreatePersonBody,
    operation_id = "create_person",
    responses(
        (status = 201, description = "Created", body = PersonView),
        (status = 409, description = "The primary email is taken in this account", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn create_person(
    State(state): State<AppState>,
    Caller { principal, account }: Caller,
    ApiJson(body): ApiJson<CreatePersonBody>,
) -> ApiResult<Response> {
    let new = NewPerson {
        name: body.name,
        primary_email: body.primary_email,
        job_title: body.job_title,
        employee_number: body.employee_number,
        disabled: body.disabled,
        roles: body.roles,
    };
    let person = state
        .services
        .create_person(&account, Some(&principal), new)
        .await?;
    record_response(StatusCode::CREATED, &PersonView::from(&person), None)
}

/// One person of the account.
#[utoipa::path(
    get, path = "/v1/people/{id}", tag = "people",
    operation_id = "get_person",
    params(("id" = Uuid, Path, description = "Person id"), FieldsParams),
    responses(
        (status = 200, description = "The person", body = PersonView),
        (status = 404, description = "No such person in this account", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn get_person(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<FieldsParams>,
) -> ApiResult<Response> {
    let person = state.services.person(&principal, PersonId(id)).await?;
    record_response(
        StatusCode::OK,
        &PersonView::from(&person),
        params.fields.as_deref(),
    )
}

/// Changes the given fields. People provisioned by SCIM answer 422 for every field but `roles`.
#[utoipa::path(
    patch, path = "/v1/people/{id}", tag = "people", request_body = UpdatePersonBody,
    operation_id = "update_person",
    params(("id" = Uuid, Path, description = "Person id")),
    responses(
        (status = 200, description = "The person as updated", body = PersonView),
        (status = 404, description = "No such person in this account", body = ErrorBody),
        (status = 409, description = "The primary email is taken in this account", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a SCIM-provisioned person", body = ErrorBody),
        (status = 400, description = "Malformed id, query parameter or JSON", body = ErrorBody),
    )
)]
async fn update_person(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdatePersonBody>,
) -> ApiResult<Response> {
    let changes = PersonChanges {
        name: body.name,
        primary_email: body.primary_email,
        job_title: body.job_title,
        employee_number: body.employee_number,
        disabled: body.disabled,
        roles: body.roles,
    };
    let person = state
        .services
        .update_person(
            Some(&principal),
            &principal.account_id,
            PersonId(id),
            changes,
        )
        .await?;
    record_response(StatusCode::OK, &PersonView::from(&person), None)
}
