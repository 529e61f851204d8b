//! My profile → Personal access tokens: the person's own tokens (administrators may also list
//! everyone's), creating one — its secret shown once — editing one's name, description and
//! scopes (narrower only), and revoking.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{PageError, PageResult, parse_id};
use super::form::{Fields, Submitted};
use super::layout::{self, Section, badge, csrf, page_number, pager, table_wrap, when, when_or};
use super::layout::{PER_PAGE, newest_first};
use super::session::Session;
use crate::auth::{Scope, ScopeSet, role_permits};
use crate::domain::{PersonalAccessToken, TokenId, TokenStatus};
use crate::http::AppState;
use crate::service::{
    DEFAULT_TOKEN_EXPIRY_DAYS, NewToken, ServiceError, TOKEN_EXPIRY_CHOICES_DAYS, TokenChanges,
    TokenExpiry,
};
use crate::store::TokenOwnerFilter;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/tokens", get(list).post(create))
        .route("/console/tokens/{id}", get(edit).post(save))
        .route("/console/tokens/{id}/revoke", post(revoke))
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    page: Option<String>,
    owner: Option<String>,
    done: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let flash = match params.done.as_deref() {
        Some("revoked") => Some("Token revoked: it stops working at once, everywhere."),
        _ => None,
    };
    let content = tokens_page(&state, &session, &params, &Fields::default(), None).await?;
    Ok(layout::page(
        "Personal access tokens",
        &session,
        Section::Tokens,
        flash,
        content,
    )
    .into_response())
}

async fn tokens_page(
    state: &AppState,
    session: &Session,
    params: &ListParams,
    form: &Fields,
    error: Option<&PageError>,
) -> PageResult<Markup> {
    let everyone = params.owner.as_deref() == Some("all");
    let owner = if everyone {
        TokenOwnerFilter::Everyone
    } else {
        TokenOwnerFilter::Person(session.principal.person_id)
    };
    let page = page_number(params.page.as_deref());
    let query = newest_first(page, PER_PAGE);
    let listing = state
        .services
        .tokens(&session.principal, owner, &query)
        .await?;
    let now = state.services.clock.now();
    let pager_query = [("owner", params.owner.clone().unwrap_or_default())];
    Ok(html! {
        h1 { "Personal access tokens" }
        p {
            "Tokens act like OAuth bearer tokens for the REST and SCIM APIs: "
            code { "Authorization: Bearer gth_pat_…" } ". A token can do what its scopes name and your roles allow, and nothing once revoked or expired."
        }
        @if session.is_administrator() {
            p.actions {
                @if everyone {
                    a href="/console/tokens" { "Show only my tokens" }
                } @else {
                    a href="/console/tokens?owner=all" { "Show every token of the account" }
                }
            }
        }
        @if listing.items.is_empty() {
            p.muted { "No tokens yet." }
        } @else {
            (table_wrap(html! {
                table #tokens {
                    caption.muted { @if everyone { "Every token of the account" } @else { "Your tokens" } ", newest first" }
                    thead { tr {
                        th scope="col" { "Name" }
                        @if everyone { th scope="col" { "Owner" } }
                        th scope="col" { "Scopes" } th scope="col" { "Expires" }
                        th scope="col" { "Last used" } th scope="col" { "Status" } th scope="col" { span.muted { "Action" } }
                    } }
                    tbody {
                        @for token in &listing.items {
                            @let status = token.status(now);
                            tr {
                                td.wrap {
                                    @if token.person_id == session.principal.person_id {
                                        a href={ "/console/tokens/" (token.id.0) } { (token.name) }
                                    } @else { (token.name) }
                                    @if let Some(description) = &token.description { br; span.muted { (description) } }
                                }
                                @if everyone { td { code { (token.person_id.0) } } }
                                td.wrap { @if token.scopes.is_empty() { span.muted { "none" } } @else { (token.scopes.to_space_separated()) } }
                                td { (when(token.expires_at)) }
                                td { (when_or(token.last_used_at, "never")) }
                                td { (status_badge(status)) }
                                td {
                                    @if status == TokenStatus::Active {
                                        form method="post" action={ "/console/tokens/" (token.id.0) "/revoke" } {
                                            (csrf(session))
                                            button.danger type="submit" aria-label={ "Revoke " (token.name) } { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
            (pager("/console/tokens", &pager_query, page, listing.total))
        }
        (create_form(session, form, error, now))
    })
}

fn status_badge(status: TokenStatus) -> Markup {
    match status {
        TokenStatus::Active => badge("active", "good"),
        TokenStatus::Expired => badge("expired", "neutral"),
        TokenStatus::Revoked => badge("revoked", "bad"),
    }
}

/// The `expires_in` choice "as long as the token this session acts as".
const UNTIL_SESSION_TOKEN_EXPIRES: &str = "session";

fn create_form(
    session: &Session,
    form: &Fields,
    error: Option<&PageError>,
    now: DateTime<Utc>,
) -> Markup {
    // A session acts as the token it was opened with, which creates only tokens within its
    // own scopes and lifetime: offer nothing else.
    let ceiling = session.principal.expires_at;
    let fits = |days: u32| now + Duration::days(i64::from(days)) <= ceiling;
    let default_choice = if fits(DEFAULT_TOKEN_EXPIRY_DAYS) {
        DEFAULT_TOKEN_EXPIRY_DAYS.to_string()
    } else {
        UNTIL_SESSION_TOKEN_EXPIRES.to_owned()
    };
    let chosen_expiry = form.get("expires_in").unwrap_or(&default_choice);
    let chosen_scopes = form.all("scopes");
    html! {
        section aria-labelledby="create-token" {
            h2 #create-token { "Create a token" }
            @if let Some(error) = error {
                div.error role="alert" { p { (error.summary()) } }
            }
            form method="post" action="/console/tokens" {
                (csrf(session))
                label for="token-name" { "Name" }
                input #token-name type="text" name="name" required maxlength="120" value=(form.text("name"))
                    aria-describedby="token-name-hint";
                p.hint #token-name-hint { "What the token is for, e.g. \"deploy script\" or \"laptop\"." }
                label for="token-description" { "Description" }
                textarea #token-description name="description" maxlength="5000" { (form.text("description")) }
                label for="token-expires-in" { "Expires in" }
                select #token-expires-in name="expires_in" aria-describedby="token-expiry-hint" {
                    @for days in TOKEN_EXPIRY_CHOICES_DAYS {
                        @let value = days.to_string();
                        option value=(value) selected[value == chosen_expiry] disabled[!fits(days)] { (days) " days" }
                    }
                    option value=(UNTIL_SESSION_TOKEN_EXPIRES) selected[chosen_expiry == UNTIL_SESSION_TOKEN_EXPIRES] {
                        "Until " (ceiling.format("%Y-%m-%d %H:%M UTC")) ", when the token you signed in with expires"
                    }
                }
                p.hint #token-expiry-hint { "Every token expires; at most one year, and never after the token you signed in with. Make a new one before it does." }
                fieldset {
                    legend { "Scopes" }
                    p.hint { "Deny by default: a token with no scopes can do nothing. Scopes your roles or the token you signed in with don't permit are greyed out." }
                    @for scope in Scope::ALL {
                        @let name = scope.to_string();
                        @let id = format!("scope-{name}");
                        @let permitted = role_permits(&session.principal.roles, scope)
                            && session.principal.scopes.grants(scope);
                        label.inline for=(id) {
                            input #(id) type="checkbox" name="scopes" value=(name)
                                checked[chosen_scopes.contains(&name.as_str())] disabled[!permitted];
                            (name)
                        }
                    }
                }
                div.actions { button type="submit" { "Create token" } }
            }
        }
    }
}

async fn create(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let created = match new_token(&fields, session.principal.expires_at) {
        Ok(new) => state
            .services
            .create_own_token(&session.principal, new)
            .await
            .map_err(PageError::from),
        Err(problem) => Err(PageError::from(ServiceError::invalid(vec![problem]))),
    };
    match created {
        Ok(created) => {
            let content = html! {
                h1 { "Token created" }
                (layout::one_time_secret(
                    &format!("The secret of \"{}\":", created.token.name),
                    created.secret.expose(),
                    "Copy it now: it is shown only once. Gatehouse keeps only a hash of it, so it can't be shown again; if you lose it, revoke the token and make a new one.",
                ))
                dl.card {
                    dt { "Scopes" } dd { (created.token.scopes.to_space_separated()) }
                    dt { "Expires" } dd { (when(created.token.expires_at)) }
                }
                p { a href="/console/tokens" { "Back to tokens" } }
            };
            Ok(
                layout::page("Token created", &session, Section::Tokens, None, content)
                    .into_response(),
            )
        }
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::FORBIDDEN =>
        {
            let content = tokens_page(
                &state,
                &session,
                &ListParams::default(),
                &fields,
                Some(&error),
            )
            .await?;
            Ok((
                error.status,
                layout::page(
                    "Personal access tokens",
                    &session,
                    Section::Tokens,
                    None,
                    content,
                ),
            )
                .into_response())
        }
        Err(error) => Err(error),
    }
}

/// `session_token_expires_at`: when the token the session acts as expires, for the choice
/// "until it expires".
fn new_token(fields: &Fields, session_token_expires_at: DateTime<Utc>) -> Result<NewToken, String> {
    let scopes = ScopeSet::parse(fields.all("scopes")).map_err(|error| error.to_string())?;
    let expiry = match fields.get("expires_in") {
        None => TokenExpiry::Default,
        Some(UNTIL_SESSION_TOKEN_EXPIRES) => TokenExpiry::At(session_token_expires_at),
        Some(raw) => TokenExpiry::InDays(raw.parse::<u32>().map_err(|_| {
            format!("expires_in must be one of {TOKEN_EXPIRY_CHOICES_DAYS:?} days")
        })?),
    };
    Ok(NewToken {
        name: fields.text("name"),
        description: fields.get("description").map(str::to_owned),
        scopes,
        expiry,
    })
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = TokenId(parse_id(&id, "Personal access token")?);
    state
        .services
        .revoke_token(&form.session.principal, id)
        .await?;
    Ok(Redirect::to("/console/tokens?done=revoked").into_response())
}

async fn edit(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let id = TokenId(parse_id(&id, "Personal access token")?);
    let token = state.services.token(&session.principal, id).await?;
    let flash = match params.done.as_deref() {
        Some("saved") => Some("Token saved."),
        _ => None,
    };
    let now = state.services.clock.now();
    Ok(edit_page(&session, &token, &Fields::default(), None, flash, now).into_response())
}

/// A token's page: its details, and for its owner the form to rename, describe or narrow it
/// and the button that revokes it.
fn edit_page(
    session: &Session,
    token: &PersonalAccessToken,
    form: &Fields,
    error: Option<&PageError>,
    flash: Option<&str>,
    now: DateTime<Utc>,
) -> Markup {
    let status = token.status(now);
    let editable = status == TokenStatus::Active && token.person_id == session.principal.person_id;
    let edited = error.is_some();
    let name = if edited {
        form.text("name")
    } else {
        token.name.clone()
    };
    let description = if edited {
        form.text("description")
    } else {
        token.description.clone().unwrap_or_default()
    };
    let content = html! {
        h1 { "Token " (token.name) }
        dl.card {
            dt { "Status" } dd { (status_badge(status)) }
            dt { "Expires" } dd { (when(token.expires_at)) }
            dt { "Last used" } dd { (when_or(token.last_used_at, "never")) }
            dt { "Scopes" } dd { @if token.scopes.is_empty() { span.muted { "none" } } @else { (token.scopes.to_space_separated()) } }
        }
        @if editable {
            section aria-labelledby="edit-token" {
                h2 #edit-token { "Edit" }
                @if let Some(error) = error {
                    div.error role="alert" { p { (error.summary()) } }
                }
                form method="post" action={ "/console/tokens/" (token.id.0) } {
                    (csrf(session))
                    label for="token-name" { "Name" }
                    input #token-name type="text" name="name" required maxlength="120" value=(name);
                    label for="token-description" { "Description" }
                    textarea #token-description name="description" maxlength="5000" { (description) }
                    fieldset {
                        legend { "Scopes" }
                        p.hint { "A token's scopes can only narrow: untick what it no longer needs. A write scope can become its read scope. To widen, create a new token." }
                        @for scope in Scope::ALL.into_iter().filter(|scope| token.scopes.grants(*scope)) {
                            @let name = scope.to_string();
                            @let id = format!("scope-{name}");
                            @let checked = if edited { form.all("scopes").contains(&name.as_str()) } else { token.scopes.iter().any(|held| held == scope) };
                            label.inline for=(id) {
                                input #(id) type="checkbox" name="scopes" value=(name) checked[checked];
                                (name)
                            }
                        }
                    }
                    div.actions { button type="submit" { "Save token" } }
                }
            }
        }
        @if status == TokenStatus::Active {
            section aria-labelledby="revoke-token" {
                h2 #revoke-token { "Revoke" }
                p { "The token stops working at once, everywhere; its record stays, revoked." }
                form method="post" action={ "/console/tokens/" (token.id.0) "/revoke" } {
                    (csrf(session))
                    div.actions { button.danger type="submit" { "Revoke token" } }
                }
            }
        }
        p { a href="/console/tokens" { "Back to tokens" } }
    };
    layout::page(
        &format!("Token {}", token.name),
        session,
        Section::Tokens,
        flash,
        content,
    )
}

async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let id = TokenId(parse_id(&id, "Personal access token")?);
    let changes = ScopeSet::parse(fields.all("scopes"))
        .map_err(|error| PageError::from(ServiceError::invalid(vec![error.to_string()])))
        .map(|scopes| TokenChanges {
            name: Some(fields.text("name")),
            description: Some(
                fields
                    .get("description")
                    .map(str::to_owned)
                    .filter(|text| !text.trim().is_empty()),
            ),
            scopes: Some(scopes),
        });
    let saved = match changes {
        Ok(changes) => state
            .services
            .update_token(&session.principal, id, changes)
            .await
            .map_err(PageError::from),
        Err(error) => Err(error),
    };
    match saved {
        Ok(token) => {
            Ok(Redirect::to(&format!("/console/tokens/{}?done=saved", token.id.0)).into_response())
        }
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::FORBIDDEN =>
        {
            let token = state.services.token(&session.principal, id).await?;
            Ok((
                error.status,
                edit_page(
                    &session,
                    &token,
                    &fields,
                    Some(&error),
                    None,
                    state.services.clock.now(),
                ),
            )
                .into_response())
        }
        Err(error) => Err(error),
    }
}
