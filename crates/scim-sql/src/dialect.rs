//! The two SQL dialects Gatehouse stores SCIM resources in, and the few places where the
//! compiled SQL has to differ between them. Everything else the compiler emits is written in
//! the common subset of SQLite and PostgreSQL (`$N` placeholders, `LIKE … ESCAPE`, `EXISTS`,
//! `COALESCE`, `CASE`), so the differences stay listed here rather than scattered.

/// The database the compiled SQL will run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A string expression ready to be ordered (`<`, `>`, `ORDER BY`) by code point.
    ///
    /// RFC 7644 §3.4.2.3 asks for "Unicode alphabetic sort order with no specific locale
    /// implied". SQLite's default BINARY collation compares UTF-8 bytes, which is code-point
    /// order. PostgreSQL uses the database's locale unless told otherwise, so the same filter
    /// would select different rows on the two backends; `COLLATE "C"` makes PostgreSQL compare
    /// bytes too. Declaring the PostgreSQL columns `COLLATE "C"` keeps their indexes usable.
    pub(crate) fn ordered_text(self, expression: &str) -> String {
        match self {
            Self::Sqlite => expression.to_owned(),
            Self::Postgres => format!("{expression} COLLATE \"C\""),
        }
    }

    /// A bound RFC 3339 UTC text placeholder, as the dialect stores timestamps: SQLite keeps
    /// the fixed-width text itself (so text order is time order), PostgreSQL a `timestamptz`.
    pub(crate) fn timestamp_placeholder(self, placeholder: &str) -> String {
        match self {
            Self::Sqlite => placeholder.to_owned(),
            Self::Postgres => format!("{placeholder}::timestamptz"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_needs_an_explicit_byte_order_collation() {
        assert_eq!(Dialect::Sqlite.ordered_text("u.title"), "u.title");
        assert_eq!(
            Dialect::Postgres.ordered_text("u.title"),
            "u.title COLLATE \"C\""
        );
    }

    #[test]
    fn only_postgres_casts_timestamp_placeholders() {
        assert_eq!(Dialect::Sqlite.timestamp_placeholder("$3"), "$3");
        assert_eq!(
            Dialect::Postgres.timestamp_placeholder("$3"),
            "$3::timestamptz"
        );
    }
}
