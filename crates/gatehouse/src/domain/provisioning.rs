//! An account's SCIM provisioning credential (Xurrent's "SCIM token"): the one secret an
//! identity provider holds to provision the account, tied to no person, so it neither expires
//! with a person's token nor stops when someone loses a role. Rotating it makes a new secret
//! and keeps the one it replaces working for an overlap, so the identity provider can be
//! switched over without a gap. Like a token, each secret is stored only as its hash (the hash
//! is not part of these records).

use chrono::{DateTime, Utc};

use super::AccountId;
use super::id::uuid_id;

uuid_id!(
    /// The id of one secret of an account's provisioning credential.
    ProvisioningSecretId
);

/// How long at most a rotated-out secret keeps working, in days (also the default).
pub const MAX_PROVISIONING_OVERLAP_DAYS: u32 = 30;

/// One secret of the credential: the current one, or one a rotation replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisioningSecret {
    pub id: ProvisioningSecretId,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    /// Who made it: a person's name, or `None` when the command line did.
    pub created_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Set when a rotation replaced it: it keeps working until then.
    pub retires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ProvisioningSecret {
    /// Whether the secret authenticates at `now`: not revoked, and not retired by then.
    pub fn works_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.retires_at.is_none_or(|retires_at| now < retires_at)
    }
}

/// The account's credential as its administrators see it: the current secret, and the one
/// the last rotation replaced while it still works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisioningCredential {
    pub current: ProvisioningSecret,
    pub previous: Option<ProvisioningSecret>,
}

impl ProvisioningCredential {
    /// The credential the account's working secrets make, if it has a current one.
    pub fn of(secrets: Vec<ProvisioningSecret>, now: DateTime<Utc>) -> Option<Self> {
        let (mut current, mut previous) = (None, None);
        for secret in secrets.into_iter().filter(|secret| secret.works_at(now)) {
            if secret.retires_at.is_none() {
                current = Some(secret);
            } else if previous
                .as_ref()
                .is_none_or(|kept: &ProvisioningSecret| kept.created_at < secret.created_at)
            {
                previous = Some(secret);
            }
        }
        current.map(|current| Self { current, previous })
    }
}
