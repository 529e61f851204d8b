//! `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3) as `ORDER BY` terms, so sorting happens in the
//! database together with filtering and paging. The RFC's rules, and how they map:
//!
//! * Strings sort case-insensitively unless `caseExact`, "with no specific locale implied":
//!   the lowered column (or `lower(…)`), compared by code point (`COLLATE "C"` on
//!   PostgreSQL, SQLite's BINARY as is), so both backends return the same order.
//! * "if there is no data for the specified sortBy value, they are ordered last if ascending
//!   and first if descending": SQLite sorts NULL first and PostgreSQL last by default, so an
//!   explicit `CASE WHEN … IS NULL THEN 1 ELSE 0 END` term comes first and takes the same
//!   direction. An empty string counts as no data, as it does for `pr`.
//! * A multi-valued attribute sorts by "the value of the primary attribute, if any, or else
//!   the first value in the list". Child rows carry no list position, so "first" is taken to
//!   be the smallest value, which at least makes the order deterministic.

use super::column::{ChildRows, Column, ColumnMap, ValueKind, resolve};
use super::compile::DEFAULT_SUB_ATTRIBUTE;
use super::dialect::Dialect;
use super::error::CompileError;
use scim::filter::AttributePath;

/// The sub-attribute that marks the preferred value of a multi-valued attribute.
const PRIMARY_SUB_ATTRIBUTE: &str = "primary";

/// The `ORDER BY` terms (without the keywords `ORDER BY`) that sort resources by `path`.
///
/// Two terms: the no-data indicator and the value, e.g. for ascending `userName`
/// `CASE WHEN u.user_name_lower IS NULL OR u.user_name_lower = '' THEN 1 ELSE 0 END ASC,
/// NULLIF(u.user_name_lower, '') ASC`. The caller should append a unique column (`, u.id`) so that paging
/// with `startIndex` sees ties in a stable order.
pub fn compile_sort(
    path: &AttributePath,
    descending: bool,
    columns: &dyn ColumnMap,
    dialect: Dialect,
) -> Result<String, CompileError> {
    let column =
        resolve(columns, path).ok_or_else(|| CompileError::UnknownAttribute(path.to_string()))?;
    let key = match &column {
        Column::Scalar {
            expression,
            kind,
            lowered,
        } => scalar_key(expression, *kind, lowered.as_deref()),
        Column::MultiValued { .. } => {
            let rows = ChildRows::of(&column)
                .ok_or_else(|| CompileError::UnknownAttribute(path.to_string()))?;
            let sub_attribute = path
                .sub_attribute
                .as_deref()
                .unwrap_or(DEFAULT_SUB_ATTRIBUTE);
            let (expression, kind) = rows.sub_attribute(sub_attribute).ok_or_else(|| {
                CompileError::UnknownAttribute(format!(
                    "{}.{sub_attribute}",
                    path_without_sub(path)
                ))
            })?;
            multi_valued_key(rows, &expression, kind, dialect)
        }
    };
    let direction = if descending { "DESC" } else { "ASC" };
    let ordered = if key.is_text {
        dialect.ordered_text(&key.expression)
    } else {
        key.expression.clone()
    };
    Ok(format!(
        "CASE WHEN {} THEN 1 ELSE 0 END {direction}, {ordered} {direction}",
        key.no_data
    ))
}

/// What resources are ordered by.
struct SortKey {
    expression: String,
    /// True when the resource has no data to sort by.
    no_data: String,
    is_text: bool,
}

fn path_without_sub(path: &AttributePath) -> AttributePath {
    AttributePath {
        schema_urn: path.schema_urn.clone(),
        attribute: path.attribute.clone(),
        sub_attribute: None,
    }
}

/// The value to order by for a text column: its case-folded form unless case-exact.
fn folded(expression: &str, kind: ValueKind, lowered: Option<&str>) -> String {
    match (kind.text_case_exact(), lowered) {
        (Some(false), Some(lowered)) => lowered.to_owned(),
        (Some(false), None) => format!("lower({expression})"),
        _ => expression.to_owned(),
    }
}

fn scalar_key(expression: &str, kind: ValueKind, lowered: Option<&str>) -> SortKey {
    let key = folded(expression, kind, lowered);
    let is_text = kind.text_case_exact().is_some();
    if !is_text {
        return SortKey {
            no_data: format!("{key} IS NULL"),
            expression: key,
            is_text,
        };
    }
    // NULLIF makes '' and NULL equal in the value term too. Otherwise the backends would
    // order them differently inside the no-data group (PostgreSQL puts NULL after '' when
    // ascending, SQLite before), and a tie-breaking column could not make them agree.
    SortKey {
        no_data: format!("{key} IS NULL OR {key} = ''"),
        expression: format!("NULLIF({key}, '')"),
        is_text,
    }
}

/// `(SELECT <key> FROM <rows> WHERE <has data> ORDER BY <primary first>, <key> LIMIT 1)`:
/// the primary value's key if it has one, else the smallest key. Rows without data are
/// skipped inside, so the subquery is NULL exactly when the resource has no data.
fn multi_valued_key(
    rows: ChildRows<'_>,
    expression: &str,
    kind: ValueKind,
    dialect: Dialect,
) -> SortKey {
    let key = folded(expression, kind, None);
    let is_text = kind.text_case_exact().is_some();
    let has_data = if is_text {
        // NULL <> '' is NULL, so this also skips NULLs.
        format!("{key} <> ''")
    } else {
        format!("{key} IS NOT NULL")
    };
    let primary_first = match rows.sub_attribute(PRIMARY_SUB_ATTRIBUTE) {
        // A NULL `primary` means not primary: CASE WHEN NULL takes the ELSE branch.
        Some((primary, ValueKind::Boolean)) => {
            format!("CASE WHEN {primary} THEN 0 ELSE 1 END, ")
        }
        _ => String::new(),
    };
    let ordered_key = if is_text {
        dialect.ordered_text(&key)
    } else {
        key.clone()
    };
    let subquery = format!(
        "(SELECT {key} FROM {} WHERE {} AND {has_data} ORDER BY {primary_first}{ordered_key} \
         LIMIT 1)",
        rows.aliased_table(),
        rows.owner_condition(),
    );
    SortKey {
        no_data: format!("{subquery} IS NULL"),
        expression: subquery,
        is_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::UserColumns;

    fn sorted(path: &str, descending: bool, dialect: Dialect) -> String {
        let path = match AttributePath::parse(path) {
            Ok(path) => path,
            Err(error) => panic!("{path}: {error}"),
        };
        match compile_sort(&path, descending, &UserColumns, dialect) {
            Ok(sql) => sql,
            Err(error) => panic!("{path}: {error}"),
        }
    }

    #[test]
    fn case_insensitive_strings_sort_by_the_lowered_column_with_no_data_last() {
        assert_eq!(
            sorted("userName", false, Dialect::Sqlite),
            "CASE WHEN u.user_name_lower IS NULL OR u.user_name_lower = '' THEN 1 ELSE 0 END \
             ASC, NULLIF(u.user_name_lower, '') ASC"
        );
        assert_eq!(
            sorted("userName", false, Dialect::Postgres),
            "CASE WHEN u.user_name_lower IS NULL OR u.user_name_lower = '' THEN 1 ELSE 0 END \
             ASC, NULLIF(u.user_name_lower, '') COLLATE \"C\" ASC"
        );
    }

    #[test]
    fn descending_puts_no_data_first() {
        assert_eq!(
            sorted("title", true, Dialect::Sqlite),
            "CASE WHEN lower(u.title) IS NULL OR lower(u.title) = '' THEN 1 ELSE 0 END DESC, \
             NULLIF(lower(u.title), '') DESC"
        );
    }

    #[test]
    fn case_exact_strings_sort_as_stored() {
        assert_eq!(
            sorted("externalId", false, Dialect::Postgres),
            "CASE WHEN u.external_id IS NULL OR u.external_id = '' THEN 1 ELSE 0 END ASC, \
             NULLIF(u.external_id, '') COLLATE \"C\" ASC"
        );
    }

    #[test]
    fn non_text_attributes_sort_natively_and_only_null_is_no_data() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(
                sorted("meta.lastModified", true, dialect),
                "CASE WHEN u.last_modified IS NULL THEN 1 ELSE 0 END DESC, u.last_modified DESC"
            );
            assert_eq!(
                sorted("active", false, dialect),
                "CASE WHEN u.active IS NULL THEN 1 ELSE 0 END ASC, u.active ASC"
            );
        }
    }

    #[test]
    fn multi_valued_attributes_sort_by_the_primary_or_else_smallest_value() {
        let subquery = "(SELECT lower(v.value) FROM user_values v WHERE v.user_id = u.id AND \
                        v.attribute = 'emails' AND lower(v.value) <> '' ORDER BY CASE WHEN \
                        v.\"primary\" THEN 0 ELSE 1 END, lower(v.value) LIMIT 1)";
        assert_eq!(
            sorted("emails", false, Dialect::Sqlite),
            format!("CASE WHEN {subquery} IS NULL THEN 1 ELSE 0 END ASC, {subquery} ASC")
        );
        let postgres_subquery = subquery.replace(
            "ELSE 1 END, lower(v.value) LIMIT",
            "ELSE 1 END, lower(v.value) COLLATE \"C\" LIMIT",
        );
        assert_eq!(
            sorted("emails.value", true, Dialect::Postgres),
            format!(
                "CASE WHEN {postgres_subquery} IS NULL THEN 1 ELSE 0 END DESC, \
                 {postgres_subquery} COLLATE \"C\" DESC"
            )
        );
    }

    #[test]
    fn multi_valued_sort_without_a_primary_sub_attribute_takes_the_smallest_value() {
        assert_eq!(
            sorted("schemas", false, Dialect::Sqlite),
            "CASE WHEN (SELECT v.value FROM user_values v WHERE v.user_id = u.id AND \
             v.attribute = 'schemas' AND v.value <> '' ORDER BY v.value LIMIT 1) IS NULL THEN 1 \
             ELSE 0 END ASC, (SELECT v.value FROM user_values v WHERE v.user_id = u.id AND \
             v.attribute = 'schemas' AND v.value <> '' ORDER BY v.value LIMIT 1) ASC"
        );
    }

    #[test]
    fn unknown_attributes_and_sub_attributes_are_named_in_the_error() {
        let unknown = |text: &str| {
            let path = AttributePath::parse(text).map_err(|error| error.to_string());
            path.map(|path| compile_sort(&path, false, &UserColumns, Dialect::Sqlite))
        };
        assert_eq!(
            unknown("nickName"),
            Ok(Err(CompileError::UnknownAttribute("nickName".to_owned())))
        );
        assert_eq!(
            unknown("emails.kind"),
            Ok(Err(CompileError::UnknownAttribute(
                "emails.kind".to_owned()
            )))
        );
    }
}
