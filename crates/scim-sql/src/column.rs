//! Where each SCIM attribute lives in the database, as the service's store describes it per
//! resource type (`ColumnMap`), and the attribute facts compilation needs (`ValueKind`: the
//! RFC 7643 §2.3 type and, for strings, `caseExact`). The compiler never guesses table or
//! column names; it only combines the SQL expressions the store hands it, so the schema of the
//! tables stays the store's business.

use scim::filter::AttributePath;

/// The RFC 7643 §2.3 data type of an attribute, as far as comparing it in SQL is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    String {
        case_exact: bool,
    },
    Boolean,
    Integer,
    Decimal,
    /// Stored as RFC 3339 UTC text with six fractional digits on SQLite
    /// (`2026-11-29T03:40:19.123456Z`) and as `timestamptz` on PostgreSQL.
    DateTime,
    Reference {
        case_exact: bool,
    },
    /// A server-assigned UUID such as `id` (RFC 7643 §3.1: case-exact, issued by the service
    /// provider), stored as a native UUID (PostgreSQL `uuid`, SQLite 16-byte blob) and compared
    /// by value. Only `eq`, `ne` and `pr` apply; a literal that is no UUID names no resource.
    Identifier,
}

impl ValueKind {
    /// `Some(case_exact)` for the kinds compared as text, `None` for the others.
    pub(crate) fn text_case_exact(self) -> Option<bool> {
        match self {
            Self::String { case_exact } | Self::Reference { case_exact } => Some(case_exact),
            Self::Boolean | Self::Integer | Self::Decimal | Self::DateTime | Self::Identifier => {
                None
            }
        }
    }

    /// The RFC 7643 name of the type, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::String { .. } => "string",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::DateTime => "dateTime",
            Self::Reference { .. } => "reference",
            Self::Identifier => "identifier",
        }
    }
}

/// Where an attribute lives. The caller (the service's store) builds this per resource type.
///
/// All names and expressions are pasted into the SQL as given, so they must be trusted SQL,
/// never client input, and already quoted where SQL needs it (a column called `primary` is a
/// reserved word and must be given as `"primary"`). The compiler aliases child tables as `v`,
/// so the main table must not be aliased `v`.
///
/// On SQLite, text columns must use the default BINARY collation (the compiler relies on
/// byte order for `sw` ranges and for case-exact comparisons); on PostgreSQL, declaring text
/// columns `COLLATE "C"` lets their indexes serve the `COLLATE "C"` the compiler adds to
/// ordering comparisons and sorting, and prefix `LIKE`s (`sw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A column of the main table, e.g. `u.user_name`.
    ///
    /// `lowered` names a column or expression holding the value's key, `scim::text::fold`
    /// of it, with an index; case-insensitive comparisons use it with a bind value folded by
    /// the same function, so they are exact for all of Unicode (width, case and compatibility
    /// forms, surrounding spaces) and indexable.
    /// Without it they compare `lower(column)` with `lower($n)`, which folds only ASCII on
    /// SQLite (and under PostgreSQL's `C` ctype) and cannot use a plain index.
    Scalar {
        expression: String,
        kind: ValueKind,
        lowered: Option<String>,
    },
    /// A multi-valued attribute stored as rows of a child table, matched with
    /// `EXISTS (SELECT 1 FROM {table} v WHERE v.{owner_column} = {owner_expression} AND
    /// v.attribute = '{attribute_name}' AND …)`.
    ///
    /// `sub_attributes` lists `(sub-attribute name, column of the child table, kind)`, e.g.
    /// `("primary", "\"primary\"", ValueKind::Boolean)`. A filter on the attribute itself
    /// (`emails co "x"`) applies to its `value` sub-attribute (RFC 7644 §3.4.2.2). A Boolean
    /// sub-attribute named `primary` is what `sortBy` prefers (RFC 7644 §3.4.2.3).
    MultiValued {
        table: String,
        owner_column: String,
        owner_expression: String,
        attribute_name: String,
        sub_attributes: Vec<(String, String, ValueKind)>,
    },
}

/// Resolves filter and `sortBy` attribute paths to columns for one resource type.
///
/// The compiler asks for the full path first. For a multi-valued attribute a map may answer
/// `emails.type` with the `MultiValued` column of `emails`, or answer only `emails`: when the
/// full path is unknown and has a sub-attribute, the compiler asks again without it and
/// accepts a `MultiValued` answer. Either way the sub-attribute is looked up in
/// `sub_attributes`. Attribute names are case-insensitive (RFC 7643 §2.1), so maps should
/// compare them ignoring ASCII case, e.g. via `AttributePath::normalized_key`.
pub trait ColumnMap {
    fn column(&self, path: &AttributePath) -> Option<Column>;
}

/// A `Column::MultiValued` taken apart, for building the subqueries over its child table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildRows<'column> {
    table: &'column str,
    owner_column: &'column str,
    owner_expression: &'column str,
    attribute_name: &'column str,
    sub_attributes: &'column [(String, String, ValueKind)],
}

impl<'column> ChildRows<'column> {
    /// `None` for a `Column::Scalar`.
    pub(crate) fn of(column: &'column Column) -> Option<Self> {
        match column {
            Column::Scalar { .. } => None,
            Column::MultiValued {
                table,
                owner_column,
                owner_expression,
                attribute_name,
                sub_attributes,
            } => Some(Self {
                table,
                owner_column,
                owner_expression,
                attribute_name,
                sub_attributes,
            }),
        }
    }

    /// `{table} v`, the child table under the alias every generated subquery uses.
    pub(crate) fn aliased_table(&self) -> String {
        format!("{} v", self.table)
    }

    /// `v.{owner_column} = {owner_expression} AND v.attribute = '…'`: the rows of this
    /// attribute that belong to the resource in the enclosing query.
    pub(crate) fn owner_condition(&self) -> String {
        format!(
            "v.{} = {} AND v.attribute = {}",
            self.owner_column,
            self.owner_expression,
            sql_string_literal(self.attribute_name)
        )
    }

    /// The child-table expression (`v.{column}`) and kind of a sub-attribute, found ignoring
    /// ASCII case as RFC 7643 §2.1 asks.
    pub(crate) fn sub_attribute(&self, name: &str) -> Option<(String, ValueKind)> {
        find_sub_attribute(self.sub_attributes, name)
            .map(|(column, kind)| (format!("v.{column}"), kind))
    }
}

/// A SQL string literal: single quotes doubled, which is the only escape standard SQL (and
/// both dialects, PostgreSQL with `standard_conforming_strings`) needs.
fn sql_string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The column of a sub-attribute, found ignoring ASCII case as RFC 7643 §2.1 asks.
fn find_sub_attribute<'columns>(
    sub_attributes: &'columns [(String, String, ValueKind)],
    name: &str,
) -> Option<(&'columns str, ValueKind)> {
    sub_attributes
        .iter()
        .find(|(sub_attribute, _, _)| sub_attribute.eq_ignore_ascii_case(name))
        .map(|(_, column, kind)| (column.as_str(), *kind))
}

/// The column `path` names, trying the attribute without its sub-attribute when the map only
/// knows multi-valued attributes by their own name (see `ColumnMap`).
pub(crate) fn resolve(columns: &dyn ColumnMap, path: &AttributePath) -> Option<Column> {
    if let Some(column) = columns.column(path) {
        return Some(column);
    }
    path.sub_attribute.as_ref()?;
    let attribute_path = AttributePath {
        schema_urn: path.schema_urn.clone(),
        attribute: path.attribute.clone(),
        sub_attribute: None,
    };
    match columns.column(&attribute_path) {
        Some(column @ Column::MultiValued { .. }) => Some(column),
        Some(Column::Scalar { .. }) | None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OnlyAttributeNames;

    fn emails() -> Column {
        Column::MultiValued {
            table: "user_values".to_owned(),
            owner_column: "user_id".to_owned(),
            owner_expression: "u.id".to_owned(),
            attribute_name: "emails".to_owned(),
            sub_attributes: vec![(
                "value".to_owned(),
                "value".to_owned(),
                ValueKind::String { case_exact: false },
            )],
        }
    }

    fn name() -> Column {
        Column::Scalar {
            expression: "u.formatted_name".to_owned(),
            kind: ValueKind::String { case_exact: false },
            lowered: None,
        }
    }

    impl ColumnMap for OnlyAttributeNames {
        fn column(&self, path: &AttributePath) -> Option<Column> {
            match (path.attribute.as_str(), &path.sub_attribute) {
                ("emails", None) => Some(emails()),
                ("name", None) => Some(name()),
                _ => None,
            }
        }
    }

    fn path(text: &str) -> AttributePath {
        match AttributePath::parse(text) {
            Ok(path) => path,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    #[test]
    fn a_sub_attribute_path_falls_back_to_its_multi_valued_attribute() {
        assert_eq!(
            resolve(&OnlyAttributeNames, &path("emails.type")),
            Some(emails())
        );
        assert_eq!(
            resolve(&OnlyAttributeNames, &path("emails")),
            Some(emails())
        );
    }

    #[test]
    fn a_sub_attribute_path_never_falls_back_to_a_single_valued_attribute() {
        assert_eq!(resolve(&OnlyAttributeNames, &path("name.familyName")), None);
        assert_eq!(resolve(&OnlyAttributeNames, &path("nickName")), None);
    }

    #[test]
    fn sub_attributes_are_found_ignoring_case() {
        let sub_attributes = vec![(
            "primary".to_owned(),
            "\"primary\"".to_owned(),
            ValueKind::Boolean,
        )];
        assert_eq!(
            find_sub_attribute(&sub_attributes, "PRIMARY"),
            Some(("\"primary\"", ValueKind::Boolean))
        );
        assert_eq!(find_sub_attribute(&sub_attributes, "display"), None);
    }

    #[test]
    fn child_rows_select_the_attribute_of_the_enclosing_resource() {
        let column = emails();
        let Some(rows) = ChildRows::of(&column) else {
            panic!("emails is multi-valued");
        };
        assert_eq!(rows.aliased_table(), "user_values v");
        assert_eq!(
            rows.owner_condition(),
            "v.user_id = u.id AND v.attribute = 'emails'"
        );
        assert_eq!(
            rows.sub_attribute("Value"),
            Some((
                "v.value".to_owned(),
                ValueKind::String { case_exact: false }
            ))
        );
        assert!(ChildRows::of(&name()).is_none());
    }

    #[test]
    fn attribute_names_in_sql_literals_have_quotes_doubled() {
        assert_eq!(sql_string_literal("o'brien"), "'o''brien'");
    }

    #[test]
    fn only_strings_and_references_are_text() {
        assert_eq!(
            ValueKind::String { case_exact: true }.text_case_exact(),
            Some(true)
        );
        assert_eq!(
            ValueKind::Reference { case_exact: false }.text_case_exact(),
            Some(false)
        );
        assert_eq!(ValueKind::DateTime.text_case_exact(), None);
        assert_eq!(ValueKind::Boolean.text_case_exact(), None);
    }
}
