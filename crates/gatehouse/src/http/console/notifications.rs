//! Exception and disabled notices about the account's webhooks, as administrators would have
//! been mailed them: kept whether or not SMTP is configured, so without a mail server this page
//! is where they are read.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

use super::error::PageResult;
use super::layout::NewestFirst;
use super::layout::{self, Section, badge, table_wrap, when};
use super::session::Session;
use crate::domain::{
    CONSECUTIVE_FAILURES_BEFORE_DISABLE, EXCEPTION_NOTIFICATION_INTERVAL_MINUTES, NotificationKind,
};
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/notifications", get(list))
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    list: NewestFirst,
) -> PageResult<Response> {
    let account = session.account(&state).await?;
    let listing = state
        .services
        .webhook_notifications(&account, Some(&session.principal), &list.query)
        .await?;
    let content = html! {
        h1 { "Notifications" }
        p {
            "When a webhook call fails, an exception notice goes to the webhook's \u{201c}Mail exceptions to\u{201d} addresses (or every account administrator), "
            "at most one per webhook per " (EXCEPTION_NOTIFICATION_INTERVAL_MINUTES) " minutes; after " (CONSECUTIVE_FAILURES_BEFORE_DISABLE) " consecutive failures the webhook is disabled and a separate notice says so. "
            "Every notice is kept here, mailed or not (mail needs " code { "--smtp-url" } ")."
        }
        @if listing.items.is_empty() {
            p.muted { "No notifications." }
        } @else {
            (table_wrap(html! {
                table #notifications {
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Kind" } th scope="col" { "Subject" }
                        th scope="col" { "To" } th scope="col" { "Mailed" } th scope="col" { "Links" }
                    } }
                    tbody {
                        @for notice in &listing.items {
                            tr {
                                td { (when(notice.created_at)) }
                                td { @match notice.kind { NotificationKind::Exception => (badge("exception", "warn")), NotificationKind::Disabled => (badge("disabled", "bad")) } }
                                td.wrap {
                                    details {
                                        summary { (notice.subject) }
                                        pre { (notice.body) }
                                    }
                                }
                                td.wrap { (notice.recipients.join(", ")) }
                                td {
                                    @match (notice.sent_at, &notice.send_error) {
                                        (Some(at), _) => (when(at)),
                                        (None, Some(error)) => span.muted { "failed: " (error) },
                                        (None, None) => span.muted { "not mailed" },
                                    }
                                }
                                td {
                                    a href={ "/console/webhooks/" (notice.webhook_id) } { "Webhook" }
                                    @if let Some(delivery) = notice.delivery_id { " · " a href={ "/console/deliveries/" (delivery) } { "Delivery" } }
                                }
                            }
                        }
                    }
                }
            }))
            (list.pager("/console/notifications", listing.total))
        }
    };
    Ok(layout::page(
        "Notifications",
        &session,
        Section::Notifications,
        None,
        content,
    )
    .into_response())
}
