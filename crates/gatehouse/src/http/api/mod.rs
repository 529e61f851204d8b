//! REST API v1 (Xurrent conventions, docs/PRODUCT.md "REST conventions"): one file per resource.
//! Every route is registered through `OpenApiRouter`, so the document at `/v1/openapi.json` is
//! generated from the same list the router serves.

mod account;
mod deliveries;
mod discovery;
mod events;
mod me;
mod people;
mod scim_groups;
mod scim_token;
mod scim_users;
mod tokens;
mod webhook_policies;
mod webhooks;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, SecurityRequirement};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::pagination::{Page, pagination_headers, parse_sort, select_fields};
use crate::domain::Account;
use crate::service::{Principal, ServiceResult};
use crate::store::{ListQuery, Listing, SortDirection, SortField, WebhookFilter};

pub const BEARER_SCHEME: &str = "bearer";

/// The authenticated caller and the account they act in, resolved once, here: handlers that act
/// in the account take a `Caller` instead of loading the account themselves.
pub struct Caller {
    pub principal: Principal,
    pub account: Account,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| {
                ApiError::internal_with("a handler behind require_bearer ran without it")
            })?;
        let account = state.services.account(&principal.account_id).await?;
        Ok(Self { principal, account })
    }
}

pub fn router(state: AppState) -> (axum::Router<AppState>, OpenApi) {
    let (router, mut openapi) = OpenApiRouter::new()
        .merge(account::router())
        .merge(me::router())
        .merge(people::router())
        .merge(tokens::router())
        .merge(scim_token::router())
        .merge(scim_users::router())
        .merge(scim_groups::router())
        .merge(webhooks::router())
        .merge(webhook_policies::router())
        .merge(deliveries::router())
        .merge(events::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            super::authenticate::require_bearer,
        ))
        .merge(webhooks::public_router())
        .merge(discovery::public_router())
        .split_for_parts();
    describe(&mut openapi);
    (router, openapi)
}

fn describe(openapi: &mut OpenApi) {
    openapi.info.title = "Gatehouse REST API".to_owned();
    openapi.info.version = "1".to_owned();
    // Relative: the paths are served by whatever host served this document.
    openapi.servers = Some(vec![
        utoipa::openapi::ServerBuilder::new()
            .url("/")
            .description(Some("This Gatehouse"))
            .build(),
    ]);
    // Not utoipa's own authors and licence, which it fills in by default.
    openapi.info.contact = None;
    openapi.info.license = Some(
        utoipa::openapi::LicenseBuilder::new()
            .name("Apache-2.0")
            .identifier(Some("Apache-2.0"))
            .build(),
    );
    openapi.info.description = Some(
        "People, personal access tokens, provisioned SCIM Users and Groups (read-only), webhooks, their deliveries and published events of a Gatehouse account. \
         Authenticate with `Authorization: Bearer <personal access token>`; pick the account with \
         the `X-Gatehouse-Account` header. Lists paginate with `page`/`per_page` and a `Link` header."
            .to_owned(),
    );
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("gth_pat_…")
                .build(),
        ),
    );
    openapi.security = Some(vec![SecurityRequirement::new(
        BEARER_SCHEME,
        Vec::<String>::new(),
    )]);
    add_common_error_responses(openapi);
    type_pagination_parameters(openapi);
    declare_headers(openapi);
    show_examples(openapi);
    drop_path_given_filters(openapi);
}

/// A webhook's own deliveries (`/v1/webhooks/{id}/deliveries`) share the account-wide list's
/// parameters, but take the webhook from the path: the `webhook_id` query parameter, which that
/// route ignores, is not offered there.
fn drop_path_given_filters(openapi: &mut OpenApi) {
    for operation in operations_mut(openapi) {
        if operation.operation_id.as_deref() == Some("list_deliveries_of_webhook")
            && let Some(parameters) = &mut operation.parameters
        {
            parameters.retain(|parameter| {
                !matches!(parameter, utoipa::openapi::RefOr::T(parameter)
                    if parameter.name == "webhook_id")
            });
        }
    }
}

/// Real requests and answers, per `operationId`, recorded from a live server by the test
/// `openapi_examples` (which fails when an answer's shape drifts from its example).
const EXAMPLES: &str = include_str!("examples.json");

/// Puts each operation's recorded example on its JSON request body and its successful answer.
fn show_examples(openapi: &mut OpenApi) {
    use utoipa::openapi::RefOr;
    let examples: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(EXAMPLES).expect("examples.json is a JSON object");
    for operation in operations_mut(openapi) {
        let Some(example) = operation
            .operation_id
            .as_ref()
            .and_then(|operation_id| examples.get(operation_id))
        else {
            continue;
        };
        if let (Some(request), Some(RefOr::T(body))) =
            (example.get("request"), &mut operation.request_body)
            && let Some(RefOr::T(content)) = body.content.get_mut("application/json")
        {
            content.example = Some(request.clone());
        }
        let Some(answer) = example.get("response") else {
            continue;
        };
        let success = operation
            .responses
            .responses
            .iter_mut()
            .filter(|(status, _)| status.starts_with('2'))
            .find_map(|(_, response)| match response {
                RefOr::T(response) => match response.content.get_mut("application/json") {
                    Some(RefOr::T(content)) => Some(content),
                    _ => None,
                },
                RefOr::Ref(_) => None,
            });
        if let Some(content) = success {
            content.example = Some(answer.clone());
        }
    }
}

/// What a secured operation's request and successful answers carry besides the body: the
/// optional `X-Gatehouse-Account` request header; the rate limit's `X-RateLimit-*` answer
/// headers; and on lists (operations that take `page`) the `Link` and `X-Pagination-*` headers
/// `pagination::pagination_headers` sends. The annotations can't say these once for all.
fn declare_headers(openapi: &mut OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::{Header, HeaderBuilder};
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let typed = |schema_type: Type, description: &str| -> RefOr<Header> {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(schema_type).build()))
            .description(Some(description))
            .build()
            .into()
    };
    let rate_limit = [
        (
            "X-RateLimit-Limit",
            "Requests the token may make per window (absent when rate limiting is off)",
        ),
        (
            "X-RateLimit-Remaining",
            "Requests left in the current window",
        ),
        (
            "X-RateLimit-Reset",
            "The Unix time (seconds) at which the window resets",
        ),
    ];
    let pagination = [
        ("X-Pagination-Per-Page", "Records per page, as asked or 25"),
        ("X-Pagination-Current-Page", "This page's number, from 1"),
        ("X-Pagination-Total-Pages", "How many pages the list has"),
        (
            "X-Pagination-Total-Entries",
            "How many records the list holds",
        ),
    ];
    let account = ParameterBuilder::new()
        .name("X-Gatehouse-Account")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "The account to act in (its id, such as `acme`). Optional: a token acts only in its \
             own account, which is the default; naming another answers 401.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .build();
    for operation in operations_mut(openapi) {
        if is_public(operation) {
            continue;
        }
        let is_list =
            operation.parameters.iter().flatten().any(
                |parameter| matches!(parameter, RefOr::T(parameter) if parameter.name == "page"),
            );
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(account.clone().into());
        for (status, response) in operation.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            if !status.starts_with('2') {
                continue;
            }
            for (name, description) in rate_limit {
                response
                    .headers
                    .insert(name.to_owned(), typed(Type::Integer, description));
            }
            if is_list && status == "200" {
                response.headers.insert(
                    "Link".to_owned(),
                    typed(
                        Type::String,
                        "RFC 8288 links to the `first`, `prev`, `next` and `last` pages",
                    ),
                );
                for (name, description) in pagination {
                    response
                        .headers
                        .insert(name.to_owned(), typed(Type::Integer, description));
                }
            }
        }
    }
}

/// Whether an operation needs no token (`security(())`, the verification callback).
fn is_public(operation: &utoipa::openapi::path::Operation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .all(|requirement| *requirement == SecurityRequirement::default())
    })
}

/// `page` and `per_page` are read as text (so a bad value gets our own error message), but
/// clients should see what they accept: integers, `per_page` from 1 to 100.
fn type_pagination_parameters(openapi: &mut OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for operation in operations_mut(openapi) {
        for parameter in operation.parameters.iter_mut().flatten() {
            let utoipa::openapi::RefOr::T(parameter) = parameter else {
                continue;
            };
            let schema = match parameter.name.as_str() {
                "page" => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .default(Some(1.into())),
                "per_page" => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(100))
                    .default(Some(25.into())),
                _ => continue,
            };
            parameter.schema = Some(schema.into());
        }
    }
}

/// Every operation of the document, to amend what the annotations can't say once for all.
fn operations_mut(
    openapi: &mut OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// The answer of every operation with a JSON body to a body of another media type.
const UNSUPPORTED_MEDIA_TYPE: &str = "UnsupportedMediaType";

/// The error answers every authenticated operation may give (RFC 6750's 401 and 403, and the
/// rate limit's 429), declared once as components and referenced from each operation that
/// does not describe its own. Public operations (`security(())`) get none of them.
fn add_common_error_responses(openapi: &mut OpenApi) {
    let error_body =
        || utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")));
    let header = |description: &str| {
        utoipa::openapi::header::HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .build(),
            ))
            .description(Some(description))
            .build()
    };
    let common = [
        (
            "401",
            "Unauthorized",
            "The bearer token is missing, malformed, unknown, expired, revoked or of another \
             account (RFC 6750 `invalid_token`; every unusable token gets the same answer)",
            Some((
                "WWW-Authenticate",
                "`Bearer realm=\"gatehouse\", error=\"invalid_token\", …`",
            )),
        ),
        (
            "403",
            "Forbidden",
            "The token lacks a scope (RFC 6750 `insufficient_scope`, naming it), its owner's \
             roles don't permit the request, or the target outranks the caller",
            Some((
                "WWW-Authenticate",
                "`Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"…\"` for a \
                 missing scope",
            )),
        ),
        (
            "429",
            "TooManyRequests",
            "Past the token's rate limit; try again after `Retry-After` seconds",
            Some(("Retry-After", "Seconds until a request is accepted again")),
        ),
    ];
    let components = openapi.components.get_or_insert_with(Default::default);
    components.responses.insert(
        UNSUPPORTED_MEDIA_TYPE.to_owned(),
        utoipa::openapi::ResponseBuilder::new()
            .description("The body is not `application/json`")
            .content("application/json", error_body())
            .build()
            .into(),
    );
    for (_, name, description, header_of) in &common {
        let mut response = utoipa::openapi::ResponseBuilder::new()
            .description(*description)
            .content("application/json", error_body());
        if let Some((header_name, header_description)) = header_of {
            response = response.header(*header_name, header(header_description));
        }
        components
            .responses
            .insert((*name).to_owned(), response.build().into());
    }
    for operation in operations_mut(openapi) {
        if is_public(operation) {
            continue;
        }
        for (status, name, _, _) in &common {
            operation
                .responses
                .responses
                .entry((*status).to_owned())
                .or_insert_with(|| utoipa::openapi::Ref::from_response_name(*name).into());
        }
        if operation.request_body.is_some() {
            operation.responses.responses.insert(
                "415".to_owned(),
                utoipa::openapi::Ref::from_response_name(UNSUPPORTED_MEDIA_TYPE).into(),
            );
        }
    }
}

/// What any unknown path answers, in our JSON error format.
pub async fn not_found(uri: Uri) -> Response {
    ApiError::not_found("Route")
        .with_message(&format!("No route for {}", uri.path()))
        .into_response()
}

/// The sort fields a list accepts, as `?sort=` spells them, and what the store calls them.
pub type SortFields = &'static [(&'static str, SortField)];

pub fn sort_from_query(
    raw: Option<&str>,
    fields: SortFields,
) -> ApiResult<Vec<(SortField, SortDirection)>> {
    let allowed: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let parsed = parse_sort(raw, &allowed, "created_at")?;
    Ok(parsed
        .into_iter()
        .filter_map(|(name, direction)| {
            let field = fields.iter().find(|(candidate, _)| *candidate == name)?.1;
            let direction = match direction {
                super::pagination::SortDirection::Ascending => SortDirection::Ascending,
                super::pagination::SortDirection::Descending => SortDirection::Descending,
            };
            Some((field, direction))
        })
        .collect())
}

/// The store query for a page, sorted as `?sort=` says.
pub fn list_query(page: Page, sort: Option<&str>, fields: SortFields) -> ApiResult<ListQuery> {
    Ok(ListQuery {
        offset: page.offset(),
        limit: page.limit(),
        sort: sort_from_query(sort, fields)?,
    })
}

/// The query string of a list sorted by `name`, `created_at` or `updated_at`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Records per page, 1 to 100 (default 25).
    pub per_page: Option<String>,
    /// `name`, `created_at` or `updated_at`; prefix `-` for descending. Default `created_at`.
    pub sort: Option<String>,
    /// Comma-separated fields to return.
    pub fields: Option<String>,
}

impl ListParams {
    /// The sort fields `sort` may name.
    pub const SORT_FIELDS: SortFields = &[
        ("name", SortField::Name),
        ("created_at", SortField::CreatedAt),
        ("updated_at", SortField::UpdatedAt),
    ];

    /// The page asked for, and the store query for it.
    pub fn page_and_query(&self) -> ApiResult<(Page, ListQuery)> {
        let page = Page::from_query(&self.page, &self.per_page)?;
        let query = list_query(page, self.sort.as_deref(), Self::SORT_FIELDS)?;
        Ok((page, query))
    }
}

/// What a list handler reads: the caller, the query string, and the URI the `Link` headers
/// point back to. Extracted in that order, so a caller's error comes before a query's.
pub struct ListRequest<P = ListParams> {
    pub state: AppState,
    pub caller: Caller,
    pub params: P,
    pub uri: Uri,
}

impl<P: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for ListRequest<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let ApiQuery(params) = ApiQuery::<P>::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            caller,
            params,
            uri: parts.uri.clone(),
        })
    }
}

/// A collection with the predefined filters `enabled` and `disabled` (webhooks and webhook
/// policies): [`filtered_list`] serves its three list routes.
pub trait FilteredCollection {
    /// What one item of the list shows.
    type View: Serialize;

    /// One page of the caller's account's collection, narrowed by `filter`.
    fn page(
        state: &AppState,
        caller: &Caller,
        filter: WebhookFilter,
        query: &ListQuery,
    ) -> impl Future<Output = ServiceResult<Listing<Self::View>>> + Send;
}

/// The predefined filter `enabled`.
pub const ENABLED: WebhookFilter = WebhookFilter {
    disabled: Some(false),
};
/// The predefined filter `disabled`.
pub const DISABLED: WebhookFilter = WebhookFilter {
    disabled: Some(true),
};

/// A page of a [`FilteredCollection`]: the whole list, or one of its predefined filters.
pub async fn filtered_list<C: FilteredCollection>(
    request: ListRequest,
    filter: WebhookFilter,
) -> ApiResult<Response> {
    let ListRequest {
        state,
        caller,
        params,
        uri,
    } = request;
    let (page, query) = params.page_and_query()?;
    let listing = C::page(&state, &caller, filter, &query).await?;
    list_response(&state, &uri, page, listing, params.fields.as_deref())
}

/// A page of a collection: a JSON array, `Link` and `X-Pagination-*` headers, and `?fields=`.
pub fn list_response<T: Serialize>(
    state: &AppState,
    uri: &Uri,
    page: Page,
    listing: Listing<T>,
    fields: Option<&str>,
) -> ApiResult<Response> {
    let body = select_fields(
        serde_json::to_value(&listing.items).map_err(ApiError::internal_with)?,
        fields,
    )?;
    let headers = pagination_headers(&state.base_url, uri, page, listing.total);
    Ok((StatusCode::OK, headers, Json(body)).into_response())
}

/// One record, honouring `?fields=`.
pub fn record_response<T: Serialize>(
    status: StatusCode,
    record: &T,
    fields: Option<&str>,
) -> ApiResult<Response> {
    let body = select_fields(
        serde_json::to_value(record).map_err(ApiError::internal_with)?,
        fields,
    )?;
    Ok((status, Json(body)).into_response())
}

/// A role name, as the OpenAPI document lists them.
pub struct RoleName;

impl utoipa::PartialSchema for RoleName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_enum(
            crate::auth::Role::ALL
                .iter()
                .map(|role| role.as_str().to_owned()),
        )
    }
}

impl utoipa::ToSchema for RoleName {}

/// A scope name (`people:read`, …), as the OpenAPI document lists them.
pub struct ScopeName;

impl utoipa::PartialSchema for ScopeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_enum(crate::auth::Scope::ALL.iter().map(ToString::to_string))
    }
}

impl utoipa::ToSchema for ScopeName {}

/// A delivery status (`pending`, `succeeded`, `failed`), as the OpenAPI document lists them.
pub struct DeliveryStatusName;

impl utoipa::PartialSchema for DeliveryStatusName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::domain::DeliveryStatus;
        string_enum(
            [
                DeliveryStatus::Pending,
                DeliveryStatus::Succeeded,
                DeliveryStatus::Failed,
            ]
            .into_iter()
            .map(|status| status.as_str().to_owned()),
        )
    }
}

impl utoipa::ToSchema for DeliveryStatusName {}

fn string_enum(
    values: impl Iterator<Item = String>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values))
        .into()
}

/// `?fields=` on a single record, shared by every resource.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsParams {
    /// Comma-separated fields to return.
    pub fields: Option<String>,
}

/// The error body, for the OpenAPI document (`ApiError` renders it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub message: String,
    pub errors: Vec<String>,
}

/// `Query`, `Json` and `Path` whose rejections answer in our JSON error format.
pub struct ApiQuery<T>(pub T);
pub struct ApiJson<T>(pub T);
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// Deserializes a field that may be absent (leave as is), `null` (clear) or a value (set).
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
