//! Account → SCIM provisioning credential: what the identity provider holds to provision the
//! account. Account administrators create it (its secret shown once), rotate it with an
//! overlap for the old secret, and revoke it; whoever may read the account sees when it was
//! made and last used, never a secret.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::error::{PageError, PageResult};
use super::form::Submitted;
use super::layout::{self, Done, Section, csrf, when, when_or};
use super::session::Session;
use crate::auth::{Resource, Scope};
use crate::domain::{MAX_PROVISIONING_OVERLAP_DAYS, ProvisioningCredential};
use crate::http::AppState;
use crate::service::{IssuedProvisioningCredential, ServiceError};

const PATH: &str = "/console/scim-token";
const TITLE: &str = "SCIM provisioning credential";
/// The overlaps the rotate form offers, in days.
const OVERLAP_CHOICES_DAYS: [u32; 4] = [0, 1, 7, MAX_PROVISIONING_OVERLAP_DAYS];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show).post(create))
        .route("/console/scim-token/rotate", post(rotate))
        .route("/console/scim-token/revoke", post(revoke))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<Done>,
) -> PageResult<Response> {
    let flash = match params.done.as_deref() {
        Some("revoked") => Some("Credential revoked: none of its secrets works any more."),
        _ => None,
    };
    let principal = &session.principal;
    let credential = match state
        .services
        .provisioning_credential(&principal.account_id, Some(principal))
        .await
    {
        Ok(credential) => Some(credential),
        Err(ServiceError::NotFound(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let content = credential_page(&session, credential.as_ref());
    Ok(layout::page(TITLE, &session, Section::ScimToken, flash, content).into_response())
}

fn credential_page(session: &Session, credential: Option<&ProvisioningCredential>) -> Markup {
    let may_manage = session
        .principal
        .require(Scope::write(Resource::Account))
        .is_ok();
    html! {
        h1 { (TITLE) }
        p {
            "The secret your identity provider (Microsoft Entra ID, Okta, …) uses to provision this account through "
            code { "/scim/v2" } ": " code { "Authorization: Bearer gth_scim_…" } ". "
            "It belongs to the account, not to a person, so it doesn't stop when someone leaves or loses a role, and it never expires by itself. "
            "It works on SCIM only, for every person of the account, administrators included."
        }
        @match credential {
            None => {
                p.muted { "The account has no provisioning credential." }
                @if may_manage {
                    form method="post" action=(PATH) {
                        (csrf(session))
                        div.actions { button type="submit" { "Create credential" } }
                    }
                }
            }
            Some(credential) => {
                dl.card #credential {
                    dt { "Created" } dd { (when(credential.current.created_at)) }
                    dt { "By" } dd { (credential.current.created_by.as_deref().unwrap_or("the command line")) }
                    dt { "Last used" } dd { (when_or(credential.current.last_used_at, "never")) }
                    @if let Some(previous) = &credential.previous {
                        dt { "Previous secret" }
                        dd {
                            "Works until " (when_or(previous.retires_at, "revoked"))
                            "; last used " (when_or(previous.last_used_at, "never"))
                        }
                    }
                }
                @if may_manage {
                    section aria-labelledby="rotate-credential" {
                        h2 #rotate-credential { "Rotate" }
                        p { "Makes a new secret. Give it to the identity provider; the old one keeps working for the overlap, so provisioning never stops. A secret an earlier rotation left working stops now." }
                        form method="post" action="/console/scim-token/rotate" {
                            (csrf(session))
                            label for="overlap-days" { "The old secret keeps working for" }
                            select #overlap-days name="overlap_days" {
                                @for days in OVERLAP_CHOICES_DAYS {
                                    option value=(days) selected[days == MAX_PROVISIONING_OVERLAP_DAYS] {
                                        @if days == 0 { "no time: it stops now" } @else if days == 1 { "1 day" } @else { (days) " days" }
                                    }
                                }
                            }
                            div.actions { button type="submit" { "Rotate secret" } }
                        }
                    }
                    section aria-labelledby="revoke-credential" {
                        h2 #revoke-credential { "Revoke" }
                        p { "Every secret of the credential stops working at once; provisioning stops until you create a new one." }
                        form method="post" action="/console/scim-token/revoke" {
                            (csrf(session))
                            div.actions { button.danger type="submit" { "Revoke credential" } }
                        }
                    }
                }
            }
        }
    }
}

/// The page after a create or a rotation: the new secret, once.
fn issued_page(session: &Session, title: &str, issued: &IssuedProvisioningCredential) -> Response {
    let content = html! {
        h1 { (title) }
        (layout::one_time_secret(
            "The new secret of the account's SCIM provisioning credential:",
            issued.secret.expose(),
            "Copy it into the identity provider now: it is shown only once. Gatehouse keeps only a hash of it; if you lose it, rotate the credential.",
        ))
        @if let Some(previous) = &issued.credential.previous {
            p { "The previous secret keeps working until " (when_or(previous.retires_at, "now")) "." }
        }
        p { a href=(PATH) { "Back to the credential" } }
    };
    layout::page(title, session, Section::ScimToken, None, content).into_response()
}

async fn create(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let principal = &form.session.principal;
    let issued = state
        .services
        .create_provisioning_credential(&principal.account_id, Some(principal))
        .await?;
    Ok(issued_page(&form.session, "Credential created", &issued))
}

async fn rotate(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let overlap_days = match form.fields.get("overlap_days") {
        None => MAX_PROVISIONING_OVERLAP_DAYS,
        Some(raw) => raw.parse().map_err(|_| {
            PageError::from(ServiceError::invalid(vec![format!(
                "overlap_days must be a whole number of days from 0 to \
                 {MAX_PROVISIONING_OVERLAP_DAYS}"
            )]))
        })?,
    };
    let principal = &form.session.principal;
    let issued = state
        .services
        .rotate_provisioning_credential(&principal.account_id, Some(principal), overlap_days)
        .await?;
    Ok(issued_page(&form.session, "Secret rotated", &issued))
}

async fn revoke(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let principal = &form.session.principal;
    state
        .services
        .revoke_provisioning_credential(&principal.account_id, Some(principal))
        .await?;
    Ok(Redirect::to("/console/scim-token?done=revoked").into_response())
}
