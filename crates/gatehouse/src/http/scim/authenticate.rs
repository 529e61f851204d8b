//! The bearer-token gate in front of `/scim/v2`: the account's SCIM provisioning credential
//! (`gth_scim_…`, accepted here only), or the same personal access tokens as REST, acting in the
//! account the path or the `X-Gatehouse-Account` header names. Which scope a person's token
//! needs follows the method: `scim:read` to read (`POST /.search` reads too), `scim:write` to
//! change; both need an administrator.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

use super::response::ScimFailure;
use crate::auth::{Access, Resource, Scope};
use crate::http::AppState;
use crate::service::{AuthFailure, ScimPrincipal, ServiceError};

pub async fn require_scim_bearer(
    State(state): State<AppState>,
    path: Option<Path<HashMap<String, String>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let reading = matches!(*request.method(), Method::GET | Method::HEAD)
        || request.uri().path().ends_with("/.search");
    match authenticate(&state, path, request.headers(), reading).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => ScimFailure::from(error).into_response(),
    }
}

async fn authenticate(
    state: &AppState,
    path: Option<Path<HashMap<String, String>>>,
    headers: &HeaderMap,
    reading: bool,
) -> Result<ScimPrincipal, ServiceError> {
    let bearer = bearer_token(headers)?;
    let from_path = path
        .as_ref()
        .and_then(|Path(parameters)| parameters.get("account").cloned());
    let from_header = headers
        .get(crate::http::ACCOUNT_HEADER)
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let account = from_path.or(from_header);
    let principal = state
        .services
        .authenticate_scim(bearer, account.as_deref())
        .await?;
    let access = if reading { Access::Read } else { Access::Write };
    principal.require(Scope {
        resource: Resource::Scim,
        access,
    })?;
    Ok(principal)
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ServiceError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(ServiceError::Unauthenticated(AuthFailure::Missing))?;
    let value = value.to_str().map_err(|_| {
        ServiceError::Unauthenticated(AuthFailure::Malformed(
            "the Authorization header is not ASCII".to_owned(),
        ))
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ServiceError::Unauthenticated(AuthFailure::Malformed(
            "expected `Authorization: Bearer <token>`".to_owned(),
        ))),
    }
}
