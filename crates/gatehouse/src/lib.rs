//! Gatehouse: SCIM 2.0 provisioning, webhooks and personal access tokens for an account.
//!
//! Layers point one way: `http → service → store`. `auth` holds the pure token and scope rules
//! every layer may use; `domain` the record types.

pub mod auth;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod service;
pub mod store;
pub mod telemetry;
