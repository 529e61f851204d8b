//! `GET /v1/me`: the person the token belongs to.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiQuery, ErrorBody, record_response};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::service::{PersonView, Principal};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsQuery {
    /// Comma-separated fields to return, e.g. `id,name`.
    pub fields: Option<String>,
}

/// The caller: the person who owns the bearer token. Needs `people:read`.
#[utoipa::path(
    get, path = "/v1/me", tag = "people",
    operation_id = "get_me",
    params(FieldsQuery),
    responses(
        (status = 200, description = "The token's owner", body = PersonView),
        (status = 400, description = "Unknown field in `fields`", body = ErrorBody),
        (status = 403, description = "The token lacks `people:read`", body = ErrorBody),
    )
)]
async fn me(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<FieldsQuery>,
) -> ApiResult<Response> {
    let person = state
        .services
        .person(&principal, principal.person_id)
        .await?;
    record_response(
        StatusCode::OK,
        &PersonView::from(&person),
        query.fields.as_deref(),
    )
}
