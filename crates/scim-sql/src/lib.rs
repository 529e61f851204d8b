//! SCIM filters (RFC 7644 §3.4.2.2) and `sortBy` (§3.4.2.3) compiled to SQL for SQLite and
//! PostgreSQL, so the service filters and sorts in the database, using its indexes, instead
//! of loading resources and filtering in memory. The output is SQL text with `$N`
//! placeholders plus the values to bind; running it is the store's job, which keeps this
//! crate free of database dependencies. The store says where each attribute lives through a
//! `ColumnMap`; the compiler supplies SCIM's semantics (case folding per `caseExact`,
//! literal substring matching, date-times as instants, "some value matches" for
//! multi-valued attributes, absent values, `not`).

mod column;
mod comparison;
mod compile;
mod datetime;
mod dialect;
mod error;
mod expression;
mod fragment;
mod pattern;
mod sort;

#[cfg(test)]
mod rfc_examples;
#[cfg(test)]
mod test_support;

pub use column::{Column, ColumnMap, ValueKind};
pub use compile::compile_filter;
pub use dialect::Dialect;
pub use error::CompileError;
pub use fragment::{SqlFragment, SqlValue};
pub use sort::compile_sort;
