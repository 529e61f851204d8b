//! Webhook policies (docs/PRODUCT.md "Webhook policies"): which algorithm signs the messages of
//! the webhooks linked to a policy, how long a signed message stays valid, for which audience,
//! and the policy's key pairs — the current one and, during a rotation's overlap, the next.
//!
//! Also a webhook's Standard Webhooks signing secrets, which sign what no policy signs.
//! Private material appears here only encrypted (`sealed`); `delivery::signing` opens it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::id::uuid_id;
use super::{AccountId, WebhookId};
use super::{ClaimExpiry, JwtAlgorithm};

uuid_id!(
    /// The id of a webhook policy.
    WebhookPolicyId
);

/// How a signed message travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JwtFormat {
    /// The body is the compact JWS itself (`Content-Type: application/jwt`); its claims hold
    /// the message's keys at the top level.
    Jwt,
    /// Xurrent's JSON wrapper: `{"jwt": "<compact JWS>"}` (`Content-Type: application/json`),
    /// the message under the `data` claim. The default, so a Xurrent receiver works unchanged.
    #[default]
    Xurrent,
}

impl JwtFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Xurrent => "xurrent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "jwt" => Some(Self::Jwt),
            "xurrent" => Some(Self::Xurrent),
            _ => None,
        }
    }
}

/// The account's URL, which signed messages name as their `iss` (Xurrent's account URL).
pub fn account_issuer(base_url: &str, account: &AccountId) -> String {
    format!("{base_url}/accounts/{account}")
}

/// The OpenID Connect issuer of a policy's messages when their webhook asks for discovery:
/// the account's URL, `/webhook_policies/`, and the policy's name (percent-encoded, so any name
/// makes one path segment). It serves `/.well-known/openid-configuration` and `/jwks`.
pub fn discovery_issuer(base_url: &str, account: &AccountId, policy_name: &str) -> String {
    let mut issuer = account_issuer(base_url, account);
    issuer.push_str("/webhook_policies/");
    for byte in policy_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            issuer.push(char::from(byte));
        } else {
            issuer.push_str(&format!("%{byte:02X}"));
        }
    }
    issuer
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookPolicy {
    pub id: WebhookPolicyId,
    pub account_id: AccountId,
    pub name: String,
    pub jwt_alg: JwtAlgorithm,
    /// The `exp` claim's distance from `iat`; `None` sends no `exp` (Xurrent's default).
    pub jwt_claim_expires_in: Option<ClaimExpiry>,
    /// The `aud` claim; `None` sends none.
    pub jwt_audience: Option<String>,
    pub jwt_format: JwtFormat,
    pub source: super::RecordSource,
    /// While disabled, the linked webhooks' deliveries wait: they are never sent unsigned.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One key pair of a policy. The key with the latest `active_from` not in the future signs;
/// a rotation adds a key whose `active_from` is the end of the overlap.
#[derive(Clone, PartialEq, Eq)]
pub struct PolicyKey {
    /// The JWS `kid`: `<policy id>.<n>`, unique across policies.
    pub id: String,
    pub policy_id: WebhookPolicyId,
    pub jwt_alg: JwtAlgorithm,
    /// The private key (PKCS#8 DER, or the HMAC secret) sealed by the server key, bound to
    /// `id` as associated data.
    pub sealed: Vec<u8>,
    pub active_from: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for PolicyKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PolicyKey")
            .field("id", &self.id)
            .field("policy_id", &self.policy_id)
            .field("jwt_alg", &self.jwt_alg)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

/// A webhook's Standard Webhooks signing secret, sealed by the server key. Live until
/// `expires_at` (`None`: the current one).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecretRecord {
    pub id: Uuid,
    pub webhook_id: WebhookId,
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for WebhookSecretRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookSecretRecord")
            .field("id", &self.id)
            .field("webhook_id", &self.webhook_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The key among `keys` that signs at `now`: the one with the latest `active_from` not after
/// `now`.
pub fn signing_key_at(keys: &[PolicyKey], now: DateTime<Utc>) -> Option<&PolicyKey> {
    keys.iter()
        .filter(|key| key.active_from <= now)
        .max_by_key(|key| (key.active_from, key.created_at))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn key(id: &str, active_from: DateTime<Utc>) -> PolicyKey {
        PolicyKey {
            id: id.to_owned(),
            policy_id: WebhookPolicyId(Uuid::nil()),
            jwt_alg: JwtAlgorithm::Es256,
            sealed: Vec::new(),
            active_from,
            created_at: active_from,
        }
    }

    #[test]
    fn the_newest_active_key_signs_and_a_future_one_waits() {
        let now = Utc::now();
        let keys = [
            key("old", now - Duration::hours(2)),
            key("current", now - Duration::hours(1)),
            key("next", now + Duration::hours(1)),
        ];
        assert_eq!(signing_key_at(&keys, now).unwrap().id, "current");
        assert_eq!(
            signing_key_at(&keys, now + Duration::hours(1)).unwrap().id,
            "next"
        );
        assert!(signing_key_at(&keys, now - Duration::hours(3)).is_none());
    }

    #[test]
    fn formats_round_trip() {
        for format in [JwtFormat::Jwt, JwtFormat::Xurrent] {
            assert_eq!(JwtFormat::parse(format.as_str()), Some(format));
        }
        assert_eq!(JwtFormat::parse("json"), None);
    }

    #[test]
    fn debug_never_shows_sealed_material() {
        // A fixed clock: the text must not depend on when the test runs.
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let sealed = b"SEALED-BYTES".to_vec();
        // How the bytes would look if a field leaked them: `[83, 69, 65, …]`, hex or text.
        let renderings = [
            format!("{sealed:?}"),
            sealed
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            hex::encode(&sealed),
            "SEALED".to_owned(),
        ];
        let mut policy_key = key("k", at);
        policy_key.sealed = sealed.clone();
        let secret = WebhookSecretRecord {
            id: Uuid::nil(),
            webhook_id: WebhookId(Uuid::nil()),
            sealed,
            created_at: at,
            expires_at: Some(at),
        };
        for text in [format!("{policy_key:?}"), format!("{secret:?}")] {
            for rendering in &renderings {
                assert!(
                    !text.contains(rendering.as_str()),
                    "{text} shows {rendering}"
                );
            }
        }
    }
}
