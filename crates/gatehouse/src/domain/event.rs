//! Events: the outbox rows every changing command appends in its own transaction
//! (docs/ARCHITECTURE.md, principle 1). Webhooks consume them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{AccountId, PersonId};

/// Who caused an event; absent for changes made by the admin CLI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub person_id: PersonId,
    pub person_name: String,
}

/// An event as a command describes it, before the store gives it an id.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub account_id: AccountId,
    /// `person.create`, `personal_access_token.revoke`, …
    pub name: String,
    pub object_id: String,
    pub actor: Option<Actor>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// A test send (`POST /v1/webhooks/{id}/test`): the event goes to this webhook alone, in
    /// test mode, whatever else listens to its name.
    pub test_for: Option<Uuid>,
}

impl NewEvent {
    pub fn new(
        account_id: &AccountId,
        name: &str,
        object_id: impl ToString,
        actor: Option<&Actor>,
        payload: serde_json::Value,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            account_id: account_id.clone(),
            name: name.to_owned(),
            object_id: object_id.to_string(),
            actor: actor.cloned(),
            payload,
            created_at,
            test_for: None,
        }
    }

    /// The webhook a notice about a failing webhook (`webhook.exception`, `webhook.disabled`)
    /// is about: that webhook never gets it, whatever it listens to.
    pub fn notice_about_webhook(&self) -> Option<Uuid> {
        (self.name == super::EXCEPTION_EVENT || self.name == super::DISABLED_EVENT)
            .then(|| Uuid::parse_str(&self.object_id).ok())
            .flatten()
    }
}

/// An event as stored: ids grow with commit order within one backend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub account_id: AccountId,
    pub name: String,
    pub object_id: String,
    pub actor: Option<Actor>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}
