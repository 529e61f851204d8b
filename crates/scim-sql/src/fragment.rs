//! What compilation hands back to the store: SQL text with `$N` placeholders and the values to
//! bind to them, in placeholder order. Filter values never appear in the SQL text, so no client
//! input can change the shape of a query; `Binds` is the one place placeholders are numbered,
//! which keeps the numbering and the bind list from drifting apart.

/// A value the caller binds, in order, to the placeholders of a `SqlFragment`.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Integer(i64),
    Real(f64),
    Boolean(bool),
    /// A UUID's 16 bytes, bound as the backend's UUID type.
    Uuid([u8; 16]),
    /// Not produced by the filter compiler (`eq null` becomes `IS NULL`), but part of the
    /// type so a store can bind its own values through the same enum.
    Null,
}

/// A SQL boolean expression and its bind values. `binds[0]` belongs to placeholder
/// `$first_placeholder`, `binds[1]` to the next one, and so on. Placeholders may appear more
/// than once in `sql` (sqlx maps `$N` to the N-th argument on both SQLite and PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFragment {
    pub sql: String,
    pub binds: Vec<SqlValue>,
}

/// Hands out placeholders and records the value behind each one.
#[derive(Debug)]
pub(crate) struct Binds {
    first_placeholder: usize,
    values: Vec<SqlValue>,
}

impl Binds {
    pub(crate) fn starting_at(first_placeholder: usize) -> Self {
        Self {
            first_placeholder,
            values: Vec::new(),
        }
    }

    /// Records `value` and returns the placeholder (`$N`) that stands for it.
    pub(crate) fn push(&mut self, value: SqlValue) -> String {
        let placeholder = format!("${}", self.first_placeholder + self.values.len());
        self.values.push(value);
        placeholder
    }

    pub(crate) fn into_values(self) -> Vec<SqlValue> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_first_placeholder_in_push_order() {
        let mut binds = Binds::starting_at(3);
        assert_eq!(binds.push(SqlValue::Text("a".to_owned())), "$3");
        assert_eq!(binds.push(SqlValue::Integer(7)), "$4");
        assert_eq!(
            binds.into_values(),
            [SqlValue::Text("a".to_owned()), SqlValue::Integer(7)]
        );
    }
}
