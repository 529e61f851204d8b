//! The JSON message a webhook POSTs, in Xurrent's envelope (docs/PRODUCT.md "Webhooks"):
//! which webhook and account sent it, the event, its object, who caused it, and the event's
//! payload. The body is built at a delivery's first attempt, and those exact bytes go out on
//! every attempt (a receiver can hash or sign-check them across retries).
//!
//! What a message is built from is kept, not the message: the event (once, however many
//! webhooks it goes to) and the [`EnvelopeFacts`] of its first attempt (once for every delivery
//! that shares them). Building is deterministic, so the message read back is the bytes sent.
//! An attempt's headers are kept the same way ([`compact_headers`]): only what does not follow
//! from the attempt itself, such as a signature.
//!
//! Node IDs are opaque global ids, as Xurrent's GraphQL API has them: URL-safe base64 of
//! `Type/id`, stable for the life of the record.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::domain::{AccountId, Actor};

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

/// The event a message is about, borrowed from wherever it is held: building a message copies
/// none of it (the payload may be large, and a drain builds thousands of messages a second).
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub account_id: &'a AccountId,
    pub name: &'a str,
    pub object_id: &'a str,
    pub actor: Option<&'a Actor>,
    pub payload: &'a Value,
}

/// The message's JSON object. Its keys are in byte order, the order a `serde_json` map writes
/// them in, so these are the bytes the message had when it was built as a `json!` value (the
/// tests hold the two together).
#[derive(Serialize)]
struct Message<'a> {
    account: String,
    account_id: &'a str,
    custom_url: &'a str,
    event: &'a str,
    instance_name: &'a str,
    name: &'a str,
    object_id: &'a str,
    #[serde(rename = "object_nodeID")]
    object_node_id: String,
    payload: &'a Value,
    person_id: Option<String>,
    person_name: Option<&'a str>,
    webhook_id: String,
    #[serde(rename = "webhook_nodeID")]
    webhook_node_id: String,
}

/// The message for the event `subject` names, sent through the webhook `envelope` describes,
/// as the bytes every attempt sends.
pub fn message_body(envelope: &Envelope<'_>, subject: Subject<'_>) -> Vec<u8> {
    let base_url = envelope.base_url.trim_end_matches('/');
    let webhook_id = envelope.webhook_id.to_string();
    let message = Message {
        account: format!("{base_url}/accounts/{}", subject.account_id),
        account_id: subject.account_id.as_str(),
        custom_url: base_url,
        event: subject.name,
        instance_name: envelope.instance_name,
        name: envelope.webhook_name,
        object_id: subject.object_id,
        object_node_id: node_id(&object_type(subject.name), subject.object_id),
        payload: subject.payload,
        person_id: subject.actor.map(|actor| actor.person_id.0.to_string()),
        person_name: subject.actor.map(|actor| actor.person_name.as_str()),
        webhook_node_id: node_id("Webhook", &webhook_id),
        webhook_id,
    };
    // Serializing cannot fail: every key is a string and a `Value` holds no non-finite float.
    serde_json::to_vec(&message).unwrap_or_default()
}

/// What a message says beside its event that may change after it was sent — the webhook's
/// name, the installation's base URL and name — as they were when it was first built.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnvelopeFacts {
    pub webhook_name: String,
    pub base_url: String,
    pub instance_name: String,
}

impl EnvelopeFacts {
    /// The envelope of a message these facts built for `webhook_id`.
    pub fn envelope(&self, webhook_id: Uuid) -> Envelope<'_> {
        Envelope {
            webhook_id,
            webhook_name: &self.webhook_name,
            base_url: &self.base_url,
            instance_name: &self.instance_name,
        }
    }
}

/// What an attempt's own headers follow from.
#[derive(Clone, Copy, Debug)]
pub struct AttemptFacts<'a> {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub event: &'a str,
    pub attempt: u32,
    pub sent_at: DateTime<Utc>,
}

/// Headers whose value follows from the attempt: a stored header list names them by their
/// place here instead of spelling them out. Append only — stored lists refer to these places.
/// The places from 8 on are written only in `HeaderForms::DeliveryRow`.
const DERIVED_HEADERS: [&str; 9] = [
    "content-type",
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "x-gatehouse-delivery",
    "x-gatehouse-event",
    "x-gatehouse-attempt",
    "x-gatehouse-webhook",
    // A receiver's answer, dated the second the attempt was sent (RFC 9110 IMF-fixdate).
    "date",
];

/// Header names a stored list may write by their place here, with the value spelt out
/// (`[place, value]`) — in `HeaderForms::DeliveryRow` only. Append only.
const KNOWN_NAMES: [&str; 9] = [
    "webhook-signature",
    "content-length",
    "content-type",
    "date",
    "server",
    "connection",
    "cache-control",
    "x-request-id",
    "transfer-encoding",
];

/// The places in `DERIVED_HEADERS` of the `x-gatehouse-…` headers every attempt sends.
const SENT_WITH_EVERY_ATTEMPT: std::ops::Range<usize> = 4..8;

/// The forms a stored header list may take. Attempt rows are read by nodes of every release
/// since schema 17 (an upgrade runs old and new nodes side by side), so they keep that
/// release's forms; the attempt a delivery's row keeps (schema 24) is read only by nodes that
/// wrote it, and takes the shorter ones: known names by place, and a receiver's `date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderForms {
    AttemptRow,
    DeliveryRow,
}

impl HeaderForms {
    fn derived_places(self) -> std::ops::Range<usize> {
        match self {
            Self::AttemptRow => 0..8,
            Self::DeliveryRow => 0..DERIVED_HEADERS.len(),
        }
    }
}

/// The value the derived header at `place` has for `facts`.
fn derived_value(place: usize, facts: &AttemptFacts<'_>) -> Option<String> {
    Some(match place {
        0 => "application/json".to_owned(),
        1 => "application/jwt".to_owned(),
        2 | 4 => facts.delivery_id.to_string(),
        3 => facts.sent_at.timestamp().to_string(),
        5 => facts.event.to_owned(),
        6 => facts.attempt.to_string(),
        7 => facts.webhook_id.to_string(),
        8 => facts
            .sent_at
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
        _ => return None,
    })
}

/// The headers every attempt sends after those saying how it is signed.
pub fn attempt_headers(facts: &AttemptFacts<'_>) -> Vec<(String, String)> {
    SENT_WITH_EVERY_ATTEMPT
        .filter_map(|place| {
            Some((
                DERIVED_HEADERS[place].to_owned(),
                derived_value(place, facts)?,
            ))
        })
        .collect()
}

/// One stored header: its place in `DERIVED_HEADERS`, itself, or its name's place in
/// `KNOWN_NAMES` with its value.
#[derive(Debug, serde::Deserialize, Serialize)]
#[serde(untagged)]
enum StoredHeader {
    Derived(usize),
    Literal(String, String),
    Named(usize, String),
}

/// A stored header list (any of the forms), as `compact_header_list` writes it and a JSON
/// column gives it back, to `expand`.
#[derive(Debug, serde::Deserialize, Serialize)]
#[serde(transparent)]
pub struct StoredHeaders(Vec<StoredHeader>);

impl StoredHeaders {
    /// The headers as they were sent or received in the attempt `facts` describes.
    pub fn expand(self, facts: &AttemptFacts<'_>) -> Result<Vec<(String, String)>, String> {
        self.0
            .into_iter()
            .map(|header| match header {
                StoredHeader::Literal(name, value) => Ok((name, value)),
                StoredHeader::Derived(place) => DERIVED_HEADERS
                    .get(place)
                    .zip(derived_value(place, facts))
                    .map(|(name, value)| ((*name).to_owned(), value))
                    .ok_or_else(|| format!("stored headers: no derived header {place}")),
                StoredHeader::Named(place, value) => KNOWN_NAMES
                    .get(place)
                    .map(|name| ((*name).to_owned(), value))
                    .ok_or_else(|| format!("stored headers: no known name {place}")),
            })
            .collect()
    }
}

/// `headers`, as sent or received in the attempt `facts` describes, written to be stored: a
/// JSON list in the order they came, each header its place among the derived headers (when it
/// has the value that follows from `facts`), `[name, value]`, or — in `forms` that allow it —
/// `[place of a known name, value]`. `[0,2,3,["webhook-signature","v1,…"],4,5,6,7]` for a
/// Standard Webhooks attempt in an attempt row, `[0,2,3,[0,"v1,…"],4,5,6,7]` in a delivery's.
pub fn compact_headers(
    headers: &[(String, String)],
    facts: &AttemptFacts<'_>,
    forms: HeaderForms,
) -> String {
    // Serializing numbers and strings cannot fail.
    serde_json::to_string(&compact_header_list(headers, facts, forms)).unwrap_or_default()
}

/// `compact_headers` as a value, for a JSON column.
pub fn compact_header_list(
    headers: &[(String, String)],
    facts: &AttemptFacts<'_>,
    forms: HeaderForms,
) -> StoredHeaders {
    let stored: Vec<StoredHeader> = headers
        .iter()
        .map(|(name, value)| {
            let derived = forms.derived_places().find(|&place| {
                DERIVED_HEADERS[place] == name
                    && derived_value(place, facts).as_deref() == Some(value.as_str())
            });
            let known = (forms == HeaderForms::DeliveryRow)
                .then(|| KNOWN_NAMES.iter().position(|known| known == name))
                .flatten();
            match (derived, known) {
                (Some(place), _) => StoredHeader::Derived(place),
                (None, Some(place)) => StoredHeader::Named(place, value.clone()),
                (None, None) => StoredHeader::Literal(name.clone(), value.clone()),
            }
        })
        .collect();
    StoredHeaders(stored)
}

/// The headers `compact_headers` wrote for the attempt `facts` describes, as they were sent.
pub fn expand_headers(
    stored: &str,
    facts: &AttemptFacts<'_>,
) -> Result<Vec<(String, String)>, String> {
    serde_json::from_str::<StoredHeaders>(stored)
        .map_err(|error| format!("stored headers: {error}"))?
        .expand(facts)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::{Event, PersonId};

    impl<'a> From<&'a Event> for Subject<'a> {
        fn from(event: &'a Event) -> Self {
            Self {
                account_id: &event.account_id,
                name: &event.name,
                object_id: &event.object_id,
                actor: event.actor.as_ref(),
                payload: &event.payload,
            }
        }
    }

    /// The message as Xurrent documents it, written as a JSON value: what `message_body` must
    /// produce, to the byte.
    fn message(envelope: &Envelope<'_>, event: &Event) -> Value {
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

    fn ada() -> Actor {
        Actor {
            person_id: PersonId(
                Uuid::parse_str("0190c0de-0000-7000-8000-0000000000bb").expect("uuid"),
            ),
            person_name: "Ada Lovelace".to_owned(),
        }
    }

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
        let message = message(&envelope(), &event(Some(ada())));
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
        let event = event(None);
        let first = message_body(&envelope(), Subject::from(&event));
        assert_eq!(first, message_body(&envelope(), Subject::from(&event)));
        let parsed: Value = serde_json::from_slice(&first).expect("JSON");
        assert_eq!(parsed["event"], "scim_user.create");
    }

    #[test]
    fn the_body_is_the_documented_message_to_the_byte() {
        let mut nested = event(Some(ada()));
        nested.payload = json!({
            "z": [1, 2.5, null, "\u{e9}\"\n"], "a": { "y": true, "b": {} }, "m": "<&>",
        });
        for event in [event(None), event(Some(ada())), nested] {
            assert_eq!(
                message_body(&envelope(), Subject::from(&event)),
                serde_json::to_vec(&message(&envelope(), &event)).expect("JSON"),
            );
        }
    }

    fn facts() -> AttemptFacts<'static> {
        AttemptFacts {
            delivery_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            webhook_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002),
            event: "scim_user.create",
            attempt: 3,
            sent_at: Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).unwrap(),
        }
    }

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn headers_that_follow_from_the_attempt_are_stored_by_place() {
        let facts = facts();
        let mut headers = vec![
            pair("content-type", "application/json"),
            pair("webhook-id", &facts.delivery_id.to_string()),
            pair("webhook-timestamp", &facts.sent_at.timestamp().to_string()),
            pair("webhook-signature", "v1,abc= v1,def="),
        ];
        headers.extend(attempt_headers(&facts));
        let stored = compact_headers(&headers, &facts, HeaderForms::AttemptRow);
        assert_eq!(
            stored,
            r#"[0,2,3,["webhook-signature","v1,abc= v1,def="],4,5,6,7]"#
        );
        assert_eq!(expand_headers(&stored, &facts).unwrap(), headers);
        let kept = compact_headers(&headers, &facts, HeaderForms::DeliveryRow);
        assert_eq!(kept, r#"[0,2,3,[0,"v1,abc= v1,def="],4,5,6,7]"#);
        assert_eq!(expand_headers(&kept, &facts).unwrap(), headers);
    }

    #[test]
    fn a_delivery_row_keeps_a_receivers_answer_shorter() {
        let facts = facts();
        let headers = vec![
            pair("content-length", "0"),
            pair("date", "Sun, 06 Dec 2026 08:00:00 GMT"),
            pair("x-other", "1"),
            // A clock a second on: spelt out, so it reads back as the receiver sent it.
            pair("date", "Sun, 06 Dec 2026 08:00:01 GMT"),
        ];
        let kept = compact_headers(&headers, &facts, HeaderForms::DeliveryRow);
        assert_eq!(
            kept,
            r#"[[1,"0"],8,["x-other","1"],[3,"Sun, 06 Dec 2026 08:00:01 GMT"]]"#
        );
        assert_eq!(expand_headers(&kept, &facts).unwrap(), headers);
        // What nodes since schema 17 can read: no known names, no derived date.
        let row = compact_headers(&headers, &facts, HeaderForms::AttemptRow);
        assert!(
            row.starts_with(r#"[["content-length","0"],["date","#),
            "{row}"
        );
        assert_eq!(expand_headers(&row, &facts).unwrap(), headers);
    }

    #[test]
    fn a_header_with_another_value_is_stored_as_sent() {
        let facts = facts();
        // A JWT body's type, a timestamp and an attempt number that are not this attempt's:
        // spelt out, so reading them back can't turn them into what they "should" have been.
        let headers = vec![
            pair("content-type", "application/jwt"),
            pair("webhook-timestamp", "1"),
            pair("x-gatehouse-attempt", "2"),
            pair("X-Custom", "x"),
        ];
        let stored = compact_headers(&headers, &facts, HeaderForms::AttemptRow);
        assert_eq!(
            stored,
            r#"[1,["webhook-timestamp","1"],["x-gatehouse-attempt","2"],["X-Custom","x"]]"#
        );
        assert_eq!(expand_headers(&stored, &facts).unwrap(), headers);
        assert_eq!(expand_headers("[]", &facts).unwrap(), vec![]);
    }

    #[test]
    fn stored_headers_that_make_no_sense_are_an_error_not_a_guess() {
        assert!(expand_headers("[99]", &facts()).is_err());
        assert!(expand_headers(r#"[[99,"x"]]"#, &facts()).is_err());
        assert!(expand_headers("{}", &facts()).is_err());
    }

    #[test]
    fn the_same_facts_build_the_same_message_again() {
        let facts = EnvelopeFacts {
            webhook_name: "HR sync".to_owned(),
            base_url: "https://gatehouse.example".to_owned(),
            instance_name: "Example".to_owned(),
        };
        let event = event(Some(ada()));
        let webhook = Uuid::from_u128(7);
        let first = message_body(&facts.envelope(webhook), Subject::from(&event));
        let again = message_body(&facts.clone().envelope(webhook), Subject::from(&event));
        assert_eq!(first, again);
        let parsed: Value = serde_json::from_slice(&first).expect("JSON");
        assert_eq!(parsed["name"], "HR sync");
        assert_eq!(parsed["custom_url"], "https://gatehouse.example");
    }
}
