//! The SCIM filter language of RFC 7644 §3.4.2.2: parsing client-supplied filter text into a
//! `Filter` tree, with hard limits on length, nesting and term count so hostile input costs
//! bounded time and stack, and rendering a tree back to text that re-parses to the same tree.
//! Schema checks (does `emails.type` exist?) and evaluation or SQL compilation are left to
//! callers, which walk the tree via `Filter::attribute_paths` and friends.
//!
//! Every `FilterError` maps to SCIM `scimType: invalidFilter`; the HTTP status is the caller's.

mod ast;
mod attribute_path;
mod display;
mod error;
mod lexer;
mod limits;
mod literal;
mod parse;

pub use ast::{AttributeReference, CompareOperator, ComparisonValue, Filter};
pub use attribute_path::AttributePath;
pub use error::{FilterError, FilterErrorKind};
pub use limits::FilterLimits;
pub(crate) use limits::outside_string_literals;

use parse::{Grammar, parse};

/// Parses a `filter` query parameter (already URL-decoded) under `FilterLimits::default()`.
pub fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    parse_filter_with(text, &FilterLimits::default())
}

/// Parses a `filter` query parameter (already URL-decoded) under the given limits.
pub fn parse_filter_with(text: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    parse(text, limits, Grammar::Filter)
}

/// Parses the `valFilter` between the brackets of a PATCH path such as
/// `emails[type eq "work"].value`: the same grammar as a filter, except that it may not
/// contain a value path. Positions in errors are relative to `text`.
pub fn parse_value_filter_with(text: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    parse(text, limits, Grammar::ValueFilter)
}
