//! Every black-box test of the service and CLI, in one test binary that links the whole stack
//! once: one module per area, and `common`, the harness they share. Run one area with
//! `cargo nextest run -p gatehouse --test it -E 'test(/^api::/)'` (or `cargo test --test it api::`).

#[macro_use]
mod common;

mod api;
mod api_docs;
mod api_scim;
mod cli;
mod console;
mod delivery_sender;
mod look_alike_identities;
mod openapi;
mod openapi_examples;
mod operations;
mod readme;
mod retention;
mod scim_bulk;
mod scim_discovery;
mod scim_groups;
mod scim_pagination;
mod scim_recorded_clients;
mod scim_token;
mod scim_users;
mod scim_xurrent;
mod security;
mod store;
mod store_scim;
mod store_webhooks;
mod upgrade;
mod webhook_policies;
mod webhooks;
mod webhooks_cluster;
