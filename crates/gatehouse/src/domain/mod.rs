//! The records Gatehouse keeps, as plain data: what every layer passes around.
//!
//! Nothing here does I/O. Ids and states are newtypes and enums so that a person id can't be
//! passed where a token id is expected and a status is never a free-form string.

mod account;
mod event;
mod event_catalog;
mod id;
pub mod message;
mod person;
mod policy_signing;
mod provisioning;
mod record_source;
mod scim_group;
mod scim_user;
mod stats;
mod token;
mod webhook;
mod webhook_policy;

pub use account::{
    ACCOUNT_ID_MAX_LENGTH, Account, AccountId, AccountIdError, RetentionDays, RetentionDaysError,
    ScimPatchResponse,
};
pub use event::{Actor, Event, NewEvent};
pub use event_catalog::{
    CATALOG, CatalogEvent, EVENT_NAME_MAX_LENGTH, EventNameError, EventPattern,
    check_custom_event_name,
};
pub use person::{Person, PersonId, PersonSource};
pub use policy_signing::{
    ClaimExpiry, ClaimExpiryInput, JwtAlgorithm, KeyFamily, PolicySettingError,
};
pub use provisioning::{
    MAX_PROVISIONING_OVERLAP_DAYS, ProvisioningCredential, ProvisioningSecret, ProvisioningSecretId,
};
pub use record_source::{RecordSource, SOURCE_ID_MAX_CHARS, SOURCE_MAX_CHARS};
pub use scim_group::{
    GroupMember, MemberType, MembershipChange, NewMember, ScimGroupId, ScimGroupRecord, UserGroup,
};
pub use scim_user::{
    CustomFieldValue, ScimUserId, ScimUserRecord, ScimValue, case_insensitive_key,
};
pub use stats::{
    AttemptCounts, HourlyAttempts, LATENCY_BOUNDS_MS, ScimChanges, day_of, hour_of, latency_bucket,
};
pub use token::{PersonalAccessToken, TokenId, TokenStatus};
pub use webhook::{
    CONSECUTIVE_FAILURES_BEFORE_DISABLE, DISABLED_EVENT, Delivery, DeliveryAttempt, DeliveryId,
    DeliveryStatus, DisabledReason, EXCEPTION_EVENT, EXCEPTION_NOTIFICATION_INTERVAL_MINUTES,
    FailureConsequences, NoticeContent, NoticeFacts, NotificationKind, URI_PASSWORD_MASK,
    VERIFICATION_VALID_HOURS, VERIFY_EVENT, WaitingReason, Webhook, WebhookHealth, WebhookId,
    WebhookNotification, failure_consequences, split_uri_password, uri_masks_password,
};
pub use webhook_policy::{
    JwtFormat, PolicyKey, WebhookPolicy, WebhookPolicyId, WebhookSecretRecord, account_issuer,
    discovery_issuer, signing_key_at,
};

use chrono::{DateTime, SubsecRound, Utc};

/// Timestamps are kept to the microsecond, the precision PostgreSQL stores, so that a record
/// reads back equal to what was written on either backend.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
