//! Events: the catalogue of what Gatehouse appends (what webhooks may listen to), and a form
//! to publish a custom event as `POST /v1/events` does (`events:write`) — to try a webhook
//! without writing a script.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::error::{PageError, PageResult};
use super::form::{Fields, Submitted};
use super::layout::{self, Section, csrf, table_wrap};
use super::session::Session;
use crate::auth::{Resource, Scope};
use crate::domain::CATALOG;
use crate::http::AppState;
use crate::service::{PublishEvent, PublishedEvent, ServiceError};

const PATH: &str = "/console/events";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(publish))
}

/// The catalogue needs no scope (as `GET /v1/events/catalog`); publishing needs `events:write`.
async fn show(session: Session) -> PageResult<Response> {
    Ok(page(&session, &Fields::default(), None, None).into_response())
}

fn page(
    session: &Session,
    form: &Fields,
    error: Option<&PageError>,
    published: Option<&PublishedEvent>,
) -> Markup {
    let may_publish = session
        .principal
        .require(Scope::write(Resource::Events))
        .is_ok();
    let payload = form
        .get("payload")
        .map_or_else(|| "{}".to_owned(), str::to_owned);
    let content = html! {
        h1 { "Events" }
        p {
            "Webhooks listen to these events, to a namespace (" code { "person.*" } "), or to custom events other applications publish (" code { "app.invoice.paid" } "). Custom events may not borrow a namespace of the catalogue."
        }
        @if let Some(published) = published {
            div.flash role="status" #published {
                "Published " code { (published.event) } " (event " (published.id) "): queued for "
                (published.deliveries) @if published.deliveries == 1 { " webhook." } @else { " webhooks." }
                " " a href="/console/deliveries" { "See the deliveries" }
            }
        }
        @if may_publish {
            section aria-labelledby="publish-event" {
                h2 #publish-event { "Publish a custom event" }
                @if let Some(error) = error {
                    div.error role="alert" { p { (error.summary()) } }
                }
                form method="post" action=(PATH) {
                    (csrf(session))
                    label for="event-name" { "Event" }
                    input #event-name type="text" name="event" required maxlength="255"
                        value=(form.text("event")) placeholder="app.invoice.paid"
                        aria-describedby="event-name-hint";
                    p.hint #event-name-hint { "Lower-case segments separated by dots (hyphens and underscores allowed), not in a catalogue namespace." }
                    label for="event-object-id" { "Object id" }
                    input #event-object-id type="text" name="object_id" maxlength="255"
                        value=(form.text("object_id"));
                    label for="event-payload" { "Payload (a JSON object)" }
                    textarea #event-payload name="payload" rows="6" spellcheck="false" { (payload) }
                    div.actions { button type="submit" { "Publish event" } }
                }
            }
        }
        section aria-labelledby="catalogue" {
            h2 #catalogue { "Catalogue" }
            (table_wrap(html! {
                table #event-catalogue {
                    caption.muted { "What Gatehouse itself appends" }
                    thead { tr { th scope="col" { "Event" } th scope="col" { "When" } } }
                    tbody {
                        @for event in CATALOG {
                            tr { td { code { (event.name) } } td.wrap { (event.description) } }
                        }
                    }
                }
            }))
        }
    };
    layout::page("Events", session, Section::Events, None, content)
}

async fn publish(State(state): State<AppState>, form: Submitted) -> PageResult<Response> {
    let Submitted { session, fields } = form;
    let published = match serde_json::from_str::<serde_json::Value>(&fields.text("payload")) {
        Ok(payload) => {
            let account = session.account(&state).await?;
            state
                .services
                .publish_event(
                    &account,
                    Some(&session.principal),
                    PublishEvent {
                        event: fields.text("event").trim().to_owned(),
                        object_id: fields.text("object_id").trim().to_owned(),
                        payload,
                    },
                    None,
                )
                .await
                .map_err(PageError::from)
        }
        Err(error) => Err(PageError::from(ServiceError::invalid(vec![format!(
            "payload is not JSON: {error}"
        )]))),
    };
    match published {
        Ok(published) => {
            Ok(page(&session, &Fields::default(), None, Some(&published)).into_response())
        }
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            Ok((error.status, page(&session, &fields, Some(&error), None)).into_response())
        }
        Err(error) => Err(error),
    }
}
