//! Message signing for webhook deliveries (issue 5), as pure functions over plain types
//! (docs/ARCHITECTURE.md, principle 3): nothing here does I/O except `ServerKey::load_or_create`, which reads
//! or writes the one key file.
//!
//! The algorithms and claim lifetimes a policy names are domain values
//! (`domain::policy_signing`), re-exported here for the signing code.
//! - `key`: a policy's private signing key — generated with the OS RNG, encoded as PKCS#8 to be
//!   stored encrypted, its public half as SPKI PEM and as a JWK.
//! - `jwt`: the claim set of a signed message and its compact JWS.
//! - `standard_webhooks`: HMAC signatures per the Standard Webhooks specification, for webhooks
//!   without a policy.
//! - `server_key`: the server key that encrypts signing keys at rest (docs/ARCHITECTURE.md, principle 6).
//!
//! Private material lives only in types whose `Debug` is redacted and which are zeroized on drop.

pub mod jwt;
pub mod key;
mod rng;
pub mod server_key;
pub mod standard_webhooks;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod test_keys;

pub use crate::domain::{ClaimExpiry, JwtAlgorithm, KeyFamily};
pub use jwt::{MessagePlacement, claims, sign_compact, signed_body};
pub use key::SigningKey;
pub use server_key::ServerKey;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("could not generate a {algorithm} key: {reason}")]
    KeyGeneration {
        algorithm: &'static str,
        reason: String,
    },
    #[error("the stored key is not a valid {algorithm} key: {reason}")]
    InvalidKey {
        algorithm: &'static str,
        reason: String,
    },
    #[error("could not encode the key: {0}")]
    Encoding(String),
    #[error("could not sign with {algorithm}: {reason}")]
    Signing {
        algorithm: &'static str,
        reason: String,
    },
}
