//! The JWT a webhook policy turns a message into (docs/PRODUCT.md "Webhook policies"): a compact
//! JWS (RFC 7515) whose claims hold the message under `data` (Xurrent's wrapper format, the
//! default) or its keys at the top level, plus `jti` (the delivery id, the same on every
//! retry), `sub` (the webhook id), `iss` (the account's base URL), `aud` (the policy's
//! audience, when it has one), and `iat` = `nbf` from the moment of the attempt, with `exp` only
//! when the policy sets `jwt_claim_expires_in` (as Xurrent does) — each attempt is signed
//! afresh, so a retry after an hour is not born expired.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use super::key::SigningKey;
use super::{ClaimExpiry, SigningError};

/// Where the message goes in the claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessagePlacement {
    /// Each key of the message is a claim (the body is the JWS itself).
    TopLevel,
    /// The message is the `data` claim (Xurrent's `{"jwt": …}` wrapper).
    UnderData,
}

/// The claim set of one signed attempt. `audience` is left out when the policy has none (a
/// verifier then must not expect one). Times are Unix seconds; `nbf` equals `iat`, and
/// receivers are expected to allow a little clock skew.
#[allow(clippy::too_many_arguments)] // each is a distinct claim
pub fn claims(
    message: &Value,
    placement: MessagePlacement,
    issuer: &str,
    audience: Option<&str>,
    subject: &str,
    jwt_id: &str,
    issued_at_secs: i64,
    expires_in: Option<ClaimExpiry>,
) -> Value {
    let mut claims = Map::new();
    match (placement, message) {
        (MessagePlacement::TopLevel, Value::Object(fields)) => claims.extend(fields.clone()),
        _ => {
            claims.insert("data".to_owned(), message.clone());
        }
    }
    claims.insert("jti".to_owned(), Value::from(jwt_id));
    claims.insert("sub".to_owned(), Value::from(subject));
    claims.insert("iss".to_owned(), Value::from(issuer));
    if let Some(audience) = audience.filter(|audience| !audience.is_empty()) {
        claims.insert("aud".to_owned(), Value::from(audience));
    }
    claims.insert("iat".to_owned(), Value::from(issued_at_secs));
    claims.insert("nbf".to_owned(), Value::from(issued_at_secs));
    if let Some(expires_in) = expires_in {
        claims.insert(
            "exp".to_owned(),
            Value::from(issued_at_secs.saturating_add(expires_in.seconds())),
        );
    }
    Value::Object(claims)
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// `claims` signed by `key` as a compact JWS: `base64url(header).base64url(claims).
/// base64url(signature)`, the header `{"alg", "typ": "JWT", "kid"}`. `kid` names the key so a
/// receiver can tell which one signed during a rotation's overlap.
pub fn sign_compact(key: &SigningKey, kid: &str, claims: &Value) -> Result<String, SigningError> {
    let header = Header {
        alg: key.algorithm().jose_name(),
        typ: "JWT",
        kid,
    };
    let encode_failed = |error: serde_json::Error| SigningError::Encoding(error.to_string());
    let header_json = serde_json::to_vec(&header).map_err(encode_failed)?;
    let claims_json = serde_json::to_vec(claims).map_err(encode_failed)?;
    let mut token = URL_SAFE_NO_PAD.encode(header_json);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The body a signed delivery sends: `{"jwt": "<compact JWS>"}` (docs/PRODUCT.md).
pub fn signed_body(token: &str) -> Vec<u8> {
    // Serializing a one-string object cannot fail.
    serde_json::to_vec(&serde_json::json!({ "jwt": token })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::delivery::signing::JwtAlgorithm;
    use crate::delivery::signing::test_keys::{test_key, verify_for_tests};

    fn sample_claims(issued_at_secs: i64) -> Value {
        claims(
            &json!({"event": "person.create", "payload": {"id": 7}}),
            MessagePlacement::UnderData,
            "https://gatehouse.example/accounts/acme",
            Some("https://receiver.example"),
            "0190a0b2-0000-7000-8000-000000000001",
            "0190a0b2-0000-7000-8000-0000000000d1",
            issued_at_secs,
            ClaimExpiry::from_minutes(5).ok(),
        )
    }

    fn split(token: &str) -> (Value, Value, Vec<u8>) {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        (header, claims, URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
    }

    #[test]
    fn claims_hold_the_message_under_data_and_the_registered_claims() {
        let claims = sample_claims(1_700_000_000);
        assert_eq!(claims["data"]["event"], "person.create");
        assert_eq!(claims["data"]["payload"]["id"], 7);
        assert_eq!(claims["jti"], "0190a0b2-0000-7000-8000-0000000000d1");
        assert_eq!(claims["sub"], "0190a0b2-0000-7000-8000-000000000001");
        assert_eq!(claims["iss"], "https://gatehouse.example/accounts/acme");
        assert_eq!(claims["aud"], "https://receiver.example");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nbf"], 1_700_000_000);
        assert_eq!(claims["exp"], 1_700_000_000 + 5 * 60);
    }

    #[test]
    fn top_level_claims_hold_the_message_keys_and_registered_claims_win() {
        let expiry = ClaimExpiry::from_minutes(2).ok();
        let message = json!({"event": "person.create", "payload": {"id": 7}, "jti": "forged"});
        let claims = claims(
            &message,
            MessagePlacement::TopLevel,
            "iss",
            Some("aud"),
            "sub",
            "delivery-1",
            100,
            expiry,
        );
        assert_eq!(claims["event"], "person.create");
        assert_eq!(claims["payload"]["id"], 7);
        assert_eq!(claims["jti"], "delivery-1");
        assert_eq!(claims["exp"], 100 + 120);
        assert!(claims.get("data").is_none());
    }

    #[test]
    fn no_audience_means_no_aud_claim() {
        let expiry = ClaimExpiry::from_minutes(1).ok();
        for audience in [None, Some("")] {
            let claims = claims(
                &json!({}),
                MessagePlacement::TopLevel,
                "iss",
                audience,
                "sub",
                "jti",
                0,
                expiry,
            );
            assert!(claims.get("aud").is_none());
        }
    }

    #[test]
    fn no_claim_expiry_means_no_exp_claim() {
        let claims = claims(
            &json!({"event": "person.create"}),
            MessagePlacement::UnderData,
            "iss",
            None,
            "sub",
            "jti",
            100,
            None,
        );
        assert!(claims.get("exp").is_none(), "{claims}");
        assert_eq!(
            (claims["iat"].clone(), claims["nbf"].clone()),
            (json!(100), json!(100))
        );
    }

    #[test]
    fn every_algorithm_makes_a_compact_jws_its_key_verifies() {
        let claims = sample_claims(1_700_000_000);
        for algorithm in JwtAlgorithm::ALL {
            let key = test_key(algorithm);
            let token = sign_compact(&key, "policy-1-key-1", &claims).unwrap();
            let (header, decoded_claims, signature) = split(&token);
            assert_eq!(
                header,
                json!({"alg": algorithm.jose_name(), "typ": "JWT", "kid": "policy-1-key-1"})
            );
            assert_eq!(decoded_claims, claims);
            let signing_input = &token[..token.rfind('.').unwrap()];
            assert!(
                verify_for_tests(&key, signing_input.as_bytes(), &signature),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn a_tampered_payload_fails_verification() {
        for algorithm in [
            JwtAlgorithm::Rs256,
            JwtAlgorithm::Es256,
            JwtAlgorithm::EdDsa,
            JwtAlgorithm::Hs256,
        ] {
            let key = test_key(algorithm);
            let token = sign_compact(&key, "k", &sample_claims(1_700_000_000)).unwrap();
            let (_, _, signature) = split(&token);
            let tampered = sign_compact(&key, "k", &sample_claims(1_700_000_001)).unwrap();
            let tampered_input = &tampered[..tampered.rfind('.').unwrap()];
            assert!(
                !verify_for_tests(&key, tampered_input.as_bytes(), &signature),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn ecdsa_signatures_are_raw_r_and_s_not_der() {
        for (algorithm, bytes) in [
            (JwtAlgorithm::Es256, 64),
            (JwtAlgorithm::Es384, 96),
            (JwtAlgorithm::Es512, 132),
        ] {
            let key = test_key(algorithm);
            for issued_at_secs in 0..20 {
                let token = sign_compact(&key, "k", &sample_claims(issued_at_secs)).unwrap();
                let (_, _, signature) = split(&token);
                // A DER signature starts with a SEQUENCE tag (0x30) and varies in length.
                assert_eq!(signature.len(), bytes, "{algorithm}");
            }
        }
    }

    #[test]
    fn signed_body_wraps_the_token() {
        let body: Value = serde_json::from_slice(&signed_body("a.b.c")).unwrap();
        assert_eq!(body, json!({"jwt": "a.b.c"}));
    }
}
