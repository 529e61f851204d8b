//! The frame of every page (head, navigation, sign-out) and the small pieces pages share:
//! times, status badges, pagers, pretty JSON, the hidden CSRF field.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::form::CSRF_FIELD;
use super::session::Session;
use crate::auth::{Access, Resource, Scope};
use crate::store::{ListQuery, SortDirection, SortField};

/// The sections of the navigation, to mark the current one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Tokens,
    People,
    ScimUsers,
    ScimGroups,
    ScimToken,
    Webhooks,
    Policies,
    Deliveries,
    Notifications,
    Events,
    Account,
}

/// The console's sections, and the scope each one's page reads with. A section shows in the
/// navigation only when the session may open it — the token carries the scope and the
/// person's roles permit it (spec: Roles) — so no link leads to a refusal. The pages check
/// again regardless.
const SECTIONS: [(Section, &str, &str, Resource); 12] = [
    (
        Section::Overview,
        "/console/overview",
        "Overview",
        Resource::Account,
    ),
    (
        Section::Tokens,
        "/console/tokens",
        "Personal access tokens",
        Resource::PersonalAccessTokens,
    ),
    (
        Section::People,
        "/console/people",
        "People",
        Resource::People,
    ),
    (
        Section::ScimUsers,
        "/console/scim/users",
        "SCIM users",
        Resource::Scim,
    ),
    (
        Section::ScimGroups,
        "/console/scim/groups",
        "SCIM groups",
        Resource::Scim,
    ),
    (
        Section::ScimToken,
        "/console/scim-token",
        "SCIM credential",
        Resource::Account,
    ),
    (
        Section::Webhooks,
        "/console/webhooks",
        "Webhooks",
        Resource::Webhooks,
    ),
    (
        Section::Policies,
        "/console/webhook-policies",
        "Webhook policies",
        Resource::WebhookPolicies,
    ),
    (
        Section::Deliveries,
        "/console/deliveries",
        "Webhook deliveries",
        Resource::WebhookDeliveries,
    ),
    (
        Section::Notifications,
        "/console/notifications",
        "Notifications",
        Resource::Webhooks,
    ),
    (
        Section::Events,
        "/console/events",
        "Events",
        Resource::Events,
    ),
    (
        Section::Account,
        "/console/account",
        "Account",
        Resource::Account,
    ),
];

/// Whether the session may open a section's page.
pub fn opens(session: &Session, section: Section) -> bool {
    SECTIONS
        .iter()
        .find(|(candidate, ..)| *candidate == section)
        .is_some_and(|(_, _, _, resource)| may_open(session, section, *resource))
}

/// Whether the session may open a section's page: its scope; for the SCIM credential and the
/// overview also an administrator (as their service calls check); the events catalogue, as any
/// token may read it.
fn may_open(session: &Session, section: Section, resource: Resource) -> bool {
    let readable = || {
        session
            .principal
            .require(Scope {
                resource,
                access: Access::Read,
            })
            .is_ok()
    };
    match section {
        Section::Events => true,
        Section::ScimToken | Section::Overview => readable() && session.is_administrator(),
        _ => readable(),
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // htmx would otherwise add an inline <style>, which our CSP refuses.
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false}"#;
            title { (title) " · Gatehouse" }
            link rel="stylesheet" href=(assets::STYLESHEET);
            script src=(assets::HTMX) defer {}
            script src=(assets::SCRIPT) defer {}
        }
    }
}

/// A page of a signed-in person.
pub fn page(
    title: &str,
    session: &Session,
    current: Section,
    flash: Option<&str>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "Gatehouse" }
                    span.who {
                        (session.principal.person_name) " · " (session.principal.account_id.as_str())
                    }
                    form.signout method="post" action="/console/sign-out" {
                        (csrf(session))
                        button type="submit" { "Sign out" }
                    }
                }
                nav aria-label="Console" {
                    ul {
                        @for (section, href, label, resource) in SECTIONS {
                            @if section == current || may_open(session, section, resource) {
                            li {
                                @if section == current {
                                    a href=(href) aria-current="page" { (label) }
                                } @else {
                                    a href=(href) { (label) }
                                }
                            }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    @if let Some(flash) = flash {
                        div.flash role="status" { (flash) }
                    }
                    (content)
                }
            }
        }
    }
}

/// A page without the person's frame: sign-in and errors.
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top { span.brand { "Gatehouse" } }
                main #main.narrow tabindex="-1" { (content) }
            }
        }
    }
}

pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token); }
}

/// A moment, readable and machine-readable.
pub fn when(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (at.format("%Y-%m-%d %H:%M:%S UTC"))
        }
    }
}

pub fn when_or(at: Option<DateTime<Utc>>, otherwise: &str) -> Markup {
    match at {
        Some(at) => when(at),
        None => html! { span.muted { (otherwise) } },
    }
}

/// A status word with a colour that also reads without colour.
pub fn badge(text: &str, tone: &str) -> Markup {
    html! { span class={ "badge " (tone) } { (text) } }
}

/// JSON, indented, or the text as it was when it is not JSON.
pub fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// A table that scrolls sideways on its own on a narrow screen, not the page.
pub fn table_wrap(content: Markup) -> Markup {
    html! { div.table-wrap tabindex="0" role="region" aria-label="Scrollable table" { (content) } }
}

/// How many rows every list shows a page.
pub const PER_PAGE: u32 = 25;

/// Previous/next links for a list of `PER_PAGE` rows a page, keeping its other query parameters.
pub fn pager(path: &str, query: &[(&str, String)], page: u64, total: u64) -> Markup {
    let pages = total.div_ceil(u64::from(PER_PAGE)).max(1);
    let link = |to: u64| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in query {
            if !value.is_empty() {
                serializer.append_pair(key, value);
            }
        }
        serializer.append_pair("page", &to.to_string());
        format!("{path}?{}", serializer.finish())
    };
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 {
                a rel="prev" href=(link(page - 1)) { "← Previous" }
            }
            span { "Page " (page) " of " (pages) " · " (total) " in all" }
            @if page < pages {
                a rel="next" href=(link(page + 1)) { "Next →" }
            }
        }
    }
}

/// Page `page` (from 1) of a list, `per_page` rows, newest first.
pub fn newest_first(page: u64, per_page: u32) -> ListQuery {
    ListQuery {
        offset: (page - 1) * u64::from(per_page),
        limit: per_page,
        sort: vec![(SortField::CreatedAt, SortDirection::Descending)],
    }
}

/// How many records a picker (a select, a list of checkboxes) offers at most.
pub const PICKER_LIMIT: u32 = 100;

/// The first `PICKER_LIMIT` records by name, for a picker.
pub fn first_by_name() -> ListQuery {
    ListQuery {
        offset: 0,
        limit: PICKER_LIMIT,
        sort: vec![(SortField::Name, SortDirection::Ascending)],
    }
}

/// `?page=` and `?done=` (which action just succeeded, for its flash message).
#[derive(serde::Deserialize)]
struct PageParams {
    page: Option<String>,
    done: Option<String>,
}

/// A page of a list shown newest first, as `?page=` asks (bad or missing: the first), with the
/// query for its rows and `?done=`.
pub struct NewestFirst {
    pub page: u64,
    pub query: ListQuery,
    pub done: Option<String>,
}

impl NewestFirst {
    /// Whether the action that led here was `action` (for its flash message).
    pub fn done(&self, action: &str) -> bool {
        self.done.as_deref() == Some(action)
    }

    /// The list's pager, below its `total` rows.
    pub fn pager(&self, path: &str, total: u64) -> Markup {
        pager(path, &[], self.page, total)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for NewestFirst {
    type Rejection = QueryRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, QueryRejection> {
        let Query(params) = Query::<PageParams>::from_request_parts(parts, state).await?;
        let page = page_number(params.page.as_deref());
        Ok(Self {
            page,
            query: newest_first(page, PER_PAGE),
            done: params.done,
        })
    }
}

/// `?done=` alone, on a record's page: which action just succeeded there, for its flash message.
#[derive(serde::Deserialize)]
pub struct DoneParams {
    done: Option<String>,
}

impl DoneParams {
    /// Whether the action that led here was `action`.
    pub fn done(&self, action: &str) -> bool {
        self.done.as_deref() == Some(action)
    }
}

/// The 1-based page a `?page=` asks for (bad or missing: 1).
/// `?done=…`: what a form just did, for the flash of the page it leads back to.
#[derive(serde::Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

pub fn page_number(raw: Option<&str>) -> u64 {
    raw.and_then(|raw| raw.parse::<u64>().ok())
        .filter(|page| (1..=1_000_000).contains(page))
        .unwrap_or(1)
}

/// A form's part whose choices (`what`, e.g. "webhooks") could not be offered — the session
/// lacks `needed`, or reading them failed with `error` — so the form sends no field for it and
/// saving leaves `kept` (e.g. "the linked webhooks as they are") unchanged. `id` names the part.
pub fn choices_not_offered(
    id: &str,
    what: &str,
    needed: Scope,
    kept: &str,
    error: Option<&super::error::PageError>,
) -> Markup {
    html! {
        @match error {
            None => p.hint id=(id) {
                "This session can't read " (what) " (that needs " code { (needed) } "), so the form leaves " (kept) "."
            },
            Some(error) => div.error id=(id) role="alert" {
                p { "The " (what) " could not be listed: " (error.summary()) " The form leaves " (kept) "." }
            },
        }
    }
}

/// Text for a secret shown once: the value, a copy button, the warning.
pub fn one_time_secret(label: &str, value: &str, warning: &str) -> Markup {
    html! {
        div.secret {
            p { strong { (label) } }
            p.secret-value {
                code #new-secret { (value) }
                button.copy type="button" data-copy="#new-secret" { "Copy" }
            }
            p.warning role="alert" { (warning) }
        }
    }
}
