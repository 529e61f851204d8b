//! What SCIM requests say besides their body: list parameters from the query string or a
//! `.search` body (RFC 7644 §3.4.2, §3.4.3), `attributes`/`excludedAttributes` (§3.4.2.5),
//! `If-Match` versions (§3.14) and the resource id in the path, each checked into a SCIM error;
//! and the body's media type and JSON, read as strictly as REST reads its own.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use scim::error::ScimError;
use scim::projection::AttributeSelection;
use scim::schema::{
    CUSTOM_FIELDS_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN, GATEHOUSE_GROUP_SCHEMA_URN,
    GROUP_SCHEMA_URN, USER_SCHEMA_URN,
};
use serde::Deserialize;
use serde_json::Value;

use super::response::{SCIM_MEDIA_TYPE, ScimFailure};
use crate::service::scim::{Members, ScimListQuery, SortOrder};

/// The resource types a selection can apply to, with their core and extension schemas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn schemas(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Self::User => (
                USER_SCHEMA_URN,
                &[ENTERPRISE_USER_SCHEMA_URN, CUSTOM_FIELDS_SCHEMA_URN],
            ),
            Self::Group => (GROUP_SCHEMA_URN, &[GATEHOUSE_GROUP_SCHEMA_URN]),
        }
    }

    /// The name `meta.resourceType` gives it.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// Where a resource of this type with this id lives: `{base_url}/Users/{id}`, ….
    pub fn location(self, base_url: &str, id: impl std::fmt::Display) -> String {
        let endpoint = match self {
            Self::User => "Users",
            Self::Group => "Groups",
        };
        format!("{base_url}/{endpoint}/{id}")
    }
}

fn selection(
    attributes: Option<&str>,
    excluded_attributes: Option<&str>,
    kind: Kind,
) -> Result<AttributeSelection, ScimFailure> {
    let (core, extensions) = kind.schemas();
    AttributeSelection::parse(attributes, excluded_attributes, core, extensions)
        .map_err(ScimFailure::from)
}

/// Whether a group answer under `selection` shows members, so they are loaded only then.
pub fn members_for(selection: &AttributeSelection) -> Members {
    if selection.includes("members") {
        Members::Load
    } else {
        Members::Skip
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListParameters {
    pub(super) filter: Option<String>,
    pub(super) sort_by: Option<String>,
    pub(super) sort_order: Option<String>,
    pub(super) start_index: Option<String>,
    /// RFC 9865: empty for the first page, then the `nextCursor` of the previous one.
    pub(super) cursor: Option<String>,
    pub(super) count: Option<String>,
    pub(super) attributes: Option<String>,
    pub(super) excluded_attributes: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionParameters {
    pub(super) attributes: Option<String>,
    pub(super) excluded_attributes: Option<String>,
}

pub(super) fn integer(name: &str, raw: Option<&str>) -> Result<Option<i64>, ScimFailure> {
    raw.map(|text| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
    })
    .transpose()
    .map_err(ScimFailure::from)
}

/// The version an `If-Match` header names; `*` names any.
pub(super) fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, ScimFailure> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let digits = text.trim_start_matches("W/").trim_matches('"');
    digits.parse::<i64>().map(Some).map_err(|_| {
        ScimFailure::from(ScimError::precondition_failed(format!(
            "If-Match {text} names no version of this User"
        )))
    })
}

impl ListParameters {
    /// RFC 7644 §3.12 `sensitive`: a filter on `password` in a request URI would put a
    /// password where proxies and access logs keep it. Refused with 403 before anything else;
    /// the same filter in a `.search` body is an ordinary `invalidFilter` (passwords are never
    /// stored, so never compared).
    pub fn refuse_password_in_uri(&self) -> Result<(), ScimFailure> {
        let Some(filter) = self.filter.as_deref() else {
            return Ok(());
        };
        let Ok(parsed) = scim::filter::parse_filter(filter) else {
            return Ok(());
        };
        let names_password = parsed.attribute_paths().iter().any(|path| {
            path.attribute.eq_ignore_ascii_case("password")
                && path
                    .schema_urn
                    .as_deref()
                    .is_none_or(|urn| urn.eq_ignore_ascii_case(USER_SCHEMA_URN))
        });
        if names_password {
            return Err(ScimError::sensitive(
                "a filter on password does not belong in a URI (and passwords are never compared)",
            )
            .into());
        }
        Ok(())
    }

    pub fn selection(&self, kind: Kind) -> Result<AttributeSelection, ScimFailure> {
        selection(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
            kind,
        )
    }
}

impl ProjectionParameters {
    pub fn selection(&self, kind: Kind) -> Result<AttributeSelection, ScimFailure> {
        selection(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
            kind,
        )
    }
}

/// An extractor for handlers that read a body: the request must say it is JSON —
/// `application/scim+json` (RFC 7644 §3.1) or `application/json`, as REST requires
/// `application/json`. Anything else (a form, text, no `Content-Type`) is 415 before the body
/// is read, so a form posted across sites never reaches a SCIM endpoint. An extractor, not a
/// layer, so a method an endpoint doesn't serve stays 405.
pub(super) struct JsonMediaType;

/// The whole body of a request that says it is JSON ([`JsonMediaType`]).
pub(super) struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ScimFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, ScimFailure> {
        let (mut parts, body) = request.into_parts();
        JsonMediaType::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                ScimError::new(rejection.status().as_u16(), None, rejection.body_text()).into()
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for JsonMediaType {
    type Rejection = ScimFailure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ScimFailure> {
        let media_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(';').next().unwrap_or_default().trim());
        match media_type {
            Some(media_type)
                if media_type.eq_ignore_ascii_case(SCIM_MEDIA_TYPE)
                    || media_type.eq_ignore_ascii_case("application/json") =>
            {
                Ok(Self)
            }
            _ => Err(ScimError::new(
                415,
                None,
                format!("send the body as {SCIM_MEDIA_TYPE} (or application/json)"),
            )
            .into()),
        }
    }
}

/// A request body as JSON; a member named twice in one object is `400 invalidSyntax`.
pub(super) fn json_body(body: &Bytes) -> Result<Value, ScimFailure> {
    Ok(scim::json::parse_body(body)?)
}

pub(super) fn id_of(parameters: &HashMap<String, String>) -> &str {
    parameters.get("id").map_or("", String::as_str)
}

/// The body of `POST /.search` (RFC 7644 §3.4.3): the list parameters, in JSON, so filters
/// stay out of URLs and logs. Numbers may be JSON numbers or strings.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    schemas: Option<Vec<String>>,
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<Value>,
    cursor: Option<String>,
    count: Option<Value>,
    attributes: Option<Vec<String>>,
    excluded_attributes: Option<Vec<String>>,
}

/// The list parameters of a `SearchRequest` body.
pub(super) fn search_parameters(body: &Bytes) -> Result<ListParameters, ScimFailure> {
    let request: SearchRequest = serde_json::from_value(json_body(body)?).map_err(|error| {
        ScimFailure::from(ScimError::invalid_syntax(format!(
            "not a SearchRequest: {error}"
        )))
    })?;
    let declared = request.schemas.as_deref().unwrap_or_default();
    if !declared.is_empty()
        && !declared
            .iter()
            .any(|schema| schema.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
    {
        return Err(ScimError::invalid_syntax(format!(
            "a search request declares the {SEARCH_REQUEST_SCHEMA} schema"
        ))
        .into());
    }
    let text = |value: Option<Value>| match value {
        Some(Value::String(text)) => Some(text),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    let parameters = ListParameters {
        filter: request.filter,
        sort_by: request.sort_by,
        sort_order: request.sort_order,
        start_index: text(request.start_index),
        cursor: request.cursor,
        count: text(request.count),
        attributes: request.attributes.map(|names| names.join(",")),
        excluded_attributes: request.excluded_attributes.map(|names| names.join(",")),
    };
    Ok(parameters)
}

const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The list parameters of a query string or a `.search` body, checked.
pub(super) fn list_query(parameters: &ListParameters) -> Result<ScimListQuery, ScimFailure> {
    let sort_order = match parameters.sort_order.as_deref() {
        None => None,
        Some(order) if order.eq_ignore_ascii_case("ascending") => Some(SortOrder::Ascending),
        Some(order) if order.eq_ignore_ascii_case("descending") => Some(SortOrder::Descending),
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "sortOrder must be ascending or descending, not {other}"
            ))
            .into());
        }
    };
    let query = ScimListQuery {
        filter: parameters.filter.clone(),
        sort_by: parameters.sort_by.clone(),
        sort_order,
        start_index: integer("startIndex", parameters.start_index.as_deref())?,
        cursor: parameters.cursor.clone(),
        count: integer("count", parameters.count.as_deref())?,
    };
    Ok(query)
}
