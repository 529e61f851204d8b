//! Settings → Webhook policies: create (the public key shown and downloadable once — no page
//! shows it again), edit, link webhooks, rotate the key, delete.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use maud::{Markup, html};
use uuid::Uuid;

use super::editable::{self, Context, Editable};
use super::error::{PageError, PageResult, parse_id};
use super::form::{Fields, Submitted};
use super::layout::{self, DoneParams, Section, badge, csrf, one_time_secret, table_wrap, when};
use super::session::Session;
use super::webhooks::webhook_choices;
use crate::auth::{Resource, Scope};
use crate::domain::{ClaimExpiry, ClaimExpiryInput, JwtAlgorithm};
use crate::domain::{JwtFormat, Webhook, WebhookPolicyId};
use crate::http::AppState;
use crate::service::{
    CreatedPolicyKey, DEFAULT_KEY_OVERLAP_SECONDS, MAX_KEY_OVERLAP_SECONDS, NewWebhookPolicy,
    ServiceError, WebhookPolicyChanges, WebhookPolicyView,
};
use crate::store::{ListQuery, Listing, WebhookFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/webhook-policies",
            get(editable::list::<WebhookPolicyView>).post(editable::create::<WebhookPolicyView>),
        )
        .route(
            "/console/webhook-policies/new",
            get(editable::new_form::<WebhookPolicyView>),
        )
        .route(
            "/console/webhook-policies/{id}",
            get(detail).post(editable::save::<WebhookPolicyView>),
        )
        .route("/console/webhook-policies/{id}/rotate", post(rotate))
        .route(
            "/console/webhook-policies/{id}/delete",
            post(editable::delete::<WebhookPolicyView>),
        )
}

fn enabled_badge(disabled: bool) -> Markup {
    if disabled {
        badge("Disabled", "neutral")
    } else {
        badge("Enabled", "good")
    }
}

pub struct FormValues {
    name: String,
    jwt_alg: String,
    expires_in: String,
    audience: String,
    format: JwtFormat,
    disabled: bool,
    webhook_ids: Vec<Uuid>,
}

impl FormValues {
    fn of(policy: &WebhookPolicyView) -> Self {
        Self {
            name: policy.name.clone(),
            jwt_alg: policy.jwt_alg.clone(),
            expires_in: policy
                .jwt_claim_expires_in
                .map(|minutes| minutes.to_string())
                .unwrap_or_default(),
            audience: policy.jwt_audience.clone().unwrap_or_default(),
            format: policy.jwt_format,
            disabled: policy.disabled,
            webhook_ids: policy.webhook_ids.clone(),
        }
    }

    fn typed(fields: &Fields) -> Self {
        Self {
            name: fields.text("name"),
            jwt_alg: fields.get("jwt_alg").unwrap_or("rs256").to_owned(),
            expires_in: fields.text("jwt_claim_expires_in"),
            audience: fields.text("jwt_audience"),
            format: fields
                .get("jwt_format")
                .and_then(JwtFormat::parse)
                .unwrap_or_default(),
            disabled: fields.checked("disabled"),
            webhook_ids: fields
                .all("webhook_ids")
                .into_iter()
                .filter_map(|raw| Uuid::parse_str(raw).ok())
                .collect(),
        }
    }

    fn new_policy() -> Self {
        Self {
            jwt_alg: JwtAlgorithm::Rs256.as_str().to_owned(),
            ..Self::typed(&Fields::default())
        }
    }
}

fn policy_form(
    session: &Session,
    action: &str,
    submit: &str,
    values: &FormValues,
    webhooks: &PageResult<Option<Vec<Webhook>>>,
    algorithm_fixed: bool,
    error: Option<&PageError>,
) -> Markup {
    html! {
        @if let Some(error) = error {
            div.error role="alert" { p { (error.summary()) } }
        }
        form.card method="post" action=(action) {
            (csrf(session))
            label for="policy-name" { "Name" }
            input #policy-name type="text" name="name" required maxlength="120" value=(values.name) aria-describedby="policy-name-hint";
            p.hint #policy-name-hint { "E.g. the service provider that processes these webhooks." }
            label for="policy-alg" { "JWT algorithm" }
            select #policy-alg name="jwt_alg" disabled[algorithm_fixed] aria-describedby="policy-alg-hint" {
                @for algorithm in JwtAlgorithm::ALL {
                    option value=(algorithm.as_str()) selected[values.jwt_alg == algorithm.as_str()] { (algorithm.as_str()) }
                }
            }
            @if algorithm_fixed { input type="hidden" name="jwt_alg" value=(values.jwt_alg); }
            p.hint #policy-alg-hint {
                "Receivers must pin it (never trust the token's own " code { "alg" } "). RS/PS/ES/EdDSA sign with a private key that never leaves Gatehouse; "
                "HS256/384/512 use a shared secret shown once instead of a public key. "
                @if algorithm_fixed { "Changing it makes a new key, whose public half is shown once: do it with " code { "PATCH /v1/webhook_policies/{id}" } "." }
            }
            label for="policy-expires" { "Claim expires in" }
            input #policy-expires type="text" name="jwt_claim_expires_in" inputmode="numeric" pattern="[0-9]{1,3}(:[0-5][0-9])?|[0-9]{1,4}" placeholder="hhh:mm or minutes" value=(values.expires_in) aria-describedby="policy-expires-hint";
            p.hint #policy-expires-hint { "Sets the " code { "exp" } " claim: minutes (15) or hhh:mm (01:30) after signing, at most " (ClaimExpiry::MAX_MINUTES) " minutes (24:00). Empty: no " code { "exp" } ", as Xurrent's default. Receivers may allow a couple of minutes of clock skew." }
            label for="policy-audience" { "Audience" }
            input #policy-audience type="text" name="jwt_audience" maxlength="2000" value=(values.audience) aria-describedby="policy-audience-hint";
            p.hint #policy-audience-hint { "The " code { "aud" } " claim, which receivers check is theirs." }
            label for="policy-format" { "Format" }
            select #policy-format name="jwt_format" aria-describedby="policy-format-hint" {
                option value="xurrent" selected[values.format == JwtFormat::Xurrent] { "xurrent: {\"jwt\": …} with the message under data (Xurrent's)" }
                option value="jwt" selected[values.format == JwtFormat::Jwt] { "jwt: the body is the JWS (application/jwt)" }
            }
            p.hint #policy-format-hint { "How signed messages travel; both carry iss, sub (webhook id), jti (delivery id), iat and nbf, and aud and exp when set." }
            fieldset {
                legend { "Webhooks" }
                @match webhooks {
                    Ok(Some(webhooks)) => {
                        // Says the checkboxes were offered: none checked then unlinks them all.
                        input type="hidden" name=(LINKS_OFFERED) value="true";
                        @if webhooks.is_empty() && values.webhook_ids.is_empty() { p.hint { "No webhooks to link yet." } }
                        @for webhook in webhooks {
                            @let id = format!("link-{}", webhook.id.0);
                            label.inline for=(id) {
                                input #(id) type="checkbox" name="webhook_ids" value=(webhook.id.0) checked[values.webhook_ids.contains(&webhook.id.0)];
                                (webhook.name)
                            }
                        }
                        // Linked beyond the picker's first webhooks by name: offered as they
                        // are, so that saving keeps them.
                        @for linked in values.webhook_ids.iter().filter(|id| webhooks.iter().all(|webhook| webhook.id.0 != **id)) {
                            @let id = format!("link-{linked}");
                            label.inline for=(id) {
                                input #(id) type="checkbox" name="webhook_ids" value=(linked) checked;
                                "Webhook " (linked)
                            }
                        }
                        p.hint { "Linked webhooks' messages are signed by this policy. While the policy is disabled they wait, never sent unsigned." }
                    }
                    _ => (layout::choices_not_offered(
                        "policy-links-kept",
                        "webhooks",
                        Scope::read(Resource::Webhooks),
                        "the linked webhooks as they are",
                        webhooks.as_ref().err(),
                    )),
                }
            }
            label.inline for="policy-disabled" {
                input #policy-disabled type="checkbox" name="disabled" value="true" checked[values.disabled];
                "Disabled: hold the linked webhooks' messages"
            }
            div.actions { button type="submit" { (submit) } }
        }
    }
}

/// The form's claim expiry: minutes or `hhh:mm` as typed (the service reads both), `None`
/// when left empty (no `exp` claim).
fn claim_expiry_field(fields: &Fields) -> Option<ClaimExpiryInput> {
    Some(fields.text("jwt_claim_expires_in"))
        .filter(|text| !text.trim().is_empty())
        .map(ClaimExpiryInput::Duration)
}

/// The hidden field a form carries when it offered the webhooks to link.
const LINKS_OFFERED: &str = "webhook_ids_offered";

/// The webhooks checked.
fn checked_ids(fields: &Fields) -> Result<Vec<Uuid>, PageError> {
    fields
        .all("webhook_ids")
        .into_iter()
        .map(|raw| Uuid::parse_str(raw).map_err(|_| PageError::not_found("Webhook")))
        .collect()
}

/// A saved policy's links: the webhooks checked, when the form offered them; `None` (the links
/// stay) when it could not.
fn linked_ids(fields: &Fields) -> Result<Option<Vec<Uuid>>, PageError> {
    fields
        .has(LINKS_OFFERED)
        .then(|| checked_ids(fields))
        .transpose()
}

/// The one-time key: PEM and JWK with download links, or the HS secret.
fn key_panel(policy_name: &str, key: &CreatedPolicyKey) -> Markup {
    let file_stem: String = policy_name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    html! {
        p.warning role="alert" {
            @if key.secret.is_some() { "The shared secret" } @else { "The public key" }
            " is shown only once, here: download or copy it now. No page or API call shows it again; if it is lost, rotate the key."
        }
        dl.card {
            dt { "Key id (kid)" } dd { code { (key.key_id) } }
            dt { "Signs from" } dd { (when(key.active_from)) }
        }
        @if let Some(pem) = &key.public_key_pem {
            h2 { "Public key (PEM)" }
            pre #public-key-pem { (pem) }
            p.actions {
                a.button #download-pem download={ (file_stem) "-" (key.key_id) ".pem" }
                    href={ "data:application/x-pem-file;base64," (STANDARD.encode(pem)) } { "Download public key" }
                @if let Some(jwk) = &key.public_jwk {
                    @let jwk = serde_json::to_string_pretty(jwk).unwrap_or_default();
                    a.button.secondary download={ (file_stem) "-" (key.key_id) ".jwk.json" }
                        href={ "data:application/json;base64," (STANDARD.encode(&jwk)) } { "Download as JWK" }
                }
            }
        }
        @if let Some(secret) = &key.secret {
            (one_time_secret("The HMAC shared secret (base64url):", secret, "Copy it now: it is shown only once."))
        }
    }
}

impl Editable for WebhookPolicyView {
    type Id = WebhookPolicyId;
    type Form = FormValues;

    const NOUN: &'static str = "Webhook policy";
    const LIST: &'static str = "/console/webhook-policies";
    const SECTION: Section = Section::Policies;
    const NEW_TITLE: &'static str = "New webhook policy";
    const CREATED_TITLE: &'static str = "Policy created";
    const TITLE: &'static str = "Webhook policies";
    const NONE_YET: &'static str = "No webhook policies yet.";
    const DELETED: &'static str = "Webhook policy deleted, with its keys.";
    const CREATE_REFUSALS: &'static [StatusCode] = &[
        StatusCode::UNPROCESSABLE_ENTITY,
        StatusCode::NOT_FOUND,
        StatusCode::CONFLICT,
    ];
    const SAVE_REFUSALS: &'static [StatusCode] = Self::CREATE_REFUSALS;

    fn id(uuid: Uuid) -> WebhookPolicyId {
        WebhookPolicyId(uuid)
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
        FormValues::new_policy()
    }

    async fn list(cx: &Context<'_>, query: &ListQuery) -> Result<Listing<Self>, ServiceError> {
        let principal = Some(&cx.session.principal);
        let filter = WebhookFilter::default();
        cx.state
            .services
            .webhook_policies(&cx.account, principal, filter, query)
            .await
    }

    fn list_intro() -> Markup {
        html! {
            p { "A policy signs the messages of the webhooks linked to it: each message becomes a JWT that receivers verify with the policy's public key. The private key never leaves Gatehouse." }
            p.actions { a.button href="/console/webhook-policies/new" { "New policy" } }
        }
    }

    fn table(records: &[Self]) -> Markup {
        html! {
            table #webhook-policies {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Algorithm" } th scope="col" { "Audience" }
                    th scope="col" { "Webhooks" } th scope="col" { "Signing key" } th scope="col" { "Status" }
                } }
                tbody {
                    @for policy in records {
                        tr {
                            td.wrap { a href={ "/console/webhook-policies/" (policy.id) } { (policy.name) } }
                            td { code { (policy.jwt_alg) } }
                            td.wrap { (policy.jwt_audience.as_deref().unwrap_or("")) }
                            td { (policy.webhook_ids.len()) }
                            td { code { (policy.key_id.as_deref().unwrap_or("—")) } }
                            td { (enabled_badge(policy.disabled)) }
                        }
                    }
                }
            }
        }
    }

    async fn find(cx: &Context<'_>, id: WebhookPolicyId) -> Result<Self, ServiceError> {
        let principal = Some(&cx.session.principal);
        cx.state
            .services
            .webhook_policy(&cx.account, principal, id)
            .await
    }

    async fn create(cx: &Context<'_>, fields: &Fields) -> PageResult<Markup> {
        let new = NewWebhookPolicy {
            name: Some(fields.text("name")),
            jwt_alg: fields.text("jwt_alg"),
            jwt_claim_expires_in: claim_expiry_field(fields),
            jwt_audience: fields.get("jwt_audience").map(str::to_owned),
            jwt_format: fields.get("jwt_format").and_then(JwtFormat::parse),
            disabled: fields.checked("disabled"),
            webhook_ids: Some(checked_ids(fields)?),
            ..NewWebhookPolicy::default()
        };
        let principal = Some(&cx.session.principal);
        let (policy, key) = cx
            .state
            .services
            .create_webhook_policy(&cx.account, principal, new)
            .await?;
        Ok(html! {
            h1 { "Policy created" }
            p { "Policy " strong { (policy.name) } " signs with " code { (policy.jwt_alg) } " from now on, for " (policy.webhook_ids.len()) " linked webhook(s)." }
            (key_panel(&policy.name, &key))
            p { a href={ "/console/webhook-policies/" (policy.id) } { "Open the policy" } }
        })
    }

    async fn save(cx: &Context<'_>, id: WebhookPolicyId, fields: &Fields) -> PageResult<()> {
        let changes = WebhookPolicyChanges {
            name: Some(fields.text("name")),
            jwt_alg: fields.get("jwt_alg").map(str::to_owned),
            jwt_claim_expires_in: Some(claim_expiry_field(fields)),
            jwt_audience: Some(fields.get("jwt_audience").map(str::to_owned)),
            jwt_format: fields.get("jwt_format").and_then(JwtFormat::parse),
            disabled: Some(fields.checked("disabled")),
            webhook_ids: linked_ids(fields)?,
            ..WebhookPolicyChanges::default()
        };
        let principal = Some(&cx.session.principal);
        let services = &cx.state.services;
        services
            .update_webhook_policy(&cx.account, principal, id, changes)
            .await?;
        Ok(())
    }

    async fn delete(cx: &Context<'_>, id: WebhookPolicyId) -> PageResult<()> {
        let principal = Some(&cx.session.principal);
        let services = &cx.state.services;
        Ok(services
            .delete_webhook_policy(&cx.account, principal, id)
            .await?)
    }

    /// The public key is shown once, after the create: a fresh form warns of that, a refused
    /// one already did.
    async fn new_page(cx: &Context<'_>, values: &FormValues, error: Option<&PageError>) -> Markup {
        let webhooks = webhook_choices(cx.state, cx.session, &cx.account).await;
        html! {
            p { a href="/console/webhook-policies" { "← Webhook policies" } }
            h1 { "New webhook policy" }
            @if error.is_none() {
                p.warning { "The public key is shown only once, right after you create the policy: have somewhere to save it." }
            }
            (policy_form(cx.session, "/console/webhook-policies", "Create policy", values, &webhooks, false, error))
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
        let policy = self;
        let webhooks = webhook_choices(state, session, account).await;
        let now = state.services.clock.now();
        let path = format!("/console/webhook-policies/{}", policy.id);
        html! {
            p { a href="/console/webhook-policies" { "← Webhook policies" } }
            h1 { (policy.name) }
            dl.card {
                dt { "Status" } dd { (enabled_badge(policy.disabled)) }
                dt { "JWT algorithm" } dd { code { (policy.jwt_alg) } }
                dt { "Claim expires in" } dd {
                    @match policy.jwt_claim_expires_in {
                        Some(minutes) => { (minutes) " minutes" },
                        None => { span.muted { "never (no exp claim)" } },
                    }
                }
                dt { "Audience" } dd { (policy.jwt_audience.as_deref().unwrap_or("—")) }
                dt { "Format" } dd { (policy.jwt_format.as_str()) }
                dt { "Webhooks" } dd {
                    @if policy.webhook_ids.is_empty() { span.muted { "none linked" } }
                    @for id in &policy.webhook_ids {
                        @let listed = webhooks.as_ref().ok().and_then(Option::as_ref);
                        @let name = listed.and_then(|webhooks| webhooks.iter().find(|webhook| webhook.id.0 == *id)).map_or_else(|| id.to_string(), |webhook| webhook.name.clone());
                        a href={ "/console/webhooks/" (id) } { (name) } br;
                    }
                }
                dt { "Created" } dd { (when(policy.created_at)) }
                dt { "Last changed" } dd { (when(policy.updated_at)) }
            }
            h2 { "Keys" }
            p.hint { "Key material is never shown again after create or rotate; messages name their key in the JWS " code { "kid" } " header." }
            (table_wrap(html! {
                table #policy-keys {
                    thead { tr { th scope="col" { "Key id (kid)" } th scope="col" { "Signs from" } th scope="col" { "Now" } } }
                    tbody {
                        @for key in &policy.keys {
                            tr {
                                td { code { (key.key_id) } }
                                td { (when(key.active_from)) }
                                td { @if key.signing { (badge("signing", "good")) } @else if key.active_from > now { (badge("next", "warn")) } @else { (badge("retired", "neutral")) } }
                            }
                        }
                    }
                }
            }))
            form.card method="post" action={ (path) "/rotate" } {
                (csrf(session))
                h2 { "Rotate the key" }
                label for="rotate-overlap" { "Overlap (seconds)" }
                input #rotate-overlap type="number" name="overlap_seconds" min="0" max=(MAX_KEY_OVERLAP_SECONDS) value=(DEFAULT_KEY_OVERLAP_SECONDS) aria-describedby="rotate-hint";
                p.hint #rotate-hint { "A new key is made now and starts signing after the overlap (default one day, at most 30 days), so receivers can install its public key first; the current key signs until then. 0 switches at once." }
                div.actions { button.secondary type="submit" { "Rotate key" } }
            }
            h2 { "Edit" }
            (policy_form(session, &path, "Save changes", values, &webhooks, true, error))
            details.danger-zone {
                summary { "Delete policy…" }
                form method="post" action={ (path) "/delete" } {
                    (csrf(session))
                    p.hint { "Deletes the policy and its keys. A policy with linked webhooks can't be deleted: unlink them first." }
                    button.danger type="submit" aria-label={ "Delete policy " (policy.name) } { "Delete policy" }
                }
            }
        }
    }
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<DoneParams>,
) -> PageResult<Response> {
    let flash = params.done("saved").then_some("Changes saved.");
    editable::show::<WebhookPolicyView>(&state, &session, &id, flash).await
}

async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted,
) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let id = WebhookPolicyId(parse_id(&id, "Webhook policy")?);
    let account = session.account(&state).await?;
    let overlap = fields.number("overlap_seconds", || {
        format!("overlap_seconds must be a whole number from 0 to {MAX_KEY_OVERLAP_SECONDS}")
    })?;
    let key = state
        .services
        .rotate_webhook_policy(&account, Some(&session.principal), id, overlap)
        .await?;
    let policy = state
        .services
        .webhook_policy(&account, Some(&session.principal), id)
        .await?;
    let content = html! {
        h1 { "Key rotated" }
        p { "Policy " strong { (policy.name) } " has a new key. It starts signing at " (when(key.active_from)) "; until then the current key signs." }
        (key_panel(&policy.name, &key))
        p { a href={ "/console/webhook-policies/" (policy.id) } { "Back to the policy" } }
    };
    Ok(layout::page("Key rotated", &session, Section::Policies, None, content).into_response())
}
