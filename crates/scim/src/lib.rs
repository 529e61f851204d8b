//! SCIM 2.0 protocol (RFC 7643, RFC 7644) as pure functions over plain types: schemas, resource
//! types, the filter grammar and its AST, PATCH application, SCIM errors, strict JSON bodies
//! and the Unicode folding identifiers are compared by. No I/O and no database (`scim-sql`
//! compiles filters to SQL), so it can be unit-tested, fuzzed and benchmarked on its own;
//! `gatehouse` depends on it, never the other way round.

pub mod bulk;
pub mod error;
pub mod filter;
pub mod json;
pub mod patch;
pub mod path;
pub mod projection;
pub mod schema;
pub mod text;
