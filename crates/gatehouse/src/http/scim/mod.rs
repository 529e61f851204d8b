//! The SCIM 2.0 service provider (RFC 7644) at `/scim/v2`, and at `/accounts/{account}/scim/v2`
//! for clients that cannot send the account header. Answers are `application/scim+json`;
//! errors are SCIM error messages (RFC 7644 §3.12).
//!
//! Served: authentication, errors, discovery (`/ServiceProviderConfig`, `/ResourceTypes`,
//! `/Schemas`), `/Users`, `/Groups`, `/.search`, `/Bulk` and `GET /Me`; the
//! ServiceProviderConfig advertises only what is served.

mod authenticate;
mod bulk;
mod discovery;
mod groups;
mod parameters;
mod resource;
mod response;
mod search;
mod users;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};
use scim::schema::{ResourceTypeDefinition, SchemaDefinition};
use tower::ServiceExt;

use self::groups::Groups;
use self::users::Users;
use super::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    let endpoints = Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route(
            "/ResourceTypes",
            get(discovery::all::<ResourceTypeDefinition>),
        )
        .route(
            "/ResourceTypes/{id}",
            get(discovery::one::<ResourceTypeDefinition>),
        )
        .route("/Schemas", get(discovery::all::<SchemaDefinition>))
        .route("/Schemas/{id}", get(discovery::one::<SchemaDefinition>))
        .route(
            "/Users",
            get(resource::list::<Users>).post(resource::create::<Users>),
        )
        .route("/Users/.search", post(resource::search::<Users>))
        .route(
            "/Me",
            get(users::me)
                .post(users::me_not_implemented)
                .put(users::me_not_implemented)
                .patch(users::me_not_implemented)
                .delete(users::me_not_implemented),
        )
        .route(
            "/Groups",
            get(resource::list::<Groups>).post(resource::create::<Groups>),
        )
        .route("/Groups/.search", post(resource::search::<Groups>))
        .route(
            "/Groups/{id}",
            get(resource::get_one::<Groups>)
                .put(resource::replace::<Groups>)
                .patch(resource::patch::<Groups>)
                .delete(resource::delete::<Groups>),
        )
        .route("/.search", post(search::search_all))
        .route("/Bulk", post(bulk::bulk))
        .route(
            "/Users/{id}",
            get(resource::get_one::<Users>)
                .put(resource::replace::<Users>)
                .patch(resource::patch::<Users>)
                .delete(resource::delete::<Users>),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate::require_scim_bearer,
        ));
    let canonical = endpoints.clone().with_state(state);
    let endpoints = endpoints.fallback(move |request: Request| {
        let canonical = canonical.clone();
        async move { canonical_endpoint(canonical, request).await }
    });
    Router::new()
        .nest("/scim/v2", endpoints.clone())
        .nest("/accounts/{account}/scim/v2", endpoints)
}

/// The endpoint names of RFC 7644 §3.2 and §4, as served.
const ENDPOINTS: [&str; 8] = [
    "Bulk",
    "Users",
    "Groups",
    "Me",
    "ServiceProviderConfig",
    "ResourceTypes",
    "Schemas",
    ".search",
];

/// A request no route matched, tried once more at its canonical path: endpoint names matched
/// without regard to case (`/users`) and without a trailing slash (`/Users/?filter=…`). RFC
/// 7644 spells them `/Users` and so on, and most clients do too, but some (Microsoft's own
/// reference tests among them) don't, and answering them costs nothing. Only a path that
/// still names nothing is 404.
async fn canonical_endpoint(endpoints: Router, mut request: Request) -> Response {
    let path = request.uri().path();
    let Some(canonical) = canonical_path(path).filter(|canonical| canonical != path) else {
        return discovery::not_found(request.uri().clone()).await;
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{canonical}?{query}"),
        None => canonical,
    };
    let mut parts = request.uri().clone().into_parts();
    match path_and_query.parse() {
        Ok(parsed) => parts.path_and_query = Some(parsed),
        Err(_) => return discovery::not_found(request.uri().clone()).await,
    }
    match axum::http::Uri::from_parts(parts) {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return discovery::not_found(request.uri().clone()).await,
    }
    match endpoints.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn canonical_path(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let mut segments = trimmed.trim_start_matches('/').splitn(2, '/');
    let first = segments.next()?;
    let endpoint = ENDPOINTS
        .iter()
        .find(|endpoint| endpoint.eq_ignore_ascii_case(first))?;
    Some(match segments.next() {
        Some(rest) if rest.eq_ignore_ascii_case(".search") => format!("/{endpoint}/.search"),
        Some(rest) => format!("/{endpoint}/{rest}"),
        None => format!("/{endpoint}"),
    })
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn endpoint_names_are_matched_ignoring_case_and_a_trailing_slash() {
        assert_eq!(canonical_path("/users").as_deref(), Some("/Users"));
        assert_eq!(canonical_path("/Users/").as_deref(), Some("/Users"));
        assert_eq!(
            canonical_path("/GROUPS/abc/").as_deref(),
            Some("/Groups/abc")
        );
        assert_eq!(
            canonical_path("/users/.SEARCH").as_deref(),
            Some("/Users/.search")
        );
        assert_eq!(
            canonical_path("/serviceproviderconfig").as_deref(),
            Some("/ServiceProviderConfig")
        );
        assert_eq!(canonical_path("/Bogus"), None);
        assert_eq!(canonical_path("/"), None);
    }
}
