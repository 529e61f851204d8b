//! Symmetric signatures per the Standard Webhooks specification (v1.0.0, "Signature scheme"
//! and "Webhook headers"), for webhooks that no policy signs — so receivers can verify with the
//! official `standardwebhooks` libraries.
//!
//! The signed content is `{msg_id}.{timestamp}.{body}`, the MAC is HMAC-SHA256 keyed with the
//! decoded secret, and the header value is `v1,<base64 of the MAC>`. During a secret rotation
//! the message is signed with every live secret and the signatures are sent space-separated;
//! a receiver accepts if any one matches.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::rng::random_bytes;

/// The header carrying the message id, the same on every attempt (an idempotency key).
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's Unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How a secret is shown: `whsec_` then standard base64 of its bytes.
pub const SECRET_PREFIX: &str = "whsec_";
/// The spec's bounds on a secret's length: at least 24 bytes, at most 64 (512 bits).
pub const MIN_SECRET_BYTES: usize = 24;
pub const MAX_SECRET_BYTES: usize = 64;
/// The length of the secrets we generate: as long as the SHA-256 output.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// Standard base64 that accepts the padding present or absent, as the reference libraries do.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a secret was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("a webhook secret is base64 after \"whsec_\"")]
    NotBase64,
    #[error("a webhook secret has 24 to 64 bytes, not {0}")]
    WrongLength(usize),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// A webhook's signing secret. `Debug` is redacted; the bytes are wiped on drop. The `whsec_…`
/// form (`expose`) is for the create response and administrators, never for logs.
#[derive(Clone)]
pub struct WebhookSecret {
    bytes: Zeroizing<Vec<u8>>,
    /// The HMAC state keyed with `bytes`, cloned for each signature.
    keyed: Hmac<Sha256>,
}

impl WebhookSecret {
    /// A new random secret of `GENERATED_SECRET_BYTES` from the OS RNG.
    pub fn generate() -> Result<Self, SecretError> {
        let bytes = random_bytes(GENERATED_SECRET_BYTES)
            .map_err(|error| SecretError::Random(error.to_string()))?;
        Self::from_bytes(bytes)
    }

    /// Reads the `whsec_…` form.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let bytes = Zeroizing::new(
            SECRET_BASE64
                .decode(encoded)
                .map_err(|_| SecretError::NotBase64)?,
        );
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(SecretError::WrongLength(bytes.len()));
        }
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Result<Self, SecretError> {
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&bytes)
            .map_err(|_| SecretError::WrongLength(bytes.len()))?;
        Ok(WebhookSecret { bytes, keyed })
    }

    /// The `whsec_…` form, to show once and to store encrypted.
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(&*self.bytes)))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("WebhookSecret([redacted])")
    }
}

/// A new secret; see `WebhookSecret::generate`.
pub fn generate_secret() -> Result<WebhookSecret, SecretError> {
    WebhookSecret::generate()
}

fn mac(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> [u8; 32] {
    // Our message ids are delivery UUIDs; the spec warns that an id or timestamp containing
    // `.` would make the signed content ambiguous.
    debug_assert!(
        !msg_id.contains('.'),
        "a Standard Webhooks message id has no '.'"
    );
    let mut mac = secret.keyed.clone();
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `v1,<base64>` signature of one attempt with one secret.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(mac(secret, msg_id, timestamp_secs, body))
    )
}

/// The `webhook-signature` header value: one signature per live secret (the current one and,
/// during a rotation's overlap, the previous ones), space-separated.
pub fn sign_all(
    secrets: &[&WebhookSecret],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp_secs, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether any `v1` signature in a `webhook-signature` header value is `secret`'s over the
/// attempt, compared in constant time. Does not check the timestamp's age: that is the
/// receiver's policy (the reference libraries allow five minutes).
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
    header: &str,
) -> bool {
    let expected = mac(secret, msg_id, timestamp_secs, body);
    header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| general_purpose::STANDARD.decode(encoded).ok())
        .any(|candidate| bool::from(candidate.as_slice().ct_eq(&expected)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The known answer in the reference Python library's `test_sign_function`
    // (standard-webhooks, libraries/python/tests/test_webhooks.py).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP_SECS: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signature_matches_the_reference_librarys_known_answer() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&secret, SPEC_MSG_ID, SPEC_TIMESTAMP_SECS, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn signature_matches_pythons_hmac() {
        // python3 -c 'import hmac,hashlib,base64; k=bytes(range(32));
        //   print(base64.b64encode(hmac.new(k, b"msg_1.1700000000.{\"a\":1}", hashlib.sha256).digest()).decode())'
        let secret = WebhookSecret::parse(&format!(
            "whsec_{}",
            STANDARD.encode((0u8..32).collect::<Vec<_>>())
        ))
        .unwrap();
        assert_eq!(
            sign(&secret, "msg_1", 1_700_000_000, br#"{"a":1}"#),
            "v1,AMaOha7DUT/0J0JMycRuYOBSvbx3WtwLd2khXXbaVj4="
        );
    }

    #[test]
    fn rotation_sends_one_signature_per_secret_and_either_verifies() {
        let old = WebhookSecret::generate().unwrap();
        let new = WebhookSecret::generate().unwrap();
        let header = sign_all(&[&new, &old], "msg_1", 1_700_000_000, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|part| part.starts_with("v1,")));
        assert!(verify(&old, "msg_1", 1_700_000_000, b"{}", &header));
        assert!(verify(&new, "msg_1", 1_700_000_000, b"{}", &header));
        let stranger = WebhookSecret::generate().unwrap();
        assert!(!verify(&stranger, "msg_1", 1_700_000_000, b"{}", &header));
    }

    #[test]
    fn a_changed_body_id_or_timestamp_fails_verification() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        let verifies = |id: &str, timestamp: i64, body: &[u8], signature: &str| {
            verify(&secret, id, timestamp, body, signature)
        };
        assert!(verifies(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP_SECS,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        assert!(!verifies(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP_SECS,
            br#"{"test": 2432232315}"#,
            SPEC_SIGNATURE
        ));
        assert!(!verifies(
            "msg_other",
            SPEC_TIMESTAMP_SECS,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        assert!(!verifies(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP_SECS + 1,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        assert!(!verifies(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP_SECS,
            SPEC_BODY,
            "v1a,g0hM9SsE"
        ));
    }

    #[test]
    fn generated_secrets_round_trip_through_their_whsec_form() {
        let secret = generate_secret().unwrap();
        let shown = secret.expose();
        assert!(shown.starts_with("whsec_"));
        let again = WebhookSecret::parse(&shown).unwrap();
        assert_eq!(*again.bytes, *secret.bytes);
        assert_eq!(secret.bytes.len(), GENERATED_SECRET_BYTES);
        assert_ne!(*generate_secret().unwrap().bytes, *secret.bytes);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!").unwrap_err(),
            SecretError::NotBase64
        );
        let short = format!("whsec_{}", STANDARD.encode([1u8; 23]));
        assert_eq!(
            WebhookSecret::parse(&short).unwrap_err(),
            SecretError::WrongLength(23)
        );
        let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
        assert_eq!(
            WebhookSecret::parse(&long).unwrap_err(),
            SecretError::WrongLength(65)
        );
        // Unpadded base64 is accepted, as the reference libraries accept it.
        let unpadded = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8; 32])
        );
        assert!(WebhookSecret::parse(&unpadded).is_ok());
    }

    #[test]
    fn debug_is_redacted() {
        let secret = WebhookSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
    }
}
