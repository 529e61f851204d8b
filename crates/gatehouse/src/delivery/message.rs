//! The JSON message a webhook POSTs, in Xurrent's envelope (docs/PRODUCT.md "Webhooks"):
//! which webhook and account sent it, the event, its object, who caused it, and the event's
//! payload. The body is serialized once, when the delivery is created, and those exact bytes
//! go out on every attempt (a receiver can hash or sign-check them across retries).
//!
//! Node IDs are opaque global ids, as Xurrent's GraphQL API has them: URL-safe base64 of
//! `Type/id`, stable for the life of the record.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::Event;

/// What a message says beside the event itself.
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    pub webhook_id: Uuid,
    /// The webhook's name, as the account's administrators gave it.
    pub webhook_name: &'a str,
    /// The service's public base URL (`--base-url`), also sent as `custom_url`.
    pub base_url: &'a str,
    /// The name this Gatehouse installation goes by (`instance_name`).
    pub instance_name: &'a str,
}

/// The node ID of a record of `type_name` (`Webhook`, `Person`, …).
pub fn node_id(type_name: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}/{id}"))
}

/// The type whose records an event's object ids name, from the event's namespace; a custom
/// event's namespace stands for itself.
fn object_type(event_name: &str) -> String {
    let namespace = event_name.split('.').next().unwrap_or_default();
    match namespace {
        "person" => "Person".to_owned(),
        "personal_access_token" => "PersonalAccessToken".to_owned(),
        "scim_user" => "ScimUser".to_owned(),
        "scim_group" => "ScimGroup".to_owned(),
        "webhook" => "Webhook".to_owned(),
        "webhook_policy" => "WebhookPolicy".to_owned(),
        custom => custom.to_owned(),
    }
}

/// The message for `event` sent through the webhook `envelope` describes.
pub fn message(envelope: &Envelope<'_>, event: &Event) -> Value {
    let base_url = envelope.base_url.trim_end_matches('/');
    let webhook_id = envelope.webhook_id.to_string();
    json!({
        "webhook_id": webhook_id,
        "webhook_nodeID": node_id("Webhook", &webhook_id),
        "account_id": event.account_id.as_str(),
        "account": format!("{base_url}/accounts/{}", event.account_id),
        "custom_url": base_url,
        "name": envelope.webhook_name,
        "event": event.name,
        "object_id": event.object_id,
        "object_nodeID": node_id(&object_type(&event.name), &event.object_id),
        "person_id": event.actor.as_ref().map(|actor| actor.person_id.0.to_string()),
        "person_name": event.actor.as_ref().map(|actor| actor.person_name.clone()),
        "instance_name": envelope.instance_name,
        "payload": event.payload,
    })
}

/// The message as the bytes every attempt sends.
pub fn message_body(envelope: &Envelope<'_>, event: &Event) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its keys are strings and it holds no non-finite floats.
    serde_json::to_vec(&message(envelope, event)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::{AccountId, Actor, PersonId};

    fn event(actor: Option<Actor>) -> Event {
        Event {
            id: 42,
            account_id: AccountId::parse("acme").expect("slug"),
            name: "scim_user.create".to_owned(),
            object_id: "0190c0de-0000-7000-8000-000000000001".to_owned(),
            actor,
            payload: json!({ "userName": "bjensen", "active": true }),
            created_at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 29, 11, 0, 0)
                .single()
                .expect("time"),
        }
    }

    fn envelope() -> Envelope<'static> {
        Envelope {
            webhook_id: Uuid::parse_str("0190c0de-0000-7000-8000-0000000000aa").expect("uuid"),
            webhook_name: "Provisioning to HR",
            base_url: "https://gatehouse.example/",
            instance_name: "Acme Production",
        }
    }

    #[test]
    fn the_message_carries_xurrents_keys() {
        let ada = Actor {
            person_id: PersonId(
                Uuid::parse_str("0190c0de-0000-7000-8000-0000000000bb").expect("uuid"),
            ),
            person_name: "Ada Lovelace".to_owned(),
        };
        let message = message(&envelope(), &event(Some(ada)));
        assert_eq!(
            message,
            json!({
                "webhook_id": "0190c0de-0000-7000-8000-0000000000aa",
                "webhook_nodeID": node_id("Webhook", "0190c0de-0000-7000-8000-0000000000aa"),
                "account_id": "acme",
                "account": "https://gatehouse.example/accounts/acme",
                "custom_url": "https://gatehouse.example",
                "name": "Provisioning to HR",
                "event": "scim_user.create",
                "object_id": "0190c0de-0000-7000-8000-000000000001",
                "object_nodeID": node_id("ScimUser", "0190c0de-0000-7000-8000-000000000001"),
                "person_id": "0190c0de-0000-7000-8000-0000000000bb",
                "person_name": "Ada Lovelace",
                "instance_name": "Acme Production",
                "payload": { "userName": "bjensen", "active": true }
            })
        );
    }

    #[test]
    fn events_without_an_actor_say_so_with_nulls() {
        let message = message(&envelope(), &event(None));
        assert_eq!(
            (&message["person_id"], &message["person_name"]),
            (&Value::Null, &Value::Null)
        );
    }

    #[test]
    fn node_ids_are_opaque_but_decodable_and_url_safe() {
        let id = node_id("ScimGroup", "abc");
        assert!(
            id.bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        );
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&id).expect("base64"),
            b"ScimGroup/abc"
        );
        let mut custom = event(None);
        custom.name = "app.invoice.paid".to_owned();
        custom.object_id = "inv-7".to_owned();
        assert_eq!(
            message(&envelope(), &custom)["object_nodeID"],
            node_id("app", "inv-7")
        );
    }

    #[test]
    fn the_body_is_the_same_bytes_every_time() {
        let first = message_body(&envelope(), &event(None));
        assert_eq!(first, message_body(&envelope(), &event(None)));
        let parsed: Value = serde_json::from_slice(&first).expect("JSON");
        assert_eq!(parsed["event"], "scim_user.create");
    }
}
