//! Boolean SQL expressions under construction, with just enough structure to combine them
//! correctly: the precedence of the outermost operator (so `AND`, `OR` and `NOT` get
//! parentheses exactly where SQL needs them, and chains of the same connective stay flat), and
//! whether the expression can evaluate to NULL (so `NOT` can turn SQL's "unknown" into the
//! "false" a SCIM filter means, and leave `NOT EXISTS` alone for the planner's anti-join).

/// How tightly the outermost operator of an expression binds, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precedence {
    Or,
    And,
    Not,
    /// A comparison, function call, `EXISTS (…)` or parenthesised expression: nothing
    /// boolean binds tighter, so it never needs parentheses.
    Atom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expression {
    pub(crate) sql: String,
    pub(crate) precedence: Precedence,
    /// Whether SQL may evaluate it to NULL, e.g. `u.title = $1` when `u.title` is NULL.
    pub(crate) may_be_null: bool,
}

impl Expression {
    /// A comparison such as `u.title = $1`, which is NULL when its column is.
    pub(crate) fn nullable_atom(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            precedence: Precedence::Atom,
            may_be_null: true,
        }
    }

    /// A test that is always true or false, such as `u.title IS NULL` or `EXISTS (…)`.
    pub(crate) fn definite_atom(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            precedence: Precedence::Atom,
            may_be_null: false,
        }
    }

    /// The SQL text, parenthesised if anything looser than `minimum` is outermost.
    fn sql_at_least(&self, minimum: Precedence) -> String {
        if self.precedence < minimum {
            format!("({})", self.sql)
        } else {
            self.sql.clone()
        }
    }

    /// The SQL text, safe to combine with anything: `AND` and `OR` chains come parenthesised.
    pub(crate) fn into_standalone_sql(self) -> String {
        self.sql_at_least(Precedence::Not)
    }
}

/// `a AND b AND …`. Nested `AND`s are flattened; `OR` operands get parentheses.
pub(crate) fn all_of(operands: Vec<Expression>) -> Expression {
    connect(operands, " AND ", Precedence::And, Precedence::And)
}

/// `a OR b OR …`. Nested `OR`s are flattened; `AND` operands get parentheses even though SQL
/// would not need them, because `(a AND b) OR c` is what a reader checks the SQL against.
pub(crate) fn any_of(operands: Vec<Expression>) -> Expression {
    connect(operands, " OR ", Precedence::Or, Precedence::Not)
}

fn connect(
    mut operands: Vec<Expression>,
    separator: &str,
    precedence: Precedence,
    operand_minimum: Precedence,
) -> Expression {
    if operands.len() == 1
        && let Some(only) = operands.pop()
    {
        return only;
    }
    let may_be_null = operands.iter().any(|operand| operand.may_be_null);
    let sql = operands
        .iter()
        .map(|operand| {
            if operand.precedence == precedence {
                operand.sql.clone()
            } else {
                operand.sql_at_least(operand_minimum)
            }
        })
        .collect::<Vec<_>>()
        .join(separator);
    Expression {
        sql,
        precedence,
        may_be_null,
    }
}

/// `NOT operand` with SCIM's two-valued meaning.
///
/// SQL's `NOT` of an unknown is unknown, so `not (title eq "x")` would drop every resource
/// without a title. In a SCIM filter an absent attribute simply does not match, i.e. the
/// comparison is false and its negation true; `COALESCE(…, FALSE)` says exactly that. For the
/// filters this compiler builds (only `AND`/`OR` between NOTs) mapping the whole operand's
/// unknown to false is the same as mapping each unknown comparison to false, because `AND`
/// and `OR` are monotone. Operands that cannot be NULL are negated directly, which keeps
/// `NOT EXISTS (…)` recognisable to the query planner.
pub(crate) fn negation(operand: Expression) -> Expression {
    let sql = if operand.may_be_null {
        format!("NOT COALESCE({}, FALSE)", operand.sql)
    } else {
        format!("NOT {}", operand.sql_at_least(Precedence::Atom))
    };
    Expression {
        sql,
        precedence: Precedence::Not,
        may_be_null: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(sql: &str) -> Expression {
        Expression::nullable_atom(sql)
    }

    #[test]
    fn chains_of_one_connective_stay_flat() {
        let inner = all_of(vec![comparison("a = 1"), comparison("b = 2")]);
        let outer = all_of(vec![inner, comparison("c = 3")]);
        assert_eq!(outer.sql, "a = 1 AND b = 2 AND c = 3");
        assert_eq!(outer.precedence, Precedence::And);
    }

    #[test]
    fn or_inside_and_and_and_inside_or_are_parenthesised() {
        let either = any_of(vec![comparison("a = 1"), comparison("b = 2")]);
        let both = all_of(vec![either.clone(), comparison("c = 3")]);
        assert_eq!(both.sql, "(a = 1 OR b = 2) AND c = 3");
        let alternatives = any_of(vec![both, either]);
        assert_eq!(
            alternatives.sql,
            "((a = 1 OR b = 2) AND c = 3) OR a = 1 OR b = 2"
        );
    }

    #[test]
    fn a_single_operand_is_returned_unchanged() {
        assert_eq!(all_of(vec![comparison("a = 1")]), comparison("a = 1"));
        assert_eq!(any_of(vec![comparison("a = 1")]), comparison("a = 1"));
    }

    #[test]
    fn negating_a_nullable_expression_treats_unknown_as_false() {
        let negated = negation(comparison("a = 1"));
        assert_eq!(negated.sql, "NOT COALESCE(a = 1, FALSE)");
        assert!(!negated.may_be_null);
    }

    #[test]
    fn negating_a_definite_expression_keeps_not_exists_plain() {
        let negated = negation(Expression::definite_atom("EXISTS (SELECT 1)"));
        assert_eq!(negated.sql, "NOT EXISTS (SELECT 1)");
        let both = all_of(vec![
            Expression::definite_atom("a IS NULL"),
            Expression::definite_atom("b IS NULL"),
        ]);
        assert_eq!(negation(both).sql, "NOT (a IS NULL AND b IS NULL)");
    }

    #[test]
    fn nullability_spreads_through_connectives() {
        let mixed = all_of(vec![
            Expression::definite_atom("a IS NULL"),
            comparison("b = 1"),
        ]);
        assert!(mixed.may_be_null);
        let definite = any_of(vec![
            Expression::definite_atom("a IS NULL"),
            Expression::definite_atom("b IS NULL"),
        ]);
        assert!(!definite.may_be_null);
    }

    #[test]
    fn standalone_sql_parenthesises_only_connectives() {
        assert_eq!(comparison("a = 1").into_standalone_sql(), "a = 1");
        let either = any_of(vec![comparison("a = 1"), comparison("b = 2")]);
        assert_eq!(either.into_standalone_sql(), "(a = 1 OR b = 2)");
        let negated = negation(comparison("a = 1"));
        assert_eq!(negated.into_standalone_sql(), "NOT COALESCE(a = 1, FALSE)");
    }
}
