//! The SCIM 2.0 service provider (RFC 7644) at `/scim/v2`, and at `/accounts/{account}/scim/v2`
//! for clients that cannot send the account header. Answers are `application/scim+json`;
//! errors are SCIM error messages (RFC 7644 §3.12).
//!
//! Served so far: authentication, errors, discovery (`/ServiceProviderConfig`,
//! `/ResourceTypes`, `/Schemas`), `/Users`, `/Groups`, `/.search` and `GET /Me`. Bulk is to come;
//! the ServiceProviderConfig advertises only what is served.

mod authenticate;
mod discovery;
mod groups;
mod parameters;
mod response;
mod search;
mod users;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    let endpoints = Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route(
            "/Me",
            get(users::me)
                .post(users::me_not_implemented)
                .put(users::me_not_implemented)
                .patch(users::me_not_implemented)
                .delete(users::me_not_implemented),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route(
            "/Groups/{id}",
            get(groups::get_one)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/.search", post(search::search_all))
        .route(
            "/Users/{id}",
            get(users::get_one)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .fallback(discovery::not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            authenticate::require_scim_bearer,
        ));
    Router::new()
        .nest("/scim/v2", endpoints.clone())
        .nest("/accounts/{account}/scim/v2", endpoints)
}
