//! Webhook delivery: the durable state machine that sends what the outbox holds (DESIGN.md
//! principle 2). So far the pure retry schedule; the worker, signer and SSRF guard follow with
//! the webhooks work.

pub mod retry;
