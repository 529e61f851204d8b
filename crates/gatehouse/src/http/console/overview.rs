//! Overview: the start page for administrators — are the account's integrations healthy? Charts
//! of deliveries per hour and per day by outcome, attempt latency, the queue, the webhooks in
//! trouble with their last error, the SCIM provisioning credential's last use and SCIM changes
//! per day. Every chart is SVG drawn here (`charts.rs`) with its numbers as a table.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::charts::{Bar, Series, stacked_bars};
use super::error::PageResult;
use super::layout::{self, Section, table_wrap, when, when_or};
use super::session::Session;
use super::webhooks::state_badge;
use crate::domain::AttemptCounts;
use crate::http::AppState;
use crate::service::{OVERVIEW_DAYS, OVERVIEW_HOURS, Period, WebhookView};

pub const PATH: &str = "/console/overview";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show))
}

/// The three outcomes an attempt has, in stacking order.
pub const OUTCOMES: [Series; 3] = [
    Series {
        name: "succeeded",
        class: "succeeded",
    },
    Series {
        name: "retrying",
        class: "retrying",
    },
    Series {
        name: "failed",
        class: "failed",
    },
];

/// A chart of attempts by outcome, a bar per period, labelled by `label`.
pub fn outcomes_chart(
    id: &str,
    title: &str,
    periods: &[Period],
    label: impl Fn(DateTime<Utc>) -> String,
) -> Markup {
    let totals = periods
        .iter()
        .fold(AttemptCounts::default(), |mut sum, period| {
            sum.add(&period.counts);
            sum
        });
    let description = format!(
        "{} attempts in all: {} succeeded, {} failed and will be retried, {} failed for good.",
        totals.total(),
        totals.succeeded,
        totals.retrying,
        totals.failed
    );
    let bars: Vec<Bar> = periods
        .iter()
        .map(|period| Bar {
            label: label(period.start),
            values: vec![
                period.counts.succeeded,
                period.counts.retrying,
                period.counts.failed,
            ],
        })
        .collect();
    stacked_bars(id, title, &description, &OUTCOMES, &bars)
}

/// "p50 ≤ 10 ms" from a histogram's bucket bound, or a dash without attempts.
pub fn percentile_text(counts: &AttemptCounts, percent: u64) -> String {
    if counts.total() == 0 {
        return "–".to_owned();
    }
    match counts.latency_percentile_ms(percent) {
        Some(bound) => format!("≤ {bound} ms"),
        None => "> 10 s".to_owned(),
    }
}

async fn show(State(state): State<AppState>, session: Session) -> PageResult<Response> {
    let overview = state.services.overview(&session.principal).await?;
    let now = state.services.clock.now();
    let content = html! {
        h1 { "Overview" }
        div.figures #figures {
            div { span.muted { "Attempts, 24 h" } span.figure #attempts-24h { (overview.last_day.total()) } }
            div { span.muted { "Failed for good, 24 h" } span.figure #failed-24h { (overview.last_day.failed) } }
            div { span.muted { "Latency p50" } span.figure #latency-p50 { (percentile_text(&overview.last_day, 50)) } }
            div { span.muted { "Latency p95" } span.figure #latency-p95 { (percentile_text(&overview.last_day, 95)) } }
            div { span.muted { "Queue" } span.figure #queue-depth { (overview.queue.pending) } span.muted { (overview.queue.due) " due" } }
            div { span.muted { "Oldest due" } span.figure #oldest-due {
                @match overview.queue.oldest_due_at {
                    Some(at) => (age(now, at)),
                    None => "–",
                }
            } }
        }
        section aria-labelledby="deliveries-heading" {
            h2 #deliveries-heading { "Deliveries" }
            p.hint { "Attempts by outcome. Retrying: failed, to be tried again; failed: the last attempt failed. Latency percentiles are the upper bounds of duration buckets (10, 25, 50, 100, 250 ms, …)." }
            (outcomes_chart(
                "chart-hourly",
                &format!("Attempts per hour, last {OVERVIEW_HOURS} hours (UTC)"),
                &overview.hourly,
                |start| start.format("%H:00").to_string(),
            ))
            (outcomes_chart(
                "chart-daily",
                &format!("Attempts per day, last {OVERVIEW_DAYS} days (UTC)"),
                &overview.daily,
                |start| start.format("%m-%d").to_string(),
            ))
        }
        section aria-labelledby="troubled-heading" {
            h2 #troubled-heading { "Webhooks in trouble" }
            @if overview.troubled.is_empty() {
                p #no-troubled { "No webhook is failing or disabled." }
            } @else {
                (table_wrap(html! {
                    table #troubled-webhooks {
                        thead { tr {
                            th scope="col" { "Webhook" } th scope="col" { "State" }
                            th scope="col" { "Failures in a row" } th scope="col" { "Last error" }
                        } }
                        tbody {
                            @for troubled in &overview.troubled {
                                @let view = WebhookView::new(&troubled.webhook);
                                tr {
                                    td.wrap { a href={ "/console/webhooks/" (troubled.webhook.id.0) } { (troubled.webhook.name) } }
                                    td { (state_badge(view.state)) }
                                    td { (troubled.webhook.consecutive_failures) }
                                    td.wrap {
                                        @match &troubled.last_delivery {
                                            Some(delivery) => {
                                                a href={ "/console/deliveries/" (delivery.id.0) } {
                                                    @match (&delivery.error, delivery.response_status) {
                                                        (Some(error), _) => (error),
                                                        (None, Some(status)) => { "HTTP " (status) },
                                                        (None, None) => "no answer",
                                                    }
                                                }
                                                " " span.muted { (when(delivery.updated_at)) }
                                            }
                                            None => span.muted { "no delivery yet" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
        section aria-labelledby="scim-heading" {
            h2 #scim-heading { "SCIM provisioning" }
            p #credential-use {
                @match &overview.credential {
                    Some(credential) => {
                        "The provisioning credential was last used "
                        (when_or(credential.current.last_used_at, "never"))
                        @if let Some(previous) = &credential.previous {
                            "; its previous secret, " (when_or(previous.last_used_at, "never"))
                        }
                        ". " a href="/console/scim-token" { "Manage it" }
                    }
                    None => {
                        "The account has no provisioning credential. " a href="/console/scim-token" { "Create one" }
                    }
                }
            }
            (stacked_bars(
                "chart-scim",
                &format!("SCIM Users changed per day, last {OVERVIEW_DAYS} days (UTC)"),
                &{
                    let (created, updated, deactivated) = overview.scim_changes.iter().fold((0, 0, 0), |sum, day| {
                        (sum.0 + day.created, sum.1 + day.updated, sum.2 + day.deactivated)
                    });
                    format!("{created} created, {updated} updated, {deactivated} deactivated.")
                },
                &[
                    Series { name: "created", class: "created" },
                    Series { name: "updated", class: "updated" },
                    Series { name: "deactivated", class: "deactivated" },
                ],
                &overview
                    .scim_changes
                    .iter()
                    .map(|day| Bar {
                        label: day.day.format("%m-%d").to_string(),
                        values: vec![day.created, day.updated, day.deactivated],
                    })
                    .collect::<Vec<_>>(),
            ))
        }
    };
    Ok(layout::page("Overview", &session, Section::Overview, None, content).into_response())
}

/// How long ago `at` was: "3 s", "4 min", "2 h", "5 d".
fn age(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..86_400 => format!("{} h", seconds / 3_600),
        _ => format!("{} d", seconds / 86_400),
    }
}
