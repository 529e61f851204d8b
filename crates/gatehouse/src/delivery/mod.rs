//! Webhook delivery: the durable state machine that sends what the outbox holds (docs/ARCHITECTURE.md,
//! principle 2); the message it sends is `domain::message`. Pure parts: the retry schedule
//! (`retry`), the SSRF guard's address rules (`ssrf`) and the exception emails' text (`mail`). With I/O:
//! the HTTP sender that applies the guard to the address it connects to (`sender`), the signer
//! that signs each attempt with its policy's key or the webhook's secrets (`signer`, over the
//! pure `signing`), the mailer (`mail`) and the worker that leases, sends and records (`worker`).

pub mod mail;
pub mod ports;
pub mod retry;
pub mod sender;
pub mod signer;
pub mod signing;
pub mod ssrf;
pub mod worker;

/// Makes ring the process's TLS crypto provider. reqwest is built without one of its own (its
/// default, aws-lc-rs, needs cmake to build); every HTTP client in the process — the sender's
/// and any other — then uses ring. Safe to call many times.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
