//! The one mapping of errors to REST responses: every failure a handler or extractor reports
//! becomes an `ApiError`, rendered as `{"message": "...", "errors": [...]}` with the right
//! status and headers. Token problems carry RFC 6750 `WWW-Authenticate` challenges; internal
//! failures are logged here and answered without detail, so no cause ever reaches a client.

use std::fmt::Display;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The realm every bearer challenge names.
const REALM: &str = "gatehouse";

/// What `internal()` tells the client: never the cause, which may hold secrets or SQL.
const INTERNAL_MESSAGE: &str =
    "Something went wrong on our side. It has been logged; please try again later.";

pub type ApiResult<T> = Result<T, ApiError>;

/// An error response: status, message, per-field errors and extra headers.
///
/// Boxed so every `ApiResult` stays one pointer wide on the happy path (a `HeaderMap` alone is
/// ~100 bytes, and clippy's `result_large_err` rightly objects).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {}", .parts.status, .parts.message)]
pub struct ApiError {
    parts: Box<ErrorParts>,
}

#[derive(Debug, Clone)]
struct ErrorParts {
    status: StatusCode,
    message: String,
    errors: Vec<String>,
    headers: HeaderMap,
    /// Kept apart from `headers` so `with_message` can keep the challenge's
    /// `error_description` telling the same story as the body.
    challenge: Option<BearerChallenge>,
}

/// The parts of an RFC 6750 §3 `WWW-Authenticate: Bearer ...` challenge.
#[derive(Debug, Clone)]
struct BearerChallenge {
    error: Option<&'static str>,
    scope: Option<String>,
    description: Option<String>,
}

impl BearerChallenge {
    fn header_value(&self) -> HeaderValue {
        let mut value = format!("Bearer realm=\"{REALM}\"");
        if let Some(error) = self.error {
            value.push_str(&format!(", error=\"{error}\""));
        }
        if let Some(scope) = &self.scope {
            value.push_str(&format!(", scope=\"{}\"", quoted_string_safe(scope)));
        }
        if let Some(description) = &self.description {
            value.push_str(&format!(
                ", error_description=\"{}\"",
                quoted_string_safe(description)
            ));
        }
        // Every part went through `quoted_string_safe`, so this cannot fail; the fallback keeps
        // the response a valid challenge even if that ever changes.
        HeaderValue::from_str(&value)
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"gatehouse\""))
    }
}

/// Makes text safe inside an RFC 6750 quoted string: `"` and `\` are dropped (the RFC forbids
/// them in `error_description` and `scope`), and anything outside printable ASCII becomes `?`
/// because a header value cannot carry it.
fn quoted_string_safe(text: &str) -> String {
    text.chars()
        .filter(|character| *character != '"' && *character != '\\')
        .map(|character| {
            if (' '..='~').contains(&character) {
                character
            } else {
                '?'
            }
        })
        .collect()
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    errors: &'a [String],
}

impl ApiError {
    /// Any status with a message; prefer the named constructors.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            parts: Box::new(ErrorParts {
                status,
                message: message.into(),
                errors: Vec::new(),
                headers: HeaderMap::new(),
                challenge: None,
            }),
        }
    }

    /// 400: the request itself is malformed (bad parameter, unparsable body).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404, with a message like "Person not found".
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 409: the request conflicts with stored state (a taken email, a revoked token).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422: well-formed but breaks rules; `errors` lists each problem.
    pub fn unprocessable(message: impl Into<String>, errors: Vec<String>) -> Self {
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, message);
        error.parts.errors = errors;
        error
    }

    /// 403 for a rule other than scopes; scope problems use `insufficient_scope`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 429 with `Retry-After` in seconds.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit exceeded: try again in {retry_after_secs} seconds"),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs))
    }

    /// 500 with a generic message. Prefer `internal_with`, which also logs the cause.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE)
    }

    /// Logs `cause` and returns the generic 500: the cause is for operators, not clients.
    /// Usable as `.map_err(ApiError::internal_with)`.
    pub fn internal_with(cause: impl Display) -> Self {
        tracing::error!(error = %cause, "internal error answered with 500");
        Self::internal()
    }

    /// 401 `invalid_token` (RFC 6750 §3.1): the token was sent but cannot be used.
    pub fn invalid_token(description: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, description).with_challenge(BearerChallenge {
            error: Some("invalid_token"),
            scope: None,
            description: Some(description.to_owned()),
        })
    }

    /// 401 without an error code: RFC 6750 §3.1 says a request that sent no credentials gets
    /// a bare challenge.
    pub fn missing_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required: send `Authorization: Bearer <token>`",
        )
        .with_challenge(BearerChallenge {
            error: None,
            scope: None,
            description: None,
        })
    }

    /// 403 `insufficient_scope` (RFC 6750 §3.1) naming the scopes the request needs,
    /// space-separated (none when what is lacking is not a scope, such as a token's lifetime).
    pub fn insufficient_scope(scope: &str) -> Self {
        let description = format!("this token lacks the {scope} scope");
        Self::new(StatusCode::FORBIDDEN, description.clone()).with_challenge(BearerChallenge {
            error: Some("insufficient_scope"),
            scope: (!scope.is_empty()).then(|| scope.to_owned()),
            description: Some(description),
        })
    }

    /// Replaces the message; on a bearer challenge with a description, the description too,
    /// so the header and the body agree.
    pub fn with_message(mut self, message: &str) -> Self {
        self.parts.message = message.to_owned();
        if let Some(mut challenge) = self.parts.challenge.take() {
            if challenge.description.is_some() {
                challenge.description = Some(self.parts.message.clone());
            }
            self = self.with_challenge(challenge);
        }
        self
    }

    /// Adds (or replaces) a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.parts.headers.insert(name, value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.parts.status
    }

    pub fn message(&self) -> &str {
        &self.parts.message
    }

    pub fn errors(&self) -> &[String] {
        &self.parts.errors
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    fn with_challenge(mut self, challenge: BearerChallenge) -> Self {
        self.parts
            .headers
            .insert(header::WWW_AUTHENTICATE, challenge.header_value());
        self.parts.challenge = Some(challenge);
        self
    }

    /// Extractor rejections keep axum's status (400 syntax, 415 content type, 422 data, 413
    /// too large) and text, which names the field and what was wrong with it; a 5xx rejection
    /// is our bug (a route and its extractor disagree), so it is logged and answered generically.
    fn from_rejection(status: StatusCode, body_text: String) -> Self {
        if status.is_server_error() {
            return Self::internal_with(body_text);
        }
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            return Self::unprocessable(body_text.clone(), vec![body_text]);
        }
        Self::new(status, body_text)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = *self.parts;
        let body = ErrorBody {
            message: &parts.message,
            errors: &parts.errors,
        };
        // `Json` sets `Content-Type: application/json`.
        let mut response = (parts.status, Json(body)).into_response();
        response.headers_mut().extend(parts.headers);
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self::from_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::from_rejection(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::from_rejection(rejection.status(), rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::{FromRequest, FromRequestParts, Path, Query};
    use axum::http::Request;
    use axum::routing::get;
    use axum::{Json, Router};
    use serde::Deserialize;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;

    async fn render(error: ApiError) -> (StatusCode, HeaderMap, Value) {
        let response = error.into_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (
            status,
            headers,
            serde_json::from_slice(&bytes).expect("JSON body"),
        )
    }

    fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get(name)
            .map(|value| value.to_str().expect("ascii"))
    }

    #[tokio::test]
    async fn body_has_message_and_always_an_errors_array() {
        let (status, headers, body) = render(ApiError::bad_request("page must be a number")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "message": "page must be a number", "errors": [] })
        );
        assert_eq!(
            header_text(&headers, "content-type"),
            Some("application/json")
        );
    }

    #[tokio::test]
    async fn unprocessable_lists_each_error() {
        let errors = vec![
            "name can't be blank".to_owned(),
            "email is invalid".to_owned(),
        ];
        let (status, _, body) = render(ApiError::unprocessable("Validation failed", errors)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            json!({ "message": "Validation failed", "errors": ["name can't be blank", "email is invalid"] })
        );
    }

    #[tokio::test]
    async fn named_constructors_pick_their_status() {
        assert_eq!(
            ApiError::not_found("Person").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(ApiError::not_found("Person").message(), "Person not found");
        assert_eq!(ApiError::conflict("taken").status(), StatusCode::CONFLICT);
        assert_eq!(ApiError::forbidden("no").status(), StatusCode::FORBIDDEN);
        assert_eq!(
            ApiError::internal().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[tokio::test]
    async fn internal_with_never_shows_the_cause() {
        let (status, _, body) = render(ApiError::internal_with("password=hunter2 in SQL")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("hunter2"), "{body}");
        assert_eq!(body["message"], INTERNAL_MESSAGE);
    }

    #[tokio::test]
    async fn too_many_requests_sets_retry_after() {
        let (status, headers, body) = render(ApiError::too_many_requests(42)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header_text(&headers, "retry-after"), Some("42"));
        assert!(body["message"].as_str().expect("message").contains("42"));
    }

    #[tokio::test]
    async fn missing_token_challenge_has_no_error_code() {
        let (status, headers, _) = render(ApiError::missing_token()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            header_text(&headers, "www-authenticate"),
            Some(r#"Bearer realm="gatehouse""#)
        );
    }

    #[tokio::test]
    async fn invalid_token_challenge_carries_a_description() {
        let (status, headers, body) =
            render(ApiError::invalid_token("the token has expired")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            header_text(&headers, "www-authenticate"),
            Some(
                r#"Bearer realm="gatehouse", error="invalid_token", error_description="the token has expired""#
            )
        );
        assert_eq!(body["message"], "the token has expired");
    }

    #[tokio::test]
    async fn challenge_descriptions_drop_quotes_backslashes_and_non_ascii() {
        let error = ApiError::invalid_token("bad \"quoted\" \\ token\n for José");
        assert_eq!(
            header_text(error.headers(), "www-authenticate"),
            Some(
                r#"Bearer realm="gatehouse", error="invalid_token", error_description="bad quoted  token? for Jos?""#
            )
        );
    }

    #[tokio::test]
    async fn insufficient_scope_names_the_scope() {
        let (status, headers, _) = render(ApiError::insufficient_scope("people:write")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            header_text(&headers, "www-authenticate"),
            Some(
                r#"Bearer realm="gatehouse", error="insufficient_scope", scope="people:write", error_description="this token lacks the people:write scope""#
            )
        );
    }

    #[tokio::test]
    async fn with_message_keeps_challenge_description_in_step() {
        let error = ApiError::insufficient_scope("people:write")
            .with_message("the roles of Ada do not permit people:write");
        assert_eq!(
            error.message(),
            "the roles of Ada do not permit people:write"
        );
        assert_eq!(
            header_text(error.headers(), "www-authenticate"),
            Some(
                r#"Bearer realm="gatehouse", error="insufficient_scope", scope="people:write", error_description="the roles of Ada do not permit people:write""#
            )
        );
        let bare = ApiError::missing_token().with_message("log in");
        assert_eq!(
            header_text(bare.headers(), "www-authenticate"),
            Some(r#"Bearer realm="gatehouse""#)
        );
    }

    #[tokio::test]
    async fn with_header_adds_to_the_response() {
        let error = ApiError::conflict("taken")
            .with_header(header::LOCATION, HeaderValue::from_static("/v1/people/1"));
        let (_, headers, _) = render(error).await;
        assert_eq!(header_text(&headers, "location"), Some("/v1/people/1"));
    }

    #[derive(Deserialize)]
    struct Payload {
        #[allow(dead_code)]
        name: String,
    }

    async fn json_rejection(content_type: Option<&str>, body: &'static str) -> ApiError {
        let mut request = Request::builder().method("POST").uri("/");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Body::from(body)).expect("request");
        match Json::<Payload>::from_request(request, &()).await {
            Ok(_) => panic!("expected a rejection"),
            Err(rejection) => ApiError::from(rejection),
        }
    }

    #[tokio::test]
    async fn json_syntax_errors_are_400() {
        let error = json_rejection(Some("application/json"), "{not json").await;
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.message().contains("JSON"), "{}", error.message());
    }

    #[tokio::test]
    async fn json_missing_fields_are_422_naming_the_field() {
        let error = json_rejection(Some("application/json"), r#"{"nom": 1}"#).await;
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            error.message().contains("missing field `name`"),
            "{}",
            error.message()
        );
        assert_eq!(error.errors().len(), 1);
        let error = json_rejection(Some("application/json"), r#"{"name": 1}"#).await;
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[tokio::test]
    async fn json_without_content_type_is_415() {
        let error = json_rejection(None, r#"{"name": "x"}"#).await;
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(error.message().contains("application/json"));
    }

    #[tokio::test]
    async fn query_rejections_are_400_with_axum_text() {
        #[derive(Deserialize)]
        struct Params {
            #[allow(dead_code)]
            count: u32,
        }
        let request = Request::builder()
            .uri("/?count=many")
            .body(Body::empty())
            .expect("request");
        let (mut parts, _) = request.into_parts();
        let error = match Query::<Params>::from_request_parts(&mut parts, &()).await {
            Ok(_) => panic!("expected a rejection"),
            Err(rejection) => ApiError::from(rejection),
        };
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.message().contains("count"), "{}", error.message());
    }

    #[tokio::test]
    async fn path_rejections_are_400_with_axum_text() {
        async fn handler(path: Result<Path<u64>, PathRejection>) -> Response {
            match path {
                Ok(Path(id)) => id.to_string().into_response(),
                Err(rejection) => ApiError::from(rejection).into_response(),
            }
        }
        let router = Router::new().route("/things/{id}", get(handler));
        let request = Request::builder()
            .uri("/things/abc")
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert!(
            body["message"].as_str().expect("message").contains("abc"),
            "{body}"
        );
    }
}
