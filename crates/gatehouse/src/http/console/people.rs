//! People: the account's people, searchable by name and email (`people:read`), and a person's
//! page where an administrator (`people:write`) changes their roles or disables and enables
//! them — never someone who outranks them, and only an account administrator gives or takes
//! `account_administrator`, as in the API. The form offers only what the session may do.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{PageError, PageResult, parse_id};
use super::form::Submitted;
use super::layout::{
    self, Done, PER_PAGE, Section, badge, csrf, page_number, pager, table_wrap, when,
};
use super::scim::search_form;
use super::session::Session;
use crate::auth::{Resource, Role, RoleSet, Scope};
use crate::domain::{Person, PersonId, PersonSource};
use crate::http::AppState;
use crate::service::{PersonChanges, ServiceError};
use crate::store::{ListQuery, SortDirection, SortField};

const PATH: &str = "/console/people";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(list))
        .route("/console/people/{id}", get(show))
        .route("/console/people/{id}/roles", post(save_roles))
        .route("/console/people/{id}/status", post(save_status))
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    page: Option<String>,
    search: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let page = page_number(params.page.as_deref());
    let query = ListQuery {
        offset: (page - 1) * u64::from(PER_PAGE),
        limit: PER_PAGE,
        sort: vec![(SortField::Name, SortDirection::Ascending)],
    };
    let search = params.search.clone().unwrap_or_default();
    let listing = state
        .services
        .people(&session.principal, Some(&search), &query)
        .await?;
    let content = html! {
        h1 { "People" }
        (search_form(PATH, "Part of a name or an email address, in any case.", &search))
        div #results {
            @if listing.items.is_empty() {
                p.muted { @if search.trim().is_empty() { "No people yet." } @else { "No one matches \u{201c}" (search) "\u{201d}." } }
            } @else {
                (table_wrap(html! {
                    table #people {
                        caption.muted { (listing.total) @if listing.total == 1 { " person" } @else { " people" } ", by name" }
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Roles" }
                            th scope="col" { "Source" } th scope="col" { "Status" }
                        } }
                        tbody {
                            @for person in &listing.items {
                                tr {
                                    td.wrap { a href={ "/console/people/" (person.id.0) } { (person.name) } }
                                    td.wrap { (person.primary_email.as_deref().unwrap_or("")) }
                                    td.wrap { (roles_text(&person.roles)) }
                                    td { (source_text(person.source)) }
                                    td { (status_badge(person.disabled)) }
                                }
                            }
                        }
                    }
                }))
            }
            (pager(PATH, &[("search", search.clone())], page, listing.total))
        }
    };
    Ok(layout::page("People", &session, Section::People, None, content).into_response())
}

fn roles_text(roles: &RoleSet) -> String {
    if roles.is_empty() {
        return "none".to_owned();
    }
    roles
        .iter()
        .map(|role| role.as_str().replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_text(source: PersonSource) -> &'static str {
    match source {
        PersonSource::Manual => "by hand",
        PersonSource::Scim => "SCIM",
    }
}

fn status_badge(disabled: bool) -> Markup {
    if disabled {
        badge("disabled", "bad")
    } else {
        badge("enabled", "good")
    }
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<Done>,
) -> PageResult<Response> {
    let id = PersonId(parse_id(&id, "Person")?);
    let person = state.services.person(&session.principal, id).await?;
    let flash = match params.done.as_deref() {
        Some("roles") => Some("Roles saved: they apply to the person's tokens at once."),
        Some("disabled") => {
            Some("Disabled: their tokens and console sessions stop working at once.")
        }
        Some("enabled") => Some("Enabled."),
        _ => None,
    };
    Ok(person_page(&session, &person, None, flash).into_response())
}

fn person_page(
    session: &Session,
    person: &Person,
    error: Option<&PageError>,
    flash: Option<&str>,
) -> Markup {
    let principal = &session.principal;
    let may_change = principal.require(Scope::write(Resource::People)).is_ok()
        && principal.require_rank_over(person, "change {}").is_ok();
    let account_administrator = principal.roles.contains(Role::AccountAdministrator);
    let content = html! {
        h1 { (person.name) }
        dl.card #person {
            dt { "Email" } dd { (person.primary_email.as_deref().unwrap_or("none")) }
            dt { "Roles" } dd { (roles_text(&person.roles)) }
            dt { "Status" } dd { (status_badge(person.disabled)) }
            dt { "Source" } dd {
                (source_text(person.source))
                @if person.source == PersonSource::Scim { span.muted { ": the identity provider owns their details; roles are set here" } }
            }
            @if let Some(title) = &person.job_title { dt { "Job title" } dd { (title) } }
            dt { "Created" } dd { (when(person.created_at)) }
            dt { "Updated" } dd { (when(person.updated_at)) }
        }
        @if let Some(error) = error {
            div.error role="alert" { p { (error.summary()) } }
        }
        @if may_change {
            section aria-labelledby="person-roles" {
                h2 #person-roles { "Roles" }
                form method="post" action={ "/console/people/" (person.id.0) "/roles" } {
                    (csrf(session))
                    fieldset {
                        legend { "Roles of " (person.name) }
                        p.hint { "Only an account administrator gives or takes the account administrator role." }
                        @for role in Role::ALL {
                            @let id = format!("role-{}", role.as_str());
                            @let locked = role == Role::AccountAdministrator && !account_administrator;
                            label.inline for=(id) {
                                input #(id) type="checkbox" name="roles" value=(role.as_str())
                                    checked[person.roles.contains(role)] disabled[locked];
                                (role.as_str().replace('_', " "))
                            }
                        }
                    }
                    div.actions { button type="submit" { "Save roles" } }
                }
            }
            section aria-labelledby="person-status" {
                h2 #person-status { @if person.disabled { "Enable" } @else { "Disable" } }
                form method="post" action={ "/console/people/" (person.id.0) "/status" } {
                    (csrf(session))
                    @if person.disabled {
                        input type="hidden" name="disabled" value="false";
                        p { "Their tokens work again (those not revoked or expired)." }
                        div.actions { button type="submit" { "Enable person" } }
                    } @else {
                        input type="hidden" name="disabled" value="true";
                        p { "Their tokens and console sessions stop working at once." }
                        div.actions { button.danger type="submit" { "Disable person" } }
                    }
                }
            }
        }
        p { a href=(PATH) { "Back to people" } }
    };
    layout::page(&person.name, session, Section::People, flash, content)
}

async fn save_roles(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let roles = RoleSet::parse(form.fields.all("roles"))
        .map_err(|error| PageError::from(ServiceError::invalid(vec![error.to_string()])))?;
    change(
        &state,
        &id,
        form,
        PersonChanges {
            roles: Some(roles),
            ..PersonChanges::default()
        },
        "roles",
    )
    .await
}

async fn save_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let disabled = form.fields.get("disabled") == Some("true");
    change(
        &state,
        &id,
        form,
        PersonChanges {
            disabled: Some(disabled),
            ..PersonChanges::default()
        },
        if disabled { "disabled" } else { "enabled" },
    )
    .await
}

/// Applies `changes` to the person `id`; a refusal (rank, role rule) shows their page again
/// with the reason.
async fn change(
    state: &AppState,
    id: &str,
    form: Submitted,
    changes: PersonChanges,
    done: &str,
) -> PageResult<Response> {
    let id = PersonId(parse_id(id, "Person")?);
    let principal = &form.session.principal;
    match state
        .services
        .update_person(Some(principal), &principal.account_id, id, changes)
        .await
    {
        Ok(person) => Ok(
            Redirect::to(&format!("/console/people/{}?done={done}", person.id.0)).into_response(),
        ),
        Err(error) => {
            let error = PageError::from(error);
            if error.status != StatusCode::FORBIDDEN
                && error.status != StatusCode::UNPROCESSABLE_ENTITY
            {
                return Err(error);
            }
            let person = state.services.person(principal, id).await?;
            Ok((
                error.status,
                person_page(&form.session, &person, Some(&error), None),
            )
                .into_response())
        }
    }
}
