//! Settings → Webhooks: the list with each webhook's state, the create and edit form with the
//! spec's field guidelines as help text, "send verification again", and the last delivery.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::editable::{self, Context, Editable};
use super::error::{PageError, PageResult, if_allowed, parse_id};
use super::form::{Fields, Submitted};
use super::layout::first_by_name;
use super::layout::{self, Section, badge, csrf, one_time_secret, table_wrap, when, when_or};
use super::session::Session;
use crate::auth::{Resource, Scope};
use crate::delivery::retry::MAX_ATTEMPTS;
use crate::domain::{
    Account, CATALOG, CONSECUTIVE_FAILURES_BEFORE_DISABLE, EXCEPTION_NOTIFICATION_INTERVAL_MINUTES,
    Webhook, WebhookId,
};
use crate::http::AppState;
use crate::service::{
    MAX_SECRET_OVERLAP_SECONDS, NewWebhook, ServiceError, WebhookChanges, WebhookPolicyView,
    WebhookState, WebhookView,
};
use crate::store::{DeliveryFilter, ListQuery, Listing, WebhookFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/webhooks",
            get(editable::list::<Webhook>).post(editable::create::<Webhook>),
        )
        .route("/console/webhooks/new", get(editable::new_form::<Webhook>))
        .route(
            "/console/webhooks/{id}",
            get(detail).post(editable::save::<Webhook>),
        )
        .route(
            "/console/webhooks/{id}/verification",
            post(resend_verification),
        )
        .route("/console/webhooks/{id}/test", post(send_test))
        .route(
            "/console/webhooks/{id}/delete",
            post(editable::delete::<Webhook>),
        )
        .route(
            "/console/webhooks/{id}/redeliver-failed",
            post(redeliver_failed),
        )
        .route(
            "/console/webhooks/{id}/signing-secret/rotate",
            post(rotate_signing_secret),
        )
}

/// How many of a webhook's deliveries its page lists.
const RECENT_DELIVERIES: u32 = 10;

/// A webhook's last 24 hours as a chart (with its latency) and its last deliveries; each part
/// only when the session may read it (`webhooks:read`, `webhook_deliveries:read`).
async fn activity(
    state: &AppState,
    session: &Session,
    account: &Account,
    webhook: &Webhook,
) -> Markup {
    let chart = if_allowed(
        state
            .services
            .webhook_activity(&session.principal, webhook.id)
            .await,
    );
    let filter = DeliveryFilter {
        webhook_id: Some(webhook.id),
        ..DeliveryFilter::default()
    };
    let recent = if_allowed(
        state
            .services
            .delivery_page(
                account,
                Some(&session.principal),
                &filter,
                None,
                RECENT_DELIVERIES,
                0,
            )
            .await,
    )
    .map(|page| page.map(|(deliveries, _)| deliveries));
    let unreadable = |id: &str, title: &str, error: &PageError| {
        html! {
            section aria-labelledby=(id) {
                h2 id=(id) { (title) }
                div.error role="alert" { p { (error.summary()) } }
            }
        }
    };
    html! {
        @if let Err(error) = &chart {
            (unreadable("activity-heading", "Last 24 hours", error))
        }
        @if let Ok(Some(chart)) = &chart {
            section aria-labelledby="activity-heading" {
                h2 #activity-heading { "Last 24 hours" }
                p #webhook-latency {
                    (chart.last_day.total()) " attempts; latency p50 "
                    (super::overview::percentile_text(&chart.last_day, 50)) ", p95 "
                    (super::overview::percentile_text(&chart.last_day, 95)) "."
                }
                (super::overview::outcomes_chart(
                    "chart-webhook",
                    "Attempts per hour, last 24 hours (UTC)",
                    &chart.hourly,
                    |start| start.format("%H:00").to_string(),
                ))
            }
        }
        @if let Err(error) = &recent {
            (unreadable("recent-heading", "Last deliveries", error))
        }
        @if let Ok(Some(recent)) = &recent {
            section aria-labelledby="recent-heading" {
                h2 #recent-heading { "Last deliveries" }
                @if recent.is_empty() {
                    p.muted { "None yet." }
                } @else {
                    (table_wrap(html! {
                        table #recent-deliveries {
                            thead { tr {
                                th scope="col" { "Event" } th scope="col" { "Status" }
                                th scope="col" { "Answer" } th scope="col" { "Created" }
                            } }
                            tbody {
                                @for delivery in recent {
                                    tr {
                                        td.wrap { a href={ "/console/deliveries/" (delivery.id.0) } { code { (delivery.event) } } }
                                        td { (super::deliveries::status_badge(delivery.status)) }
                                        td { @match (delivery.response_status, &delivery.error) {
                                            (Some(status), _) => { "HTTP " (status) },
                                            (None, Some(error)) => (error),
                                            (None, None) => span.muted { "—" },
                                        } }
                                        td { (when(delivery.created_at)) }
                                    }
                                }
                            }
                        }
                    }))
                    p { a href={ "/console/deliveries?webhook_id=" (webhook.id.0) } { "All deliveries of " (webhook.name) } }
                }
            }
        }
    }
}

pub fn state_badge(state: WebhookState) -> Markup {
    match state {
        WebhookState::Active => badge("Active", "good"),
        WebhookState::Unverified => badge("Unverified", "warn"),
        WebhookState::Disabled => badge("Disabled", "neutral"),
        WebhookState::Failing => badge("Failing", "bad"),
    }
}

/// The account's policies for the form's select: `Ok(None)` when the session can't read them,
/// the error when they could not be read. Either way the form then sends no
/// `webhook_policy_id`, and saving leaves the webhook's policy as it is — a form that offered
/// only "None" would unlink a policy its user can't even see.
async fn policies(
    state: &AppState,
    session: &Session,
    account: &Account,
) -> PageResult<Option<Vec<WebhookPolicyView>>> {
    let query = first_by_name();
    if_allowed(
        state
            .services
            .webhook_policies(
                account,
                Some(&session.principal),
                WebhookFilter::default(),
                &query,
            )
            .await
            .map(|listing| listing.items),
    )
}

/// What the form shows: a webhook's values, or what was typed when a submit was refused.
pub struct FormValues {
    name: String,
    event: String,
    uri: String,
    policy: Option<Uuid>,
    description: String,
    mail_exceptions_to: String,
    disabled: bool,
    ordered: bool,
    rate_limit_per_second: String,
}

impl FormValues {
    fn of(webhook: &Webhook) -> Self {
        Self {
            name: webhook.name.clone(),
            event: webhook.event.clone(),
            uri: webhook.uri.clone(),
            policy: webhook.webhook_policy_id,
            description: webhook.description.clone().unwrap_or_default(),
            mail_exceptions_to: webhook.mail_exceptions_to.join(", "),
            disabled: webhook.disabled,
            ordered: webhook.ordered,
            rate_limit_per_second: webhook
                .rate_limit_per_second
                .map(|limit| limit.to_string())
                .unwrap_or_default(),
        }
    }

    fn typed(fields: &Fields) -> Self {
        Self {
            name: fields.text("name"),
            event: fields.text("event"),
            uri: fields.text("uri"),
            policy: fields
                .get("webhook_policy_id")
                .and_then(|raw| Uuid::parse_str(raw).ok()),
            description: fields.text("description"),
            mail_exceptions_to: fields.text("mail_exceptions_to"),
            disabled: fields.checked("disabled"),
            ordered: fields.checked("ordered"),
            rate_limit_per_second: fields.text("rate_limit_per_second"),
        }
    }
}

fn webhook_form(
    session: &Session,
    action: &str,
    submit: &str,
    values: &FormValues,
    policies: &PageResult<Option<Vec<WebhookPolicyView>>>,
    error: Option<&PageError>,
) -> Markup {
    html! {
        @if let Some(error) = error {
            div.error role="alert" { p { (error.summary()) } }
        }
        form.card method="post" action=(action) {
            (csrf(session))
            label for="webhook-name" { "Name" }
            input #webhook-name type="text" name="name" maxlength="120" value=(values.name) aria-describedby="webhook-name-hint";
            p.hint #webhook-name-hint { "To recognise the webhook by; messages carry it as " code { "name" } ". Empty: the event name." }
            label for="webhook-event" { "Event" }
            input #webhook-event type="text" name="event" required list="event-catalog" value=(values.event) aria-describedby="webhook-event-hint";
            datalist #event-catalog { @for event in CATALOG { option value=(event.name) { (event.description) } } }
            p.hint #webhook-event-hint {
                "The one type of event the webhook listens for (e.g. " code { "scim_user.create" } "), a namespace such as " code { "person.*" } ", or a custom event name. "
                "Every occurrence is one call: a bulk change of 1,000 records calls 1,000 times. Calls are asynchronous and near real-time."
            }
            label for="webhook-uri" { "URI" }
            input #webhook-uri type="url" name="uri" required maxlength="2000" value=(values.uri) aria-describedby="webhook-uri-hint";
            p.hint #webhook-uri-hint {
                "Where each message is POSTed. When the webhook is created or its URI changes, a " code { "webhook.verify" } " message is sent at once; "
                "its payload holds a " code { "callback" } " URL the endpoint's owner must call (within 24 hours). Until then the webhook is inactive (unverified). "
                "For basic authentication write " code { "https://user:password@host/…" } ": the password is sealed and shown as " code { "***" } "; keep " code { "***" } " to keep it."
            }
            @match policies {
                Ok(Some(policies)) => {
                    label for="webhook-policy" { "Webhook policy" }
                    select #webhook-policy name="webhook_policy_id" aria-describedby="webhook-policy-hint" {
                        option value="" { "None" }
                        @for policy in policies {
                            option value=(policy.id) selected[values.policy == Some(policy.id)] { (policy.name) " (" (policy.jwt_alg) ")" }
                        }
                        // Beyond the picker's first policies by name: offered as it is, so that
                        // saving keeps it.
                        @if let Some(current) = values.policy.filter(|id| policies.iter().all(|policy| policy.id != *id)) {
                            option value=(current) selected { "The current policy (" (current) ")" }
                        }
                    }
                    p.hint #webhook-policy-hint {
                        "With a policy, every message is a JWT signed with the policy's key, which receivers verify with its public key. "
                        "Without one, messages carry a Standard Webhooks HMAC signature (" code { "webhook-signature" } ") made with this webhook's signing secret."
                    }
                }
                _ => (layout::choices_not_offered(
                    "webhook-policy-kept",
                    "webhook policies",
                    Scope::read(Resource::WebhookPolicies),
                    "the policy as it is",
                    policies.as_ref().err(),
                )),
            }
            label for="webhook-description" { "Description" }
            textarea #webhook-description name="description" maxlength="5000" { (values.description) }
            label for="webhook-mail" { "Mail exceptions to" }
            input #webhook-mail type="text" name="mail_exceptions_to" value=(values.mail_exceptions_to) aria-describedby="webhook-mail-hint";
            p.hint #webhook-mail-hint {
                "Comma-separated email addresses told when a call fails (it will be retried): at most one email per webhook per " (EXCEPTION_NOTIFICATION_INTERVAL_MINUTES) " minutes. "
                "Empty: every account administrator. A call is tried at most " (MAX_ATTEMPTS) " times, waiting longer after each failure; "
                "after " (CONSECUTIVE_FAILURES_BEFORE_DISABLE) " consecutive failures the webhook is disabled and a separate email says so."
            }
            label for="webhook-rate-limit" { "Rate limit (calls per second)" }
            input #webhook-rate-limit type="number" name="rate_limit_per_second" min="1" max="10000" value=(values.rate_limit_per_second) aria-describedby="webhook-rate-hint";
            p.hint #webhook-rate-hint { "Optional: at most this many calls per second to this URI. Empty: no limit beyond the service's own." }
            label.inline for="webhook-ordered" {
                input #webhook-ordered type="checkbox" name="ordered" value="true" checked[values.ordered];
                "Ordered: send one message at a time, in the order events occurred (a failing message holds up the rest)"
            }
            br;
            label.inline for="webhook-disabled" {
                input #webhook-disabled type="checkbox" name="disabled" value="true" checked[values.disabled];
                "Disabled: send nothing while checked (messages meanwhile are kept and wait)"
            }
            div.actions { button type="submit" { (submit) } }
        }
    }
}

fn parse_rate_limit(fields: &Fields) -> Result<Option<u32>, PageError> {
    fields.number("rate_limit_per_second", || {
        "rate_limit_per_second must be a whole number from 1 to 10000".to_owned()
    })
}

fn parse_policy(fields: &Fields) -> Result<Option<Uuid>, PageError> {
    fields
        .get("webhook_policy_id")
        .map(|raw| Uuid::parse_str(raw).map_err(|_| PageError::not_found("Webhook policy")))
        .transpose()
}

impl Editable for Webhook {
    type Id = WebhookId;
    type Form = FormValues;

    const NOUN: &'static str = "Webhook";
    const LIST: &'static str = "/console/webhooks";
    const SECTION: Section = Section::Webhooks;
    const NEW_TITLE: &'static str = "New webhook";
    const CREATED_TITLE: &'static str = "Webhook created";
    const TITLE: &'static str = "Webhooks";
    const NONE_YET: &'static str = "No webhooks yet.";
    const DELETED: &'static str = "Webhook deleted, with its deliveries.";
    const CREATE_REFUSALS: &'static [StatusCode] =
        &[StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NOT_FOUND];
    const SAVE_REFUSALS: &'static [StatusCode] =
        &[StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT];

    fn id(uuid: Uuid) -> WebhookId {
        WebhookId(uuid)
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn values(&self) -> FormValues {
        FormValues::of(self)
    }

    fn typed(fields: &Fields) -> FormValues {
        FormValues::typed(fields)
    }

    fn blank() -> FormValues {
        FormValues::typed(&Fields::default())
    }

    async fn list(cx: &Context<'_>, query: &ListQuery) -> Result<Listing<Self>, ServiceError> {
        let principal = Some(&cx.session.principal);
        let filter = WebhookFilter::default();
        cx.state
            .services
            .webhooks(&cx.account, principal, filter, query)
            .await
    }

    fn list_intro() -> Markup {
        html! {
            p { "A webhook listens for one event of this account and POSTs a JSON message to its URI every time it occurs. Every send is kept as a delivery." }
            p.actions { a.button href="/console/webhooks/new" { "New webhook" } }
        }
    }

    fn table(records: &[Self]) -> Markup {
        html! {
            table #webhooks {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Event" } th scope="col" { "URI" }
                    th scope="col" { "Status" } th scope="col" { "Last delivery" }
                } }
                tbody {
                    @for webhook in records {
                        @let view = WebhookView::new(webhook);
                        tr {
                            td.wrap { a href={ "/console/webhooks/" (webhook.id.0) } { (webhook.name) } }
                            td { code { (webhook.event) } }
                            td.wrap { (webhook.uri) }
                            td { (state_badge(view.state)) @if view.consecutive_failures > 0 { " " span.muted { (view.consecutive_failures) " failures in a row" } } }
                            td { @match webhook.last_delivery_id { Some(id) => a href={ "/console/deliveries/" (id.0) } { "Last delivery" }, None => span.muted { "none yet" } } }
                        }
                    }
                }
            }
        }
    }

    async fn find(cx: &Context<'_>, id: WebhookId) -> Result<Self, ServiceError> {
        let principal = Some(&cx.session.principal);
        cx.state.services.webhook(&cx.account, principal, id).await
    }

    async fn create(cx: &Context<'_>, fields: &Fields) -> PageResult<Markup> {
        let new = NewWebhook {
            name: fields.get("name").map(str::to_owned),
            event: fields.text("event"),
            uri: fields.text("uri"),
            disabled: fields.checked("disabled"),
            description: fields.get("description").map(str::to_owned),
            webhook_policy_id: parse_policy(fields)?,
            mail_exceptions_to: fields.get("mail_exceptions_to").map(str::to_owned),
            ordered: fields.checked("ordered"),
            rate_limit_per_second: parse_rate_limit(fields)?,
            ..NewWebhook::default()
        };
        let principal = Some(&cx.session.principal);
        let created = cx
            .state
            .services
            .create_webhook(&cx.account, principal, new)
            .await?;
        let webhook = &created.webhook;
        Ok(html! {
            h1 { "Webhook created" }
            p {
                "A " code { "webhook.verify" } " message is on its way to " strong { (webhook.uri) } ". "
                "The webhook sends nothing else until the endpoint's owner calls the " code { "callback" } " URL in that message's payload."
            }
            (one_time_secret(
                "Its Standard Webhooks signing secret (checks the webhook-signature header of unsigned-policy messages):",
                &created.signing_secret,
                "Copy it now: it is shown only once here. Administrators can read or rotate it later through the REST API.",
            ))
            p { a href={ "/console/webhooks/" (webhook.id.0) } { "Open the webhook" } }
        })
    }

    async fn save(cx: &Context<'_>, id: WebhookId, fields: &Fields) -> PageResult<()> {
        let changes = WebhookChanges {
            name: Some(fields.text("name")),
            event: Some(fields.text("event")),
            uri: Some(fields.text("uri")),
            disabled: Some(fields.checked("disabled")),
            description: Some(fields.get("description").map(str::to_owned)),
            // Absent when the form could not offer the policies: the policy stays.
            webhook_policy_id: fields
                .has("webhook_policy_id")
                .then(|| parse_policy(fields))
                .transpose()?,
            mail_exceptions_to: Some(fields.get("mail_exceptions_to").map(str::to_owned)),
            ordered: Some(fields.checked("ordered")),
            rate_limit_per_second: Some(parse_rate_limit(fields)?),
            ..WebhookChanges::default()
        };
        let principal = Some(&cx.session.principal);
        let services = &cx.state.services;
        services
            .update_webhook(&cx.account, principal, id, changes)
            .await?;
        Ok(())
    }

    async fn delete(cx: &Context<'_>, id: WebhookId) -> PageResult<()> {
        let principal = Some(&cx.session.principal);
        let services = &cx.state.services;
        Ok(services.delete_webhook(&cx.account, principal, id).await?)
    }

    async fn new_page(cx: &Context<'_>, values: &FormValues, error: Option<&PageError>) -> Markup {
        let policies = policies(cx.state, cx.session, &cx.account).await;
        html! {
            p { a href="/console/webhooks" { "← Webhooks" } }
            h1 { "New webhook" }
            (webhook_form(cx.session, "/console/webhooks", "Create webhook", values, &policies, error))
        }
    }

    async fn detail_page(
        &self,
        cx: &Context<'_>,
        values: &FormValues,
        error: Option<&PageError>,
    ) -> Markup {
        let Context {
            state,
            session,
            account,
        } = cx;
        let webhook = self;
        let view = WebhookView::new(webhook);
        let policies = policies(state, session, account).await;
        let policy_name = webhook.webhook_policy_id.and_then(|id| {
            let listed = policies.as_ref().ok().and_then(Option::as_ref)?;
            listed.iter().find(|policy| policy.id == id)
        });
        let path = format!("/console/webhooks/{}", webhook.id.0);
        let activity = activity(state, session, account, webhook).await;
        html! {
            p { a href="/console/webhooks" { "← Webhooks" } }
            h1 { (webhook.name) }
            dl.card {
                dt { "Status" } dd #webhook-state { (state_badge(view.state)) }
                @if let Some(reason) = webhook.disabled_reason { dt { "Disabled because" } dd { (reason.as_str()) } }
                dt { "Event" } dd { code { (webhook.event) } }
                dt { "URI" } dd { (webhook.uri) }
                dt { "Verified" } dd { (when_or(webhook.verified_at, "not yet: waiting for the callback")) }
                dt { "Verification sent" } dd { (when_or(webhook.verification_sent_at, "—")) }
                dt { "Webhook policy" } dd {
                    @match (webhook.webhook_policy_id, policy_name) {
                        (Some(id), Some(policy)) => a href={ "/console/webhook-policies/" (id) } { (policy.name) },
                        (Some(id), None) => code { (id) },
                        (None, _) => span.muted { "none: Standard Webhooks HMAC signature" },
                    }
                }
                dt { "Consecutive failures" } dd { (webhook.consecutive_failures) }
                dt { "Last delivery" } dd {
                    @match webhook.last_delivery_id {
                        Some(id) => a #last-delivery href={ "/console/deliveries/" (id.0) } { "Last delivery" },
                        None => span.muted { "none yet" },
                    }
                    " · " a href={ "/console/deliveries?webhook_id=" (webhook.id.0) } { "All deliveries" }
                }
                dt { "Created" } dd { (when(webhook.created_at)) }
                dt { "Last changed" } dd { (when(webhook.updated_at)) }
            }
            div.actions {
                @if webhook.verified_at.is_none() {
                    form method="post" action={ (path) "/verification" } {
                        (csrf(session))
                        button.secondary type="submit" { "Send verification again" }
                    }
                } @else {
                    form method="post" action={ (path) "/test" } {
                        (csrf(session))
                        button.secondary type="submit" aria-describedby="send-test-hint" { "Send test" }
                        p.hint #send-test-hint { "One message for this webhook's event with object_id 12345, also while it is disabled; its delivery is marked Test." }
                    }
                }
            }
            div.actions {
                form method="post" action={ (path) "/redeliver-failed" } {
                    (csrf(session))
                    label.inline for="redeliver-since" {
                        "Redeliver what failed in the last"
                        select #redeliver-since name="since_hours" {
                            option value="1" { "hour" }
                            option value="24" selected { "24 hours" }
                            option value="168" { "7 days" }
                            option value="720" { "30 days" }
                        }
                    }
                    button.secondary type="submit" { "Redeliver failed" }
                }
                form method="post" action={ (path) "/signing-secret/rotate" } {
                    (csrf(session))
                    label.inline for="secret-overlap" {
                        "Old secret keeps signing for (seconds)"
                        input #secret-overlap type="number" name="overlap_seconds" min="0"
                            max=(MAX_SECRET_OVERLAP_SECONDS) value="86400";
                    }
                    button.secondary type="submit" { "Rotate signing secret" }
                }
            }
            div.actions {
                details.danger-zone {
                    summary { "Delete webhook…" }
                    form method="post" action={ (path) "/delete" } {
                        (csrf(session))
                        p { "Deletes the webhook with all its deliveries and notices. Messages it would still send are dropped." }
                        button.danger type="submit" aria-label={ "Delete webhook " (webhook.name) } { "Delete webhook" }
                    }
                }
            }
            (activity)
            h2 { "Edit" }
            (webhook_form(session, &path, "Save changes", values, &policies, error))
        }
    }
}

#[derive(Deserialize)]
struct DetailParams {
    done: Option<String>,
    /// How many deliveries "redeliver failed" queued.
    count: Option<u64>,
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<DetailParams>,
) -> PageResult<Response> {
    let redelivered;
    let flash = match params.done.as_deref() {
        Some("saved") => Some("Changes saved."),
        Some("verification") => {
            Some("A new verification message is on its way; the previous callback no longer works.")
        }
        Some("test") => Some("A test message is on its way; its delivery is marked Test."),
        Some("redelivered") => {
            redelivered = format!(
                "{} failed deliveries queued again, each as a new delivery.",
                params.count.unwrap_or(0)
            );
            Some(redelivered.as_str())
        }
        _ => None,
    };
    editable::show::<Webhook>(&state, &session, &id, flash).await
}

async fn resend_verification(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = WebhookId(parse_id(&id, "Webhook")?);
    let account = form.session.account(&state).await?;
    state
        .services
        .resend_verification(&account, Some(&form.session.principal), id)
        .await?;
    Ok(Redirect::to(&format!("/console/webhooks/{}?done=verification", id.0)).into_response())
}

async fn send_test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = WebhookId(parse_id(&id, "Webhook")?);
    let account = form.session.account(&state).await?;
    state
        .services
        .send_test_message(&account, Some(&form.session.principal), id)
        .await?;
    Ok(Redirect::to(&format!("/console/webhooks/{}?done=test", id.0)).into_response())
}

/// Queues again every failed delivery of the webhook from the chosen period (after the
/// receiving integration was fixed), each as a new delivery.
async fn redeliver_failed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let id = WebhookId(parse_id(&id, "Webhook")?);
    let problem = || "since_hours must be a whole number of hours from 1 to 720".to_owned();
    let hours = form
        .fields
        .number::<i64>("since_hours", problem)?
        .unwrap_or(24);
    if !(1..=24 * 30).contains(&hours) {
        return Err(PageError::from(ServiceError::invalid(vec![problem()])));
    }
    let account = form.session.account(&state).await?;
    let since = state.services.clock.now() - chrono::Duration::hours(hours);
    let count = state
        .services
        .redeliver_failed(&account, Some(&form.session.principal), id, since)
        .await?;
    Ok(Redirect::to(&format!(
        "/console/webhooks/{}?done=redelivered&count={count}",
        id.0
    ))
    .into_response())
}

/// A new Standard Webhooks secret, shown once; the old one signs along during the overlap.
async fn rotate_signing_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let id = WebhookId(parse_id(&id, "Webhook")?);
    let overlap = fields.number("overlap_seconds", || {
        format!("overlap_seconds must be a whole number from 0 to {MAX_SECRET_OVERLAP_SECONDS}")
    })?;
    let account = session.account(&state).await?;
    let rotated = state
        .services
        .rotate_webhook_secret(&account, Some(&session.principal), id, overlap)
        .await?;
    let content = html! {
        h1 { "Signing secret rotated" }
        (one_time_secret(
            "The webhook's new Standard Webhooks signing secret:",
            &rotated.secret.signing_secret,
            "Copy it now: it is shown only once here. Administrators can read the live secrets through the REST API.",
        ))
        p {
            "Until " (when(rotated.previous_expires_at)) " every message carries a signature with the old secret too, "
            "so receivers can switch without a failed check."
        }
        p { a href={ "/console/webhooks/" (id.0) } { "Back to the webhook" } }
    };
    Ok(layout::page(
        "Signing secret rotated",
        &session,
        Section::Webhooks,
        None,
        content,
    )
    .into_response())
}

/// The account's webhooks for a policy's checkboxes: `Ok(None)` when the session can't read
/// them, the error when they could not be read (see `policies`: a form that could not offer
/// them leaves the links as they are).
pub(super) async fn webhook_choices(
    state: &AppState,
    session: &Session,
    account: &Account,
) -> PageResult<Option<Vec<Webhook>>> {
    if_allowed(
        state
            .services
            .webhooks(
                account,
                Some(&session.principal),
                WebhookFilter::default(),
                &first_by_name(),
            )
            .await
            .map(|listing| listing.items),
    )
}
