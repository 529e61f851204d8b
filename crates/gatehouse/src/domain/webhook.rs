//! Webhooks, their deliveries and the attempts of each delivery, as plain records; and the
//! health rules Xurrent documents for a failing webhook (one exception notification per 20
//! minutes, disabled after 20 consecutive failed attempts).

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AccountId;
use super::id::uuid_id;

uuid_id!(
    /// The id of a webhook subscription.
    WebhookId
);

uuid_id!(
    /// The id of one delivery of an event to a webhook: minted from the time the delivery is
    /// created at (`DeliveryId::minted_at`), so that ids sort as `created_at` does.
    DeliveryId
);

impl DeliveryId {
    /// A new delivery's id for `created_at`: an RFC 9562 UUIDv7 whose 12 bits after the
    /// millisecond hold the microsecond within it ("increased clock precision", §6.2, method 3),
    /// so that deliveries created microseconds apart sort apart, in time order. Its last 62 bits
    /// count up from a random start in each process: unique, and deliveries made at one time
    /// (an event's, one per webhook) sort in the order they were made. Listings order by id
    /// alone, and their indexes hold no `created_at` (migration 0023).
    pub fn minted_at(created_at: DateTime<Utc>) -> Self {
        /// Starts below 2^61, so that it never wraps within 62 bits.
        static NEXT: LazyLock<AtomicU64> = LazyLock::new(|| {
            let start = getrandom::u64().unwrap_or_else(|_| Uuid::now_v7().as_u64_pair().1) >> 3;
            AtomicU64::new(start)
        });
        Self::from_halves(
            Self::time_half(created_at),
            NEXT.fetch_add(1, Ordering::Relaxed),
        )
    }

    /// The first 64 bits of every id minted for `created_at`: version 7, its millisecond and
    /// microsecond. A store that counts deliveries with a database sequence of its own
    /// passes this to the statement that mints their ids (PostgreSQL's published events).
    pub fn time_half(created_at: DateTime<Utc>) -> i64 {
        Self::earliest_at(created_at)
            .0
            .as_u64_pair()
            .0
            .cast_signed()
    }

    /// The id made of `time_half` and the last 62 bits of `sequence` (with the RFC 9562
    /// variant before them): what `minted_at` builds from its own count, and what SQL that
    /// counts with a sequence builds in the same way.
    pub fn from_halves(time_half: i64, sequence: u64) -> Self {
        Self(Uuid::from_u64_pair(
            time_half.cast_unsigned(),
            sequence & (u64::MAX >> 2) | 1 << 63,
        ))
    }

    /// The lowest id `minted_at` gives for `at` or any later time: bounds an index range by time.
    pub fn earliest_at(at: DateTime<Utc>) -> Self {
        const LAST_MILLISECOND: u64 = (1 << 48) - 1;
        let (millis, fraction) = match u64::try_from(at.timestamp_millis()) {
            Err(_) => (0, 0),
            Ok(millis) if millis > LAST_MILLISECOND => (LAST_MILLISECOND, 0xfff),
            // 0..=999 microseconds scaled to 0..=4091: distinct microseconds stay distinct.
            Ok(millis) => (
                millis,
                u64::from(at.timestamp_subsec_micros() % 1000) * 4096 / 1000,
            ),
        };
        let mut bytes = [0_u8; 16];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        let [.., high, low] = fraction.to_be_bytes();
        bytes[6] = 0x70 | (high & 0x0f);
        bytes[7] = low;
        bytes[8] = 0x80;
        Self(Uuid::from_bytes(bytes))
    }
}

/// After this many failed attempts in a row (across messages) a webhook is disabled.
pub const CONSECUTIVE_FAILURES_BEFORE_DISABLE: u32 = 20;

/// At most one exception notification per webhook in this many minutes.
pub const EXCEPTION_NOTIFICATION_INTERVAL_MINUTES: i64 = 20;

/// How long a verification callback works after it was sent (Xurrent: 24 hours).
pub const VERIFICATION_VALID_HOURS: i64 = 24;

/// The event name of the ownership check sent to a new or changed URI.
pub const VERIFY_EVENT: &str = "webhook.verify";
pub const EXCEPTION_EVENT: &str = "webhook.exception";
pub const DISABLED_EVENT: &str = "webhook.disabled";

/// What a password in a webhook URI reads as wherever the URI is shown.
pub const URI_PASSWORD_MASK: &str = "***";

/// A webhook URI with basic-authentication credentials, as Xurrent documents them
/// (`https://user:password@host/…`), taken apart: the URI as it is shown and stored, with
/// [`URI_PASSWORD_MASK`] for the password, and the password (decoded). A URI without a
/// password, or whose password is the mask already, is returned as it is, without one.
pub fn split_uri_password(uri: &str) -> (String, Option<String>) {
    let Ok(mut url) = url::Url::parse(uri) else {
        return (uri.to_owned(), None);
    };
    let password = match url.password() {
        Some(password) if password != URI_PASSWORD_MASK => password.to_owned(),
        _ => return (uri.to_owned(), None),
    };
    if url.set_password(Some(URI_PASSWORD_MASK)).is_err() {
        return (uri.to_owned(), None);
    }
    let decoded = percent_encoding::percent_decode_str(&password)
        .decode_utf8_lossy()
        .into_owned();
    (url.to_string(), Some(decoded))
}

/// Whether a shown URI holds the password mask: the stored password stands for it.
pub fn uri_masks_password(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|url| url.password() == Some(URI_PASSWORD_MASK))
}

/// Why a webhook is disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// An administrator disabled it.
    Manual,
    /// `CONSECUTIVE_FAILURES_BEFORE_DISABLE` attempts in a row failed.
    Failures,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Failures => "failures",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "manual" => Some(Self::Manual),
            "failures" => Some(Self::Failures),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub account_id: AccountId,
    pub name: String,
    /// What it listens to: a catalog event, `namespace.*`, or a custom event name.
    pub event: String,
    /// As every view shows it: a password in it reads `***` ([`URI_PASSWORD_MASK`]).
    pub uri: String,
    /// The URI's basic-authentication password, sealed by the server key; sent as
    /// `Authorization: Basic`, never shown.
    pub uri_password: Option<Vec<u8>>,
    pub disabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub description: Option<String>,
    pub webhook_policy_id: Option<Uuid>,
    /// Who hears about failures; empty means every account administrator.
    pub mail_exceptions_to: Vec<String>,
    /// Deliver strictly in event order, one message at a time.
    pub ordered: bool,
    /// At most this many attempts per second to this webhook (per process).
    pub rate_limit_per_second: Option<u32>,
    /// Its policy's messages name an issuer that serves the policy's public keys (OpenID
    /// Connect discovery, as Xurrent has it); only with an asymmetric policy.
    pub openid_connect_discovery: bool,
    pub source: super::RecordSource,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification_sent_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub last_exception_at: Option<DateTime<Utc>>,
    pub last_delivery_id: Option<DeliveryId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether events fan out to it and its deliveries go out.
    pub fn active(&self) -> bool {
        !self.disabled && self.verified_at.is_some()
    }

    /// When the verification callback last sent stops working; `None` when none waits.
    pub fn verification_expires_at(&self) -> Option<DateTime<Utc>> {
        match (self.verified_at, self.verification_sent_at) {
            (None, Some(sent_at)) => {
                Some(sent_at + chrono::Duration::hours(VERIFICATION_VALID_HOURS))
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Why a pending delivery is parked (not scheduled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitingReason {
    WebhookDisabled,
    WebhookUnverified,
    /// Its webhook's policy is disabled: a policy's webhook never sends unsigned.
    PolicyDisabled,
    /// Its webhook names a policy that no longer exists.
    PolicyMissing,
}

impl WaitingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebhookDisabled => "webhook_disabled",
            Self::WebhookUnverified => "webhook_unverified",
            Self::PolicyDisabled => "policy_disabled",
            Self::PolicyMissing => "policy_missing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::WebhookDisabled,
            Self::WebhookUnverified,
            Self::PolicyDisabled,
            Self::PolicyMissing,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == raw)
    }

    /// What an administrator reads.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::WebhookDisabled => {
                "the webhook is disabled; it is sent when the webhook is enabled"
            }
            Self::WebhookUnverified => {
                "the webhook's URI is not verified yet; it is sent once the verification callback is called"
            }
            Self::PolicyDisabled => {
                "the webhook's policy is disabled and its messages are never sent unsigned; it is sent when the policy is enabled or the webhook unlinked from it"
            }
            Self::PolicyMissing => {
                "the webhook's policy no longer exists; link the webhook to a policy or unlink it"
            }
        }
    }
}

/// One message for one webhook, with the outcome of its latest attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub account_id: AccountId,
    pub webhook_id: WebhookId,
    pub event_id: i64,
    pub event: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempt: u32,
    /// When the next attempt is due; `None` when done, or parked while the webhook is inactive.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The exact bytes sent, once the first attempt built them.
    pub request_body: Option<Vec<u8>>,
    pub response_status: Option<u16>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    pub redelivery_of_id: Option<DeliveryId>,
    pub redelivered_by_id: Option<DeliveryId>,
    /// Made by a test send (Xurrent's "Test mode"), not by an event that occurred.
    pub test_mode: bool,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why it is parked, when it is (read with the delivery; not stored).
    pub waiting_on: Option<WaitingReason>,
}

/// One try to send a delivery.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub request_uri: String,
    #[schema(value_type = Vec<Vec<String>>)]
    pub request_headers: Vec<(String, String)>,
    pub response_status: Option<u16>,
    #[schema(value_type = Vec<Vec<String>>)]
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub sent_at: DateTime<Utc>,
    /// The exact body this attempt sent, when it differs from the delivery's message: a
    /// signed message is signed afresh on every attempt.
    pub request_body: Option<String>,
    /// The policy whose key signed this attempt, and that key's id (the JWS `kid`).
    pub webhook_policy_id: Option<Uuid>,
    pub signing_key_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Exception,
    Disabled,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exception => "exception",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "exception" => Some(Self::Exception),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// An exception or disabled notice, kept whether or not it could be mailed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookNotification {
    pub id: Uuid,
    pub account_id: AccountId,
    pub webhook_id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub recipients: Vec<String>,
    pub content: NoticeContent,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub send_error: Option<String>,
}

/// What a notice holds: what happened, or — for a notice stored before notices kept facts —
/// the mail composed then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticeContent {
    Facts(NoticeFacts),
    Composed { subject: String, body: String },
}

/// What a notice says happened, recorded with the attempt that caused it; the delivery layer
/// composes the mail from it when the notice is sent or shown. Nothing secret: the URI's
/// password is masked, in the failure text too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFacts {
    pub webhook_name: String,
    pub webhook_uri: String,
    pub event: String,
    /// The attempt that failed, 1 for the first.
    pub attempt: u32,
    pub consecutive_failures: u32,
    /// `HTTP 503`, or the connection error's text.
    pub failure: String,
    /// When the call is tried again; `None` when it will not be.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A webhook's failure record after a batch of attempts was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookHealth {
    pub consecutive_failures: u32,
    pub disabled: bool,
    pub last_exception_at: Option<DateTime<Utc>>,
}

/// What a webhook's failures call for now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureConsequences {
    /// Send (and record) an exception notification.
    pub notify_exception: bool,
    /// Disable the webhook and send the separate "disabled" notification.
    pub disable: bool,
}

/// Xurrent's rules, after a failed attempt left `health`.
pub fn failure_consequences(health: &WebhookHealth, now: DateTime<Utc>) -> FailureConsequences {
    let interval = Duration::minutes(EXCEPTION_NOTIFICATION_INTERVAL_MINUTES);
    FailureConsequences {
        notify_exception: health
            .last_exception_at
            .is_none_or(|last| now - last >= interval),
        disable: !health.disabled
            && health.consecutive_failures >= CONSECUTIVE_FAILURES_BEFORE_DISABLE,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn delivery_ids_sort_as_the_times_they_were_minted_at() {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 4, 52, 1).unwrap();
        let times: Vec<DateTime<Utc>> = [0, 1, 2, 999, 1_000, 1_001, 59_999_999]
            .into_iter()
            .map(|micros| start + Duration::microseconds(micros))
            .collect();
        let ids: Vec<DeliveryId> = times.iter().map(|at| DeliveryId::minted_at(*at)).collect();
        for (pair, at) in ids.windows(2).zip(&times) {
            assert!(pair[0] < pair[1], "{at}: {} !< {}", pair[0], pair[1]);
        }
        for (id, at) in ids.iter().zip(&times) {
            assert_eq!(id.0.get_version_num(), 7);
            assert_eq!(id.0.get_variant(), uuid::Variant::RFC4122);
            // The millisecond a UUIDv7 reader sees is the one minted at.
            let (seconds, nanos) = id.0.get_timestamp().expect("v7").to_unix();
            assert_eq!(
                seconds * 1_000 + u64::from(nanos / 1_000_000),
                u64::try_from(at.timestamp_millis()).unwrap()
            );
            let earliest = DeliveryId::earliest_at(*at);
            assert!(earliest <= *id);
            assert!(*id < DeliveryId::earliest_at(*at + Duration::microseconds(1)));
        }
        // One time, many deliveries (an event to many webhooks): distinct, in the order made.
        let same: Vec<DeliveryId> = (0..100).map(|_| DeliveryId::minted_at(start)).collect();
        assert!(same.windows(2).all(|pair| pair[0] < pair[1]));
        // Counted by a database sequence instead: any count gives an id of the same time.
        for sequence in [0, 1, i64::MAX.cast_unsigned(), u64::MAX] {
            let id = DeliveryId::from_halves(DeliveryId::time_half(start), sequence);
            assert_eq!(id.0.get_version_num(), 7);
            assert_eq!(id.0.get_variant(), uuid::Variant::RFC4122);
            assert!(DeliveryId::earliest_at(start) <= id);
            assert!(id < DeliveryId::earliest_at(start + Duration::microseconds(1)));
        }
    }

    #[test]
    fn time_bounds_outside_the_uuid_range_clamp() {
        let before_1970 = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            DeliveryId::earliest_at(before_1970).0.as_bytes()[..8],
            [0, 0, 0, 0, 0, 0, 0x70, 0]
        );
        let far = DateTime::<Utc>::MAX_UTC;
        let ceiling = DeliveryId::earliest_at(far);
        assert!(DeliveryId::minted_at(Utc::now()) < ceiling);
        assert_eq!(
            ceiling.0.as_bytes()[..8],
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]
        );
    }

    #[test]
    fn a_uri_password_is_taken_apart_and_masked() {
        let (shown, password) =
            split_uri_password("https://alice:s3cr%40t@hooks.example.com/in?x=1");
        assert_eq!(shown, "https://alice:***@hooks.example.com/in?x=1");
        assert_eq!(password.as_deref(), Some("s3cr@t"));
        assert!(uri_masks_password(&shown));
        for unchanged in [
            "https://hooks.example.com/in",
            "https://alice@hooks.example.com/in",
            "https://alice:***@hooks.example.com/in",
            "not a uri",
        ] {
            assert_eq!(split_uri_password(unchanged), (unchanged.to_owned(), None));
        }
        assert!(!uri_masks_password("https://alice@hooks.example.com/in"));
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 12, minute, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn first_failure_notifies_then_not_again_for_twenty_minutes() {
        let mut health = WebhookHealth {
            consecutive_failures: 1,
            disabled: false,
            last_exception_at: None,
        };
        assert!(failure_consequences(&health, at(0)).notify_exception);
        health.last_exception_at = Some(at(0));
        assert!(!failure_consequences(&health, at(19)).notify_exception);
        assert!(failure_consequences(&health, at(20)).notify_exception);
    }

    #[test]
    fn twentieth_consecutive_failure_disables_once() {
        let mut health = WebhookHealth {
            consecutive_failures: 19,
            disabled: false,
            last_exception_at: None,
        };
        assert!(!failure_consequences(&health, at(0)).disable);
        health.consecutive_failures = 20;
        assert!(failure_consequences(&health, at(0)).disable);
        health.disabled = true;
        health.consecutive_failures = 21;
        assert!(!failure_consequences(&health, at(0)).disable);
    }
}
