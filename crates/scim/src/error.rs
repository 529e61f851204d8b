//! SCIM error responses (RFC 7644 §3.12): the HTTP status, the optional `scimType` keyword and
//! a human-readable `detail`, plus their JSON rendering. Every fallible function in this crate
//! returns `ScimError`, so the service can answer any protocol failure with one `to_json` call
//! and never has to decide which `scimType` a parse or PATCH failure deserves.

use std::fmt;

use serde_json::{Value, json};
use thiserror::Error;

use crate::filter::FilterError;

/// The schema URN every SCIM error body carries.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` keywords of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid or the filter operator is not allowed for the attribute.
    InvalidFilter,
    /// The filter yields more results than the service provider is willing to process.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The change is incompatible with an attribute's mutability (e.g. a read-only `id`).
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The PATCH `path` was invalid or malformed.
    InvalidPath,
    /// The PATCH `path` did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value was missing or a value was not compatible with the attribute.
    InvalidValue,
    /// The requested SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because it would expose sensitive information.
    Sensitive,
    /// RFC 9865: the `cursor` is not one this service provider issued for this query.
    InvalidCursor,
    /// RFC 9865: the `cursor` was issued longer ago than `cursorTimeout`.
    ExpiredCursor,
    /// RFC 9865: the `count` is not a page size the service provider accepts.
    InvalidCount,
}

impl ScimType {
    pub const ALL: [Self; 13] = [
        Self::InvalidFilter,
        Self::TooMany,
        Self::Uniqueness,
        Self::Mutability,
        Self::InvalidSyntax,
        Self::InvalidPath,
        Self::NoTarget,
        Self::InvalidValue,
        Self::InvalidVers,
        Self::Sensitive,
        Self::InvalidCursor,
        Self::ExpiredCursor,
        Self::InvalidCount,
    ];

    /// The keyword exactly as RFC 7644 spells it (camelCase), e.g. `invalidFilter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
            Self::InvalidCursor => "invalidCursor",
            Self::ExpiredCursor => "expiredCursor",
            Self::InvalidCount => "invalidCount",
        }
    }

    /// The keyword for `text`, ignoring ASCII case (useful when reading another server's
    /// error bodies, which are not always spelled canonically).
    pub fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scim_type| scim_type.as_str().eq_ignore_ascii_case(text))
    }

    /// The HTTP status RFC 7644 Table 9 pairs with the keyword.
    pub fn status(self) -> u16 {
        match self {
            Self::Uniqueness => 409,
            Self::Sensitive => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A SCIM error response. `Display` is the detail alone, so it reads well in logs next to
/// the status and keyword that structured logging records separately.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// An error with a `scimType` and the status RFC 7644 Table 9 gives it.
    pub fn with_type(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(scim_type.status(), Some(scim_type), detail)
    }

    /// The same error under another status, for the few places RFC 7644 pairs a `scimType`
    /// with a status other than its usual one (409 `invalidValue` for bulkId references).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidFilter, detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::TooMany, detail)
    }

    /// 409: a unique attribute value (e.g. `userName`) is already taken.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::Uniqueness, detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::Mutability, detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidSyntax, detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidPath, detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::NoTarget, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidVers`: the client asked for a SCIM protocol version the service lacks.
    /// Not to be confused with a stale `If-Match` ETag, which is `precondition_failed`.
    pub fn invalid_vers(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::InvalidVers, detail)
    }

    /// 403 `sensitive`, e.g. a filter on a password in a URL query.
    pub fn sensitive(detail: impl Into<String>) -> Self {
        Self::with_type(ScimType::Sensitive, detail)
    }

    /// 400 without a `scimType`, for malformed requests no keyword describes.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, None, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 409 without a `scimType`: the change conflicts with the resource's state for a reason
    /// other than uniqueness (RFC 7644 §3.12 lists 409 for both).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, None, detail)
    }

    /// 412: the `If-Match` version no longer matches the resource (RFC 7644 §3.14).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// 501: the operation is not supported (e.g. `/Bulk` when bulk is off).
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }

    /// The response body. `status` is a string because every RFC 7644 §3.12 example renders
    /// it so (`"status": "400"`), and clients such as Entra ID parse it that way.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(object)) = (self.scim_type, body.as_object_mut()) {
            object.insert("scimType".to_owned(), Value::from(scim_type.as_str()));
        }
        body
    }
}

/// Quotes client input for an error message: Debug formatting escapes quotes and control
/// characters, so the message stays on one line whatever the client sent, and input longer
/// than `max_characters` is cut short (marked `…`) rather than echoed in full into responses
/// and logs.
pub fn quote_client_text(text: &str, max_characters: usize) -> String {
    match text.char_indices().nth(max_characters) {
        Some((cut_offset, _)) => format!("{:?}…", &text[..cut_offset]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
impl ScimError {
    /// Asserts the error's `scimType` and that its detail mentions `expected`.
    #[track_caller]
    pub(crate) fn assert_mentions(&self, scim_type: ScimType, expected: &str) {
        assert_eq!(self.scim_type, Some(scim_type), "{}", self.detail);
        assert!(self.detail.contains(expected), "{}", self.detail);
    }

    /// Asserts the error's `scimType` and that its detail starts by naming the PATCH
    /// operation at `index` (`Operations[2]: …`).
    #[track_caller]
    pub(crate) fn assert_names_operation(&self, scim_type: ScimType, index: usize) {
        assert_eq!(self.scim_type, Some(scim_type), "{}", self.detail);
        let prefix = format!("Operations[{index}]: ");
        assert!(self.detail.starts_with(&prefix), "{}", self.detail);
    }
}

/// A filter that fails to parse is an `invalidFilter`, whatever the reason; the filter error's
/// message already names the offset and what was expected.
impl From<FilterError> for ScimError {
    fn from(error: FilterError) -> Self {
        Self::invalid_filter(error.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_types_render_as_rfc_camel_case_keywords() {
        let keywords: Vec<&str> = ScimType::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            keywords,
            [
                "invalidFilter",
                "tooMany",
                "uniqueness",
                "mutability",
                "invalidSyntax",
                "invalidPath",
                "noTarget",
                "invalidValue",
                "invalidVers",
                "sensitive",
                "invalidCursor",
                "expiredCursor",
                "invalidCount",
            ]
        );
        assert_eq!(ScimType::NoTarget.to_string(), "noTarget");
    }

    #[test]
    fn keywords_parse_back_ignoring_case() {
        for scim_type in ScimType::ALL {
            assert_eq!(ScimType::from_keyword(scim_type.as_str()), Some(scim_type));
            let shouted = scim_type.as_str().to_ascii_uppercase();
            assert_eq!(ScimType::from_keyword(&shouted), Some(scim_type));
        }
        assert_eq!(ScimType::from_keyword("invalid"), None);
    }

    #[test]
    fn typed_constructors_use_the_rfc_table_statuses() {
        let cases = [
            (ScimError::invalid_filter("x"), 400, ScimType::InvalidFilter),
            (ScimError::too_many("x"), 400, ScimType::TooMany),
            (ScimError::uniqueness("x"), 409, ScimType::Uniqueness),
            (ScimError::mutability("x"), 400, ScimType::Mutability),
            (ScimError::invalid_syntax("x"), 400, ScimType::InvalidSyntax),
            (ScimError::invalid_path("x"), 400, ScimType::InvalidPath),
            (ScimError::no_target("x"), 400, ScimType::NoTarget),
            (ScimError::invalid_value("x"), 400, ScimType::InvalidValue),
            (ScimError::invalid_vers("x"), 400, ScimType::InvalidVers),
            (ScimError::sensitive("x"), 403, ScimType::Sensitive),
        ];
        for (error, status, scim_type) in cases {
            assert_eq!(error.status, status, "{scim_type}");
            assert_eq!(error.scim_type, Some(scim_type));
            assert_eq!(error.detail, "x");
        }
    }

    #[test]
    fn untyped_constructors_carry_only_a_status() {
        let cases = [
            (ScimError::bad_request("x"), 400),
            (ScimError::unauthorized("x"), 401),
            (ScimError::forbidden("x"), 403),
            (ScimError::not_found("x"), 404),
            (ScimError::conflict("x"), 409),
            (ScimError::precondition_failed("x"), 412),
            (ScimError::payload_too_large("x"), 413),
            (ScimError::internal("x"), 500),
            (ScimError::not_implemented("x"), 501),
        ];
        for (error, status) in cases {
            assert_eq!(error.status, status);
            assert_eq!(error.scim_type, None, "{status}");
        }
    }

    #[test]
    fn json_body_has_the_error_schema_a_string_status_and_the_scim_type() {
        let error = ScimError::invalid_filter("expected an operator at offset 9");
        assert_eq!(
            error.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "expected an operator at offset 9",
            })
        );
    }

    #[test]
    fn json_body_omits_scim_type_when_there_is_none() {
        let body = ScimError::not_found("Resource 2819c223 not found").to_json();
        assert_eq!(
            body,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "404",
                "detail": "Resource 2819c223 not found",
            })
        );
        assert!(body.get("scimType").is_none());
    }

    #[test]
    fn precondition_failure_is_412_and_distinct_from_invalid_version() {
        let stale = ScimError::precondition_failed("ETag W/\"3\" does not match W/\"4\"");
        assert_eq!(stale.to_json()["status"], "412");
        assert_eq!(stale.scim_type, None);
        assert_eq!(
            ScimError::invalid_vers("SCIM 1.1 is not supported").to_json()["status"],
            "400"
        );
    }

    #[test]
    fn display_is_the_detail() {
        assert_eq!(
            ScimError::no_target("nothing matched").to_string(),
            "nothing matched"
        );
    }

    #[test]
    fn filter_errors_become_invalid_filter() {
        let error = ScimError::from(crate::filter::parse_filter("userName zz \"x\"").unwrap_err());
        assert_eq!(error.scim_type, Some(ScimType::InvalidFilter));
        assert_eq!(error.status, 400);
        assert!(!error.detail.is_empty());
    }
}
