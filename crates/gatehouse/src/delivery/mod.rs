//! Webhook delivery: the durable state machine that sends what the outbox holds (DESIGN.md
//! principle 2). So far its pure parts: the message envelope, the retry schedule and the SSRF
//! guard's address rules, and the exception emails (`mail`); the worker and the signer come with
//! the webhooks and policies work.

pub mod mail;
pub mod message;
pub mod retry;
pub mod ssrf;
