//! Account: the account's name and settings (`GET/PATCH /v1/account` in the console) — how long
//! deliveries are kept and what a SCIM PATCH answers — read with `account:read`, changed by
//! account administrators (`account:write`). The provisioning credential has its own page.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::error::{PageError, PageResult};
use super::form::{Fields, Submitted};
use super::layout::{self, Done, Section, csrf, when};
use super::session::Session;
use crate::auth::{Resource, Scope};
use crate::domain::{Account, RetentionDays, ScimPatchResponse};
use crate::http::AppState;
use crate::service::{AccountChanges, ServiceError};

const PATH: &str = "/console/account";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(save))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<Done>,
) -> PageResult<Response> {
    let account = state.services.own_account(&session.principal).await?;
    let flash = (params.done.as_deref() == Some("saved")).then_some("Account saved.");
    Ok(page(&session, &account, &Fields::default(), None, flash).into_response())
}

fn page(
    session: &Session,
    account: &Account,
    form: &Fields,
    error: Option<&PageError>,
    flash: Option<&str>,
) -> Markup {
    let may_change = session
        .principal
        .require(Scope::write(Resource::Account))
        .is_ok();
    let edited = error.is_some();
    let name = if edited {
        form.text("name")
    } else {
        account.name.clone()
    };
    let retention = if edited {
        form.text("delivery_retention_days")
    } else {
        account.delivery_retention_days.days().to_string()
    };
    let patch_response = if edited {
        form.text("scim_patch_response")
    } else {
        account.scim_patch_response.as_str().to_owned()
    };
    let content = html! {
        h1 { "Account" }
        dl.card #account {
            dt { "Id" } dd { code { (account.id.as_str()) } " (the " code { "X-Gatehouse-Account" } " header)" }
            dt { "Name" } dd { (account.name) }
            dt { "Deliveries kept" } dd { (account.delivery_retention_days.days()) " days" }
            dt { "A SCIM PATCH answers" } dd { (patch_response_label(account.scim_patch_response)) }
            dt { "Created" } dd { (when(account.created_at)) }
        }
        p { "The identity provider's secret: " a href="/console/scim-token" { "SCIM provisioning credential" } "." }
        @if may_change {
            section aria-labelledby="edit-account" {
                h2 #edit-account { "Settings" }
                @if let Some(error) = error {
                    div.error role="alert" { p { (error.summary()) } }
                }
                form method="post" action=(PATH) {
                    (csrf(session))
                    label for="account-name" { "Name" }
                    input #account-name type="text" name="name" required maxlength="120" value=(name);
                    label for="retention-days" { "Keep finished deliveries for (days)" }
                    input #retention-days type="number" name="delivery_retention_days" required
                        min=(RetentionDays::MIN) max=(RetentionDays::MAX) value=(retention)
                        aria-describedby="retention-hint";
                    p.hint #retention-hint {
                        "1 to 3,650. Succeeded and failed deliveries older than this go with their attempts, events none of whose deliveries are left, and notices; pending deliveries stay until they finish. A shorter period takes effect at the server's next purge (within ten minutes)."
                    }
                    fieldset {
                        legend { "A successful SCIM PATCH answers" }
                        @for choice in [ScimPatchResponse::Resource, ScimPatchResponse::NoContent] {
                            @let id = format!("patch-{}", choice.as_str());
                            label.inline for=(id) {
                                input #(id) type="radio" name="scim_patch_response" value=(choice.as_str())
                                    checked[patch_response == choice.as_str()];
                                (patch_response_label(choice))
                            }
                        }
                    }
                    div.actions { button type="submit" { "Save account" } }
                }
            }
        }
    };
    layout::page("Account", session, Section::Account, flash, content)
}

fn patch_response_label(choice: ScimPatchResponse) -> &'static str {
    match choice {
        ScimPatchResponse::Resource => "200 with the resource (RFC 7644's default)",
        ScimPatchResponse::NoContent => "204 No Content (what Entra ID's guide prefers)",
    }
}

async fn save(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let changes = account_changes(&fields);
    let saved = match changes {
        Ok(changes) => state
            .services
            .update_own_account(&session.principal, changes)
            .await
            .map_err(PageError::from),
        Err(problem) => Err(PageError::from(ServiceError::invalid(vec![problem]))),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/console/account?done=saved").into_response()),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let account = session.account(&state).await?;
            Ok((
                error.status,
                page(&session, &account, &fields, Some(&error), None),
            )
                .into_response())
        }
        Err(error) => Err(error),
    }
}

fn account_changes(fields: &Fields) -> Result<AccountChanges, String> {
    let retention = fields.text("delivery_retention_days");
    let delivery_retention_days = retention.trim().parse::<i64>().map_err(|_| {
        format!(
            "delivery_retention_days must be a whole number of days from {} to {}, not \
             {retention:?}",
            RetentionDays::MIN,
            RetentionDays::MAX
        )
    })?;
    let scim_patch_response = match fields.get("scim_patch_response") {
        None => None,
        Some(raw) => Some(ScimPatchResponse::parse(raw).ok_or_else(|| {
            format!("scim_patch_response must be resource or no_content, not {raw:?}")
        })?),
    };
    Ok(AccountChanges {
        name: Some(fields.text("name")),
        scim_patch_response,
        delivery_retention_days: Some(delivery_retention_days),
    })
}
