//! Settings → Webhook deliveries: every message the account's webhooks sent or will send,
//! filtered by webhook, event, status and time; one delivery with its request (headers, body,
//! the claims of a signed one), every attempt's response, and Redeliver.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageResult, if_allowed, parse_id};
use super::form::Submitted;
use super::layout::{
    self, DoneParams, PER_PAGE, Section, badge, csrf, pretty_json, table_wrap, when, when_or,
};
use super::session::Session;
use super::webhooks::webhook_choices;
use crate::domain::{
    Delivery, DeliveryAttempt, DeliveryId, DeliveryStatus, VERIFY_EVENT, Webhook, WebhookId,
};
use crate::http::AppState;
use crate::http::delivery_filter::{DeliveryFilterParams, Sender};
use crate::service::DeliveryView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/deliveries", get(list))
        .route("/console/deliveries/{id}", get(detail))
        .route("/console/deliveries/{id}/redeliver", post(redeliver))
}

/// Marks a delivery a test send made (Xurrent's "Test mode").
fn test_badge() -> Markup {
    badge("test", "neutral")
}

pub fn status_badge(status: DeliveryStatus) -> Markup {
    match status {
        DeliveryStatus::Pending => badge("pending", "warn"),
        DeliveryStatus::Succeeded => badge("succeeded", "good"),
        DeliveryStatus::Failed => badge("failed", "bad"),
    }
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(flatten)]
    filter: DeliveryFilterParams,
    /// Where an "Older" link continues: `<created_at in µs>.<id>` of the last row shown.
    before: Option<String>,
}

/// Matching deliveries are counted up to here; beyond, the page says "more than 10000".
const COUNT_UP_TO: u64 = 10_000;

/// The page after `delivery`: deliveries are listed by id, which sorts as `created_at` does.
fn cursor(delivery: &Delivery) -> String {
    delivery.id.0.to_string()
}

fn parse_cursor(raw: Option<&str>) -> Result<Option<DeliveryId>, String> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    let invalid = || "That page link is malformed; start again from the newest.".to_owned();
    // Links made before schema 23 read `{created_at in µs}.{id}`: the id alone places the page.
    let id = match raw.split_once('.') {
        Some((micros, id)) if micros.parse::<i64>().is_ok() => id,
        Some(_) => return Err(invalid()),
        None => raw,
    };
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok(Some(DeliveryId(id)))
}

fn filters(params: &DeliveryFilterParams, webhooks: &[Webhook]) -> Markup {
    let chosen = params.webhook_id.as_deref().unwrap_or("");
    let status = params.status.as_deref().unwrap_or("");
    let test_mode = params.test_mode.as_deref().unwrap_or("");
    html! {
        form.filters.card method="get" action="/console/deliveries"
            hx-get="/console/deliveries" hx-target="#results" hx-select="#results" hx-swap="outerHTML" hx-push-url="true"
            hx-trigger="change, submit" {
            div {
                label for="filter-webhook" { "Webhook" }
                select #filter-webhook name="webhook_id" {
                    option value="" { "Any webhook" }
                    @for webhook in webhooks {
                        @let id = webhook.id.0.to_string();
                        option value=(id) selected[chosen == id] { (webhook.name) }
                    }
                }
            }
            div {
                label for="filter-event" { "Event" }
                input #filter-event type="text" name="event" value=(params.event.as_deref().unwrap_or("")) placeholder="e.g. scim_user.create";
            }
            div {
                label for="filter-status" { "Status" }
                select #filter-status name="status" {
                    option value="" { "Any status" }
                    @for option in ["pending", "succeeded", "failed"] {
                        option value=(option) selected[status == option] { (option) }
                    }
                }
            }
            div {
                label for="filter-test-mode" { "Test sends" }
                select #filter-test-mode name="test_mode" {
                    option value="" { "With test sends" }
                    option value="true" selected[test_mode == "true"] { "Test sends only" }
                    option value="false" selected[test_mode == "false"] { "Without test sends" }
                }
            }
            div {
                label for="filter-after" { "Created after (UTC)" }
                input #filter-after type="datetime-local" name="created_after" value=(params.created_after.as_deref().unwrap_or(""));
            }
            div {
                label for="filter-before" { "Created before (UTC)" }
                input #filter-before type="datetime-local" name="created_before" value=(params.created_before.as_deref().unwrap_or(""));
            }
            div { button type="submit" { "Filter" } }
        }
    }
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let account = session.account(&state).await?;
    // Without webhooks:read the filter offers no webhook and the list shows their ids.
    let webhooks = webhook_choices(&state, &session, &account)
        .await?
        .unwrap_or_default();
    let wanted = params
        .filter
        .parse(Sender::Form)
        .and_then(|filter| Ok((filter, parse_cursor(params.before.as_deref())?)));
    let results = match wanted {
        Err(problem) => html! { div #results { div.error role="alert" { p { (problem) } } } },
        Ok((filter, before)) => {
            let (mut page, total) = state
                .services
                .delivery_page(
                    &account,
                    Some(&session.principal),
                    &filter,
                    before,
                    PER_PAGE + 1,
                    COUNT_UP_TO + 1,
                )
                .await?;
            let older = page.len() > PER_PAGE as usize;
            page.truncate(PER_PAGE as usize);
            results(&page, &webhooks, &params, older, total)
        }
    };
    let content = html! {
        h1 { "Webhook deliveries" }
        p { "Every message a webhook sent or will send, newest first, with what the receiver answered. Open one to see the request, every attempt, and to redeliver it." }
        (filters(&params.filter, &webhooks))
        (results)
    };
    Ok(layout::page(
        "Webhook deliveries",
        &session,
        Section::Deliveries,
        None,
        content,
    )
    .into_response())
}

fn results(
    deliveries: &[Delivery],
    webhooks: &[Webhook],
    params: &ListParams,
    older: bool,
    total: u64,
) -> Markup {
    let name_of = |id: WebhookId| {
        webhooks
            .iter()
            .find(|webhook| webhook.id == id)
            .map_or_else(|| id.0.to_string(), |webhook| webhook.name.clone())
    };
    let link = |before: Option<String>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in params.filter.pairs() {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        if let Some(before) = before {
            query.append_pair("before", &before);
        }
        format!("/console/deliveries?{}", query.finish())
    };
    let total_text = if total > COUNT_UP_TO {
        format!("more than {COUNT_UP_TO}")
    } else {
        total.to_string()
    };
    // The newest page refreshes itself every 5 s (htmx), so a delivery is seen to appear and
    // succeed; older pages stay still.
    let newest = params.before.as_deref().is_none_or(str::is_empty);
    let refresh = newest.then(|| link(None));
    html! {
        div #results hx-get=[refresh.as_deref()] hx-trigger=[newest.then_some("every 5s")]
            hx-select="#results" hx-swap="outerHTML" {
            @if deliveries.is_empty() {
                p.muted { "No deliveries match." }
            } @else {
                (table_wrap(html! {
                    table #deliveries {
                        thead { tr {
                            th scope="col" { "Created" } th scope="col" { "Event" } th scope="col" { "Webhook" }
                            th scope="col" { "Status" } th scope="col" { "Attempt" } th scope="col" { "Response" } th scope="col" { "Took" }
                        } }
                        tbody {
                            @for delivery in deliveries {
                                tr {
                                    td { a href={ "/console/deliveries/" (delivery.id.0) } aria-label={ "Delivery " (delivery.event) " of " (delivery.created_at.format("%Y-%m-%d %H:%M:%S")) } { (when(delivery.created_at)) } }
                                    td { code { (delivery.event) } }
                                    td.wrap { (name_of(delivery.webhook_id)) }
                                    td {
                                        (status_badge(delivery.status))
                                        @if delivery.test_mode { " " (test_badge()) }
                                        @if let Some(waiting) = delivery.waiting_on { br; span.muted { (waiting.explanation()) } }
                                    }
                                    td { (delivery.attempt) }
                                    td { @match delivery.response_status { Some(status) => (status), None => span.muted { (delivery.error.as_deref().map_or("—", |_| "no response")) } } }
                                    td { @if let Some(ms) = delivery.duration_ms { (ms) " ms" } }
                                }
                            }
                        }
                    }
                }))
            }
            nav.pager aria-label="Pages" {
                @if params.before.as_deref().is_some_and(|before| !before.is_empty()) {
                    a href=(link(None)) { "← Newest" }
                }
                span { (deliveries.len()) " shown · " (total_text) " match" }
                @if older {
                    @if let Some(last) = deliveries.last() {
                        a rel="next" href=(link(Some(cursor(last)))) { "Older →" }
                    }
                }
            }
        }
    }
}

/// The header and claims of a compact JWS, or of `{"jwt": …}` (the xurrent format).
fn decode_jwt(body: &str) -> Option<(String, String)> {
    let compact = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            value
                .get("jwt")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.trim().to_owned());
    let mut segments = compact.split('.');
    let (header, claims, _signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let decode = |segment: &str| -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        serde_json::to_string_pretty(&value).ok()
    };
    Some((decode(header)?, decode(claims)?))
}

fn headers_table(id: &str, headers: &[(String, String)]) -> Markup {
    html! {
        @if headers.is_empty() {
            p.muted { "none" }
        } @else {
            (table_wrap(html! {
                table id=(id) {
                    thead { tr { th scope="col" { "Header" } th scope="col" { "Value" } } }
                    tbody { @for (name, value) in headers { tr { td { code { (name) } } td.wrap { code { (value) } } } } }
                }
            }))
        }
    }
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<DoneParams>,
) -> PageResult<Response> {
    let id = DeliveryId(parse_id(&id, "Webhook delivery")?);
    let account = session.account(&state).await?;
    let (delivery, attempts) = state
        .services
        .delivery(&account, Some(&session.principal), id)
        .await?;
    let webhook = if_allowed(
        state
            .services
            .webhook(&account, Some(&session.principal), delivery.webhook_id)
            .await,
    )?;
    let view = DeliveryView::new(&delivery);
    let message = view
        .payload
        .as_ref()
        .and_then(|message| serde_json::to_string_pretty(message).ok());
    let last = attempts.last();
    let flash = params
        .done("redelivered")
        .then_some("Redelivered: this is the new delivery; it is sent right away.");
    let content = html! {
        p { a href="/console/deliveries" { "← Webhook deliveries" } }
        h1 { "Delivery " code { (delivery.event) } }
        dl.card {
            dt { "Status" } dd #delivery-status {
                (status_badge(delivery.status))
                @if delivery.test_mode { " " (test_badge()) }
                @if let Some(waiting) = delivery.waiting_on { " " (waiting.explanation()) }
            }
            dt { "Webhook" } dd {
                @match &webhook {
                    Some(webhook) => a href={ "/console/webhooks/" (webhook.id.0) } { (webhook.name) },
                    None => code { (delivery.webhook_id.0) },
                }
            }
            dt { "Event" } dd { code { (delivery.event) } " (event " (delivery.event_id) ")" }
            dt { "Attempt" } dd { (delivery.attempt) " of at most 10" }
            dt { "Created" } dd { (when(delivery.created_at)) }
            dt { "Sent" } dd { (when_or(delivery.sent_at, "not yet")) }
            @if delivery.status == DeliveryStatus::Pending { dt { "Next attempt" } dd { (when_or(delivery.next_attempt_at, "when released")) } }
            dt { "Completed in" } dd { @match delivery.duration_ms { Some(ms) => { (ms) " ms" }, None => span.muted { "—" } } }
            @if let Some(error) = &delivery.error { dt { "Error" } dd { (error) } }
            @if let Some(of) = delivery.redelivery_of_id { dt { "Redelivery of" } dd { a href={ "/console/deliveries/" (of.0) } { (of.0) } } }
            @if let Some(by) = delivery.redelivered_by_id { dt { "Redelivered by" } dd { a href={ "/console/deliveries/" (by.0) } { (by.0) } } }
            @if let Some(key) = last.and_then(|attempt| attempt.signing_key_id.as_deref()) {
                dt { "Signed by" } dd {
                    @if let Some(policy) = last.and_then(|attempt| attempt.webhook_policy_id) { a href={ "/console/webhook-policies/" (policy) } { "policy" } " · " }
                    "key " code { (key) }
                }
            }
        }
        @if delivery.status != DeliveryStatus::Pending && delivery.redelivered_by_id.is_none() {
            form.actions method="post" action={ "/console/deliveries/" (delivery.id.0) "/redeliver" } {
                (csrf(&session))
                button type="submit" { "Redeliver" }
                span.hint { "Sends the message again as a new delivery, e.g. after the receiving integration was fixed." }
            }
        }
        h2 { "Message" }
        @match &message {
            Some(message) => pre #message { (message) },
            None => p.muted { "The message is no longer stored." },
        }
        h2 { "Request" }
        @match last {
            None => p.muted { "Not sent yet." },
            Some(attempt) => (request_section(&delivery, attempt, message.as_deref())),
        }
        h2 { "Attempts" }
        @if attempts.is_empty() {
            p.muted { "No attempts yet." }
        } @else {
            (table_wrap(html! {
                table #attempts {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Sent" } th scope="col" { "Response" }
                        th scope="col" { "Took" } th scope="col" { "Error" }
                    } }
                    tbody {
                        @for attempt in attempts.iter().rev() {
                            tr {
                                td { (attempt.attempt) }
                                td { (when(attempt.sent_at)) }
                                td { @match attempt.response_status { Some(status) => (status), None => span.muted { "none" } } }
                                td { (attempt.duration_ms) " ms" }
                                td.wrap { (attempt.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }))
            @for attempt in attempts.iter().rev() {
                details {
                    summary { "Attempt " (attempt.attempt) ": response headers and body" }
                    (headers_table(&format!("response-headers-{}", attempt.attempt), &attempt.response_headers))
                    @if attempt.response_body.is_empty() { p.muted { "Empty body." } } @else { pre { (pretty_json(&attempt.response_body)) } }
                }
            }
        }
    };
    Ok(layout::page(
        "Webhook delivery",
        &session,
        Section::Deliveries,
        flash,
        content,
    )
    .into_response())
}

fn request_section(
    delivery: &Delivery,
    attempt: &DeliveryAttempt,
    message: Option<&str>,
) -> Markup {
    let body = attempt.request_body.as_deref().or(message);
    let jwt = match (&attempt.request_body, delivery.event == VERIFY_EVENT) {
        (Some(body), false) => decode_jwt(body),
        _ => None,
    };
    html! {
        dl.card {
            dt { "URI" } dd { code { (attempt.request_uri) } }
            dt { "Method" } dd { "POST" }
        }
        h3 { "Headers" }
        (headers_table("request-headers", &attempt.request_headers))
        h3 { "Body" }
        @match body {
            Some(body) => pre #request-body { (pretty_json(body)) },
            None => p.muted { "Not stored." },
        }
        @if let Some((header, claims)) = jwt {
            h3 { "JWT header" }
            pre #jwt-header { (header) }
            h3 { "JWT claims" }
            p.hint { "Decoded for reading, not verified: receivers verify the signature with the policy's public key." }
            pre #jwt-claims { (claims) }
        }
        h3 { "Response" }
        dl.card {
            dt { "Status" } dd { @match attempt.response_status { Some(status) => (status), None => span.muted { "no response" } } }
            dt { "Completed in" } dd { (attempt.duration_ms) " ms" }
        }
        (headers_table("response-headers", &attempt.response_headers))
        @if attempt.response_body.is_empty() { p.muted { "Empty body." } } @else { pre #response-body { (pretty_json(&attempt.response_body)) } }
    }
}

async fn redeliver(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = DeliveryId(parse_id(&id, "Webhook delivery")?);
    let account = form.session.account(&state).await?;
    let delivery = state
        .services
        .redeliver(&account, Some(&form.session.principal), id)
        .await?;
    Ok(Redirect::to(&format!(
        "/console/deliveries/{}?done=redelivered",
        delivery.id.0
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_bodies_decode_in_both_formats() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"aud":"ci","event":"person.create"}"#);
        let compact = format!("{header}.{claims}.c2ln");
        let (decoded_header, decoded_claims) = decode_jwt(&compact).unwrap();
        assert!(decoded_header.contains("\"kid\": \"k1\""));
        assert!(decoded_claims.contains("\"aud\": \"ci\""));
        let wrapped = serde_json::json!({ "jwt": compact }).to_string();
        assert_eq!(decode_jwt(&wrapped).unwrap().1, decoded_claims);
        assert!(decode_jwt(r#"{"event":"person.create"}"#).is_none());
        assert!(decode_jwt("a.b.c.d").is_none());
    }
}
