//! SCIM 2.0 protocol (RFC 7643, RFC 7644) as pure functions over plain types: schemas, resource
//! types, the filter grammar and its AST, PATCH application and SCIM errors. No I/O, so it can
//! be unit-tested, fuzzed and benchmarked on its own; `gatehouse` depends on it, never the
//! other way round. It is filled in by the SCIM provisioning work.

pub mod bulk;
pub mod error;
pub mod filter;
pub mod json;
pub mod patch;
pub mod path;
pub mod projection;
pub mod schema;
pub mod sql;
pub mod text;
