//! Writes what we sign for checkers we did not write: `scripts/conformance/verify_jwt.py`
//! (PyJWT + cryptography) and `scripts/conformance/verify_standard_webhooks.py` (the
//! `standardwebhooks` package). Ignored in normal runs; `scripts/webhook-signing-conformance` runs it with
//! `GATEHOUSE_CONFORMANCE_DIR` set and pipes the files to the checkers.
//!
//! Each JWT line says what the checker must conclude (`expect`): `valid`, `expired` (signed
//! three hours ago with a one-minute expiry) or `wrong_audience` (checked against another
//! audience). The checker also tampers every valid token itself and expects a failure.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::ClaimExpiry;
use super::JwtAlgorithm;
use super::jwt::{MessagePlacement, claims, sign_compact};
use super::key::SigningKey;
use super::standard_webhooks::{WebhookSecret, sign_all};

const AUDIENCE: &str = "https://receiver.example/webhooks";
const ISSUER: &str = "https://gatehouse.example/accounts/acme";

fn now_secs() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

fn jwt_lines(now_secs: i64) -> Vec<Value> {
    let message = json!({
        "webhook_id": "0190a0b2-0000-7000-8000-000000000001",
        "event": "person.create",
        "payload": {"id": 7, "name": "Zoë"},
    });
    let mut lines = Vec::new();
    for algorithm in JwtAlgorithm::ALL {
        // Generated here, not shared: the checker sees a fresh key of each kind.
        let key = SigningKey::generate(algorithm).unwrap();
        let kid = format!("{}-1", algorithm.as_str());
        let verification_key = match key.public_key_pem().unwrap() {
            Some(pem) => json!({"public_key_pem": pem, "jwk": key.public_jwk(&kid)}),
            None => json!({"secret": URL_SAFE_NO_PAD.encode(&*key.to_pkcs8_der().unwrap())}),
        };
        let sign = |issued_at_secs: i64, minutes: i64| {
            let claims = claims(
                &message,
                // Xurrent's layout; the end-to-end check (scripts/webhook-signing-e2e) covers
                // the default, message keys at the top level.
                MessagePlacement::UnderData,
                ISSUER,
                Some(AUDIENCE),
                "0190a0b2-0000-7000-8000-000000000001",
                "0190a0b2-0000-7000-8000-0000000000d1",
                issued_at_secs,
                ClaimExpiry::from_minutes(minutes).ok(),
            );
            sign_compact(&key, &kid, &claims).unwrap()
        };
        let valid = sign(now_secs, 5);
        let expired = sign(now_secs - 3 * 3600, 1);
        for (token, audience, expect) in [
            (&valid, AUDIENCE, "valid"),
            (&expired, AUDIENCE, "expired"),
            (&valid, "https://someone-else.example", "wrong_audience"),
        ] {
            let mut line = json!({
                "alg": algorithm.jose_name(),
                "kid": kid,
                "token": token,
                "audience": audience,
                "issuer": ISSUER,
                "message": message,
                "expect": expect,
            });
            if let (Some(line), Some(keys)) = (line.as_object_mut(), verification_key.as_object()) {
                line.extend(keys.clone());
            }
            lines.push(line);
        }
    }
    lines
}

fn standard_webhooks_lines(now_secs: i64) -> Vec<Value> {
    let body = r#"{"event":"person.create","payload":{"id":7,"name":"Zoë"}}"#;
    let current = WebhookSecret::generate().unwrap();
    let previous = WebhookSecret::generate().unwrap();
    let stranger = WebhookSecret::generate().unwrap();
    let msg_id = "msg_0190a0b2000070008000000000000d1";
    let one = sign_all(&[&current], msg_id, now_secs, body.as_bytes());
    let rotating = sign_all(&[&current, &previous], msg_id, now_secs, body.as_bytes());
    let line = |secret: &WebhookSecret, signature: &str, body: &str, expect: &str| {
        json!({
            "secret": *secret.expose(),
            "msg_id": msg_id,
            "timestamp": now_secs,
            "body": body,
            "signature": signature,
            "expect": expect,
        })
    };
    vec![
        line(&current, &one, body, "valid"),
        line(&current, &rotating, body, "valid"),
        line(&previous, &rotating, body, "valid"),
        line(&stranger, &rotating, body, "invalid"),
        line(&current, &one, &body.replace("7", "8"), "invalid"),
    ]
}

fn write_lines(path: PathBuf, lines: &[Value]) {
    let mut file = fs::File::create(&path).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    eprintln!("wrote {} lines to {}", lines.len(), path.display());
}

#[test]
#[ignore = "writes interop vectors for scripts/conformance; run by scripts/webhook-signing-conformance"]
fn write_conformance_vectors() {
    let directory = PathBuf::from(
        std::env::var("GATEHOUSE_CONFORMANCE_DIR")
            .expect("set GATEHOUSE_CONFORMANCE_DIR to a directory"),
    );
    fs::create_dir_all(&directory).unwrap();
    let now_secs = now_secs();
    write_lines(directory.join("jwt.jsonl"), &jwt_lines(now_secs));
    write_lines(
        directory.join("standard_webhooks.jsonl"),
        &standard_webhooks_lines(now_secs),
    );
}
