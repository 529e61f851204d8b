//! Settings → SCIM users and SCIM groups: what the identity provider provisioned, searchable
//! and paginated, read-only. Only the provisioning client changes these records.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::error::{PageResult, parse_id};
use super::layout::{
    self, PER_PAGE, Section, badge, page_number, pager, pretty_json, table_wrap, when,
};
use super::session::Session;
use crate::domain::{MemberType, ScimUserRecord};
use crate::http::AppState;
use crate::service::scim::BrowseQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/scim/users", get(users))
        .route("/console/scim/users/{id}", get(user))
        .route("/console/scim/groups", get(groups))
        .route("/console/scim/groups/{id}", get(group))
}

fn banner() -> Markup {
    html! {
        div.banner role="note" {
            "These records belong to your identity provider: its provisioning client creates, changes and removes them through SCIM. "
            "They are read-only here; change them in the identity provider."
        }
    }
}

#[derive(Deserialize)]
struct ListParams {
    search: Option<String>,
    page: Option<String>,
}

pub(super) fn search_form(path: &str, label: &str, search: &str) -> Markup {
    html! {
        form.filters role="search" method="get" action=(path)
            hx-get=(path) hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true"
            hx-trigger="input changed delay:300ms from:#search, submit" {
            div {
                label for="search" { "Search" }
                input #search type="search" name="search" value=(search) aria-describedby="search-hint";
                p.hint #search-hint { (label) }
            }
            div { button type="submit" { "Search" } }
        }
    }
}

fn browse_query(params: &ListParams) -> (BrowseQuery, u64) {
    let page = page_number(params.page.as_deref());
    (
        BrowseQuery {
            search: params.search.clone(),
            offset: (page - 1) * u64::from(PER_PAGE),
            limit: PER_PAGE,
            ..BrowseQuery::default()
        },
        page,
    )
}

/// The first (or primary) value of a multi-valued attribute such as `emails`.
fn primary_value(resource: &serde_json::Value, attribute: &str) -> Option<String> {
    let values = resource.get(attribute)?.as_array()?;
    let chosen = values
        .iter()
        .find(|value| value.get("primary").and_then(serde_json::Value::as_bool) == Some(true))
        .or_else(|| values.first())?;
    chosen.get("value")?.as_str().map(str::to_owned)
}

fn active_badge(active: bool) -> Markup {
    if active {
        badge("active", "good")
    } else {
        badge("inactive", "neutral")
    }
}

/// What differs between the lists of SCIM users and of SCIM groups, around their tables.
struct Browse {
    section: Section,
    path: &'static str,
    /// "SCIM users", the page's title; "SCIM user", one of them.
    plural: &'static str,
    singular: &'static str,
    search_hint: &'static str,
}

const USERS: Browse = Browse {
    section: Section::ScimUsers,
    path: "/console/scim/users",
    plural: "SCIM users",
    singular: "SCIM user",
    search_hint: "Looks in user name, display name, family name and emails.",
};

const GROUPS: Browse = Browse {
    section: Section::ScimGroups,
    path: "/console/scim/groups",
    plural: "SCIM groups",
    singular: "SCIM group",
    search_hint: "Looks in display name and external id.",
};

impl Browse {
    /// The list page: the search form, then the results — `table`, or why there is none — with
    /// their pager, which htmx swaps in place as one types.
    fn page(
        &self,
        session: &Session,
        params: &ListParams,
        page: u64,
        total: u64,
        table: Option<Markup>,
    ) -> Response {
        let search = params.search.clone().unwrap_or_default();
        let content = html! {
            h1 { (self.plural) }
            (banner())
            (search_form(self.path, self.search_hint, &search))
            div #results {
                @match table {
                    Some(table) => (table_wrap(table)),
                    None => p.muted { @if search.is_empty() { "No " (self.plural) " have been provisioned yet." } @else { "No " (self.singular) " matches \u{201c}" (search) "\u{201d}." } },
                }
                (pager(self.path, &[("search", search.clone())], page, total))
            }
        };
        layout::page(self.plural, session, self.section, None, content).into_response()
    }
}

async fn users(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let (query, page) = browse_query(&params);
    let listing = state
        .services
        .browse_scim_users(&session.principal, &query)
        .await?;
    let table = (!listing.items.is_empty()).then(|| {
        html! {
            table #scim-users {
                thead { tr {
                    th scope="col" { "User name" } th scope="col" { "Display name" } th scope="col" { "Email" }
                    th scope="col" { "Status" } th scope="col" { "External id" } th scope="col" { "Updated" }
                } }
                tbody {
                    @for user in &listing.items {
                        tr {
                            td.wrap { a href={ "/console/scim/users/" (user.id.0) } { (user.user_name) } }
                            td.wrap { (user.display_name.as_deref().unwrap_or("")) }
                            td.wrap { (primary_value(&user.resource, "emails").unwrap_or_default()) }
                            td { (active_badge(user.active)) }
                            td.wrap { (user.external_id.as_deref().unwrap_or("")) }
                            td { (when(user.updated_at)) }
                        }
                    }
                }
            }
        }
    });
    Ok(USERS.page(&session, &params, page, listing.total, table))
}

/// The values of a multi-valued attribute, one line each: `value (type, primary)`.
fn multi_values(resource: &serde_json::Value, attribute: &str) -> Vec<String> {
    resource
        .get(attribute)
        .and_then(serde_json::Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|value| {
                    let text = value.get("value")?.as_str()?;
                    let mut notes = Vec::new();
                    if let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) {
                        notes.push(kind.to_owned());
                    }
                    if value.get("primary").and_then(serde_json::Value::as_bool) == Some(true) {
                        notes.push("primary".to_owned());
                    }
                    Some(if notes.is_empty() {
                        text.to_owned()
                    } else {
                        format!("{text} ({})", notes.join(", "))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn optional(value: Option<&str>) -> Markup {
    match value {
        Some(value) if !value.is_empty() => html! { (value) },
        _ => html! { span.muted { "—" } },
    }
}

fn user_fields(user: &ScimUserRecord) -> Markup {
    let enterprise = user
        .resource
        .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    let text = |path: &[&str]| -> Option<String> {
        let mut value = &user.resource;
        for key in path {
            value = value.get(key)?;
        }
        value.as_str().map(str::to_owned)
    };
    let enterprise_text = |key: &str| {
        enterprise
            .and_then(|e| e.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    html! {
        dl.card {
            dt { "id" } dd { code { (user.id.0) } }
            dt { "userName" } dd { (user.user_name) }
            dt { "externalId" } dd { (optional(user.external_id.as_deref())) }
            dt { "active" } dd { (active_badge(user.active)) }
            dt { "displayName" } dd { (optional(user.display_name.as_deref())) }
            dt { "name.formatted" } dd { (optional(text(&["name", "formatted"]).as_deref())) }
            dt { "name.givenName" } dd { (optional(user.given_name.as_deref())) }
            dt { "name.familyName" } dd { (optional(user.family_name.as_deref())) }
            dt { "nickName" } dd { (optional(text(&["nickName"]).as_deref())) }
            dt { "title" } dd { (optional(user.title.as_deref())) }
            dt { "userType" } dd { (optional(user.user_type.as_deref())) }
            dt { "preferredLanguage" } dd { (optional(text(&["preferredLanguage"]).as_deref())) }
            dt { "locale" } dd { (optional(text(&["locale"]).as_deref())) }
            dt { "timezone" } dd { (optional(text(&["timezone"]).as_deref())) }
            @for attribute in ["emails", "phoneNumbers", "addresses", "ims", "photos", "entitlements", "roles", "x509Certificates"] {
                @let values = multi_values(&user.resource, attribute);
                @if !values.is_empty() || attribute == "emails" || attribute == "phoneNumbers" {
                    dt { (attribute) }
                    dd { @if values.is_empty() { span.muted { "—" } } @else { @for value in values { (value) br; } } }
                }
            }
            dt { "employeeNumber" } dd { (optional(user.employee_number.as_deref())) }
            dt { "organization" } dd { (optional(user.organization.as_deref())) }
            dt { "department" } dd { (optional(user.department.as_deref())) }
            dt { "division" } dd { (optional(enterprise_text("division").as_deref())) }
            dt { "costCenter" } dd { (optional(enterprise_text("costCenter").as_deref())) }
            dt { "manager" } dd {
                @match user.manager_id {
                    Some(manager) => a href={ "/console/scim/users/" (manager.0) } { (manager.0) },
                    None => span.muted { "—" },
                }
            }
            dt { "Created" } dd { (when(user.created_at)) }
            dt { "Last changed" } dd { (when(user.updated_at)) " (version " (user.version) ")" }
        }
    }
}

async fn user(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult<Response> {
    parse_id(&id, "SCIM user")?;
    let user = state
        .services
        .browse_scim_user(&session.principal, &id)
        .await?;
    let resource = serde_json::to_string_pretty(&user.resource).unwrap_or_default();
    let content = html! {
        p { a href="/console/scim/users" { "← SCIM users" } }
        h1 { (user.user_name) }
        (banner())
        (user_fields(&user))
        h2 { "As the provisioning client sent it" }
        p.hint { "The stored SCIM resource (core schema and enterprise extension), without password." }
        pre #scim-resource { (resource) }
    };
    Ok(layout::page(&user.user_name, &session, Section::ScimUsers, None, content).into_response())
}

async fn groups(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let (query, page) = browse_query(&params);
    let listing = state
        .services
        .browse_scim_groups(&session.principal, &query)
        .await?;
    let table = (!listing.items.is_empty()).then(|| {
        html! {
            table #scim-groups {
                thead { tr {
                    th scope="col" { "Display name" } th scope="col" { "Group type" } th scope="col" { "Members" }
                    th scope="col" { "External id" } th scope="col" { "Updated" }
                } }
                tbody {
                    @for summary in &listing.items {
                        tr {
                            td.wrap { a href={ "/console/scim/groups/" (summary.group.id.0) } { (summary.group.display_name) } }
                            td { (summary.group.group_type) }
                            td { (summary.member_count) }
                            td.wrap { (summary.group.external_id.as_deref().unwrap_or("")) }
                            td { (when(summary.group.updated_at)) }
                        }
                    }
                }
            }
        }
    });
    Ok(GROUPS.page(&session, &params, page, listing.total, table))
}

#[derive(Deserialize)]
struct MemberParams {
    page: Option<String>,
}

async fn group(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<MemberParams>,
) -> PageResult<Response> {
    parse_id(&id, "SCIM group")?;
    let summary = state
        .services
        .browse_scim_group(&session.principal, &id)
        .await?;
    let page = page_number(params.page.as_deref());
    let members = state
        .services
        .browse_scim_group_members(
            &session.principal,
            &id,
            (page - 1) * u64::from(PER_PAGE),
            PER_PAGE,
        )
        .await?;
    let group = &summary.group;
    let path = format!("/console/scim/groups/{}", group.id.0);
    let content = html! {
        p { a href="/console/scim/groups" { "← SCIM groups" } }
        h1 { (group.display_name) }
        (banner())
        dl.card {
            dt { "id" } dd { code { (group.id.0) } }
            dt { "displayName" } dd { (group.display_name) }
            dt { "groupType" } dd { (group.group_type) }
            dt { "externalId" } dd { (optional(group.external_id.as_deref())) }
            dt { "Members" } dd { (summary.member_count) }
            dt { "Created" } dd { (when(group.created_at)) }
            dt { "Last changed" } dd { (when(group.updated_at)) " (version " (group.version) ")" }
        }
        h2 { "Members" }
        @if members.items.is_empty() {
            p.muted { "This group has no members." }
        } @else {
            (table_wrap(html! {
                table #group-members {
                    thead { tr { th scope="col" { "Member" } th scope="col" { "Type" } th scope="col" { "id" } } }
                    tbody {
                        @for member in &members.items {
                            @let (href, kind) = match member.member_type {
                                MemberType::User => (format!("/console/scim/users/{}", member.id), "User"),
                                MemberType::Group => (format!("/console/scim/groups/{}", member.id), "Group"),
                            };
                            tr {
                                td.wrap { a href=(href) { (member.display.clone().unwrap_or_else(|| member.id.to_string())) } }
                                td { (kind) }
                                td { code { (member.id) } }
                            }
                        }
                    }
                }
            }))
            (pager(&path, &[], page, members.total))
        }
        h2 { "As the provisioning client sent it" }
        pre #scim-resource { (pretty_json(&group.resource.to_string())) }
    };
    Ok(layout::page(
        &group.display_name,
        &session,
        Section::ScimGroups,
        None,
        content,
    )
    .into_response())
}
