//! A `ColumnMap` for the RFC 7643 §4.1 User as a store might lay it out, shared by the SQL
//! tests: a `users u` table with a folded, indexed key of `userName`, and the
//! multi-valued `emails`, `ims` and `schemas` as rows of one `user_values` child table told
//! apart by its `attribute` column. Multi-valued attributes are answered only by their own
//! name, so the tests also cover the compiler's fallback for `emails.type`.

use super::column::{Column, ColumnMap, ValueKind};
use super::dialect::Dialect;
use super::fragment::{SqlFragment, SqlValue};
use scim::filter::{AttributePath, parse_filter};

const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const CASE_IGNORED: ValueKind = ValueKind::String { case_exact: false };
const CASE_EXACT: ValueKind = ValueKind::String { case_exact: true };

pub(crate) struct UserColumns;

fn scalar(expression: &str, kind: ValueKind) -> Column {
    Column::Scalar {
        expression: expression.to_owned(),
        kind,
        lowered: None,
    }
}

fn multi_valued(attribute_name: &str, sub_attributes: &[(&str, &str, ValueKind)]) -> Column {
    Column::MultiValued {
        table: "user_values".to_owned(),
        owner_column: "user_id".to_owned(),
        owner_expression: "u.id".to_owned(),
        attribute_name: attribute_name.to_owned(),
        sub_attributes: sub_attributes
            .iter()
            .map(|(name, column, kind)| ((*name).to_owned(), (*column).to_owned(), *kind))
            .collect(),
    }
}

/// `emails` and `ims`: RFC 7643 §4.1.2 makes `value`, `type` and `display` case-insensitive.
fn contact(attribute_name: &str) -> Column {
    multi_valued(
        attribute_name,
        &[
            ("value", "value", CASE_IGNORED),
            ("display", "display", CASE_IGNORED),
            ("type", "type", CASE_IGNORED),
            ("primary", "\"primary\"", ValueKind::Boolean),
        ],
    )
}

impl ColumnMap for UserColumns {
    fn column(&self, path: &AttributePath) -> Option<Column> {
        if let Some(schema_urn) = &path.schema_urn
            && !schema_urn.eq_ignore_ascii_case(CORE_USER_SCHEMA)
        {
            return None;
        }
        let attribute = path.attribute.to_ascii_lowercase();
        let sub_attribute = path.sub_attribute.as_deref().map(str::to_ascii_lowercase);
        let column = match (attribute.as_str(), sub_attribute.as_deref()) {
            ("username", None) => Column::Scalar {
                expression: "u.user_name".to_owned(),
                kind: CASE_IGNORED,
                lowered: Some("u.user_name_lower".to_owned()),
            },
            ("externalid", None) => scalar("u.external_id", CASE_EXACT),
            ("name", Some("familyname")) => scalar("u.family_name", CASE_IGNORED),
            ("title", None) => scalar("u.title", CASE_IGNORED),
            ("usertype", None) => scalar("u.user_type", CASE_IGNORED),
            ("profileurl", None) => {
                scalar("u.profile_url", ValueKind::Reference { case_exact: false })
            }
            ("id", None) => scalar("u.id", ValueKind::Identifier),
            ("active", None) => scalar("u.active", ValueKind::Boolean),
            ("logincount", None) => scalar("u.login_count", ValueKind::Integer),
            ("riskscore", None) => scalar("u.risk_score", ValueKind::Decimal),
            ("meta", Some("lastmodified")) => scalar("u.last_modified", ValueKind::DateTime),
            ("emails", None) => contact("emails"),
            ("ims", None) => contact("ims"),
            ("schemas", None) => multi_valued(
                "schemas",
                &[("value", "value", ValueKind::Reference { case_exact: true })],
            ),
            _ => return None,
        };
        Some(column)
    }
}

/// Parses `filter` and compiles it against `UserColumns` with placeholders from `$1`.
pub(crate) fn compiled(filter: &str, dialect: Dialect) -> SqlFragment {
    match try_compiled(filter, dialect) {
        Ok(fragment) => fragment,
        Err(error) => panic!("{filter}: {error}"),
    }
}

/// Like `compiled`, but returns the compile error (parse errors still panic).
pub(crate) fn try_compiled(
    filter: &str,
    dialect: Dialect,
) -> Result<SqlFragment, super::error::CompileError> {
    let parsed = match parse_filter(filter) {
        Ok(parsed) => parsed,
        Err(error) => panic!("{filter}: {error}"),
    };
    super::compile_filter(&parsed, &UserColumns, dialect, 1)
}

pub(crate) fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

/// Asserts the SQL and binds `filter` compiles to.
#[track_caller]
pub(crate) fn assert_compiles(filter: &str, dialect: Dialect, sql: &str, binds: &[SqlValue]) {
    let fragment = compiled(filter, dialect);
    assert_eq!(fragment.sql, sql, "{filter} on {dialect:?}");
    assert_eq!(fragment.binds, binds, "{filter} on {dialect:?}");
}

/// Asserts that `filter` compiles to the same SQL and binds on both dialects.
#[track_caller]
pub(crate) fn assert_compiles_on_both(filter: &str, sql: &str, binds: &[SqlValue]) {
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        assert_compiles(filter, dialect, sql, binds);
    }
}
