//! The bearer-token gate in front of `/v1`: authenticates, applies the per-token rate limit,
//! and hands the `Principal` to handlers through request extensions.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::service::{AuthFailure, ServiceError};

/// The header that picks the account a request acts in (like Xurrent's `X-4me-Account`).
pub const ACCOUNT_HEADER: &str = "x-gatehouse-account";

pub async fn require_bearer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let bearer = match bearer_token(request.headers()) {
        Ok(bearer) => bearer,
        Err(failure) => {
            return ApiError::from(ServiceError::Unauthenticated(failure)).into_response();
        }
    };
    let account = request
        .headers()
        .get(ACCOUNT_HEADER)
        .map(|value| value.to_str().unwrap_or("?"));
    let principal = match state.services.authenticate(bearer, account).await {
        Ok(principal) => principal,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let decision = state
        .rate_limiter
        .admit(principal.token_id.0, Instant::now())
        .await;
    let rate_headers = decision.headers(state.services.clock.now().timestamp());
    if !decision.allowed {
        let mut response = ApiError::too_many_requests(decision.reset_after_secs).into_response();
        response.headers_mut().extend(rate_headers);
        return response;
    }
    request.extensions_mut().insert(principal);
    let mut response = next.run(request).await;
    response.headers_mut().extend(rate_headers);
    response
}

/// The token of an `Authorization: Bearer …` header (RFC 6750 §2.1; the scheme is
/// case-insensitive). Tokens in query strings are not accepted: they end up in logs.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthFailure> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthFailure::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthFailure::Malformed("the Authorization header is not ASCII".to_owned()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AuthFailure::Malformed(
            "expected `Authorization: Bearer <token>`".to_owned(),
        )),
    }
}
