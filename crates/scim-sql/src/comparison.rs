//! One attribute test (`attrPath op value` or `attrPath pr`) as SQL over a single column
//! expression, with the semantics RFC 7644 §3.4.2.2 and RFC 7643 §2.2 give each attribute
//! type: `caseExact` decides whether strings compare folded (see `scim::text`), booleans
//! only know `eq`/`ne`, date-times compare as instants, `co`/`sw`/`ew` match the operand
//! literally.
//! Whether the column sits in the main table or in a child-table row is the caller's concern
//! (`compile.rs` wraps the result in `EXISTS` as needed); here it is just an expression.
//!
//! Absent values: a comparison with an absent (NULL) attribute is false, except that `ne`
//! matches it (`title ne "x"` selects users without a title, as most SCIM servers do and as
//! `not (title eq "x")` would), and `eq null`/`ne null` test absence itself.

use serde_json::Number;

use super::column::ValueKind;
use super::datetime::normalize_date_time;
use super::dialect::Dialect;
use super::error::{CompileError, quote_client_text};
use super::expression::{Expression, Precedence};
use super::fragment::{Binds, SqlValue};
use super::pattern::{Anchor, LIKE_ESCAPE, like_pattern, prefix_successor};
use scim::filter::{CompareOperator, ComparisonValue};
use scim::text;

/// The SQL side of one attribute test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'target> {
    /// The attribute as the client named it (`emails.type`), for error messages.
    pub(crate) name: &'target str,
    pub(crate) expression: &'target str,
    pub(crate) kind: ValueKind,
    /// Lower-cased copy of a case-insensitive string column (see `Column::Scalar`).
    pub(crate) lowered: Option<&'target str>,
}

/// `attrPath pr`: the attribute has a non-empty value. RFC 7644 §3.4.2.2 counts only
/// non-empty values as present, so an empty string is not.
pub(crate) fn present(target: &Target<'_>) -> Expression {
    let expression = target.expression;
    if target.kind.text_case_exact().is_some() {
        Expression {
            sql: format!("{expression} IS NOT NULL AND {expression} <> ''"),
            precedence: Precedence::And,
            may_be_null: false,
        }
    } else {
        Expression::definite_atom(format!("{expression} IS NOT NULL"))
    }
}

/// `attrPath op value`.
pub(crate) fn compare(
    target: &Target<'_>,
    operator: CompareOperator,
    value: &ComparisonValue,
    dialect: Dialect,
    binds: &mut Binds,
) -> Result<Expression, CompileError> {
    check_operator_applies(target, operator)?;
    if *value == ComparisonValue::Null {
        return compare_with_null(target, operator);
    }
    // The text types have their own comparisons; the others bind the operand as an SQL value
    // that compares the way the SCIM value does.
    let operand = match (target.kind, value) {
        (
            ValueKind::String { case_exact } | ValueKind::Reference { case_exact },
            ComparisonValue::String(operand),
        ) => {
            return Ok(compare_text(
                target, case_exact, operator, operand, dialect, binds,
            ));
        }
        (ValueKind::DateTime, ComparisonValue::String(operand)) => {
            return compare_date_time(target, operator, operand, dialect, binds);
        }
        (ValueKind::Identifier, ComparisonValue::String(operand)) => match parse_uuid(operand) {
            Some(bytes) => SqlValue::Uuid(bytes),
            // No resource has an id that is no UUID: `eq` matches nothing, `ne` all.
            None if operator == CompareOperator::NotEqual => {
                let sql = format!("{} IS NOT NULL", target.expression);
                return Ok(Expression::definite_atom(sql));
            }
            None => return Ok(Expression::definite_atom("1 = 0".to_owned())),
        },
        (ValueKind::Boolean, ComparisonValue::Boolean(operand)) => SqlValue::Boolean(*operand),
        (ValueKind::Integer, ComparisonValue::Number(number)) => {
            SqlValue::Integer(integer_operand(target, number)?)
        }
        (ValueKind::Decimal, ComparisonValue::Number(number)) => {
            SqlValue::Real(decimal_operand(target, number)?)
        }
        _ => return Err(wrong_value_type(target, value)),
    };
    let placeholder = binds.push(operand);
    Ok(ordinary_comparison(
        target.expression,
        target.expression,
        operator,
        &placeholder,
    ))
}

/// The 16 bytes of a UUID in its hyphenated form (any case), as ids are issued.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&index| bytes[index] != b'-') {
        return None;
    }
    let digits: Vec<u8> = bytes
        .iter()
        .filter(|&&byte| byte != b'-')
        .map(|&byte| {
            char::from(byte)
                .to_digit(16)
                .and_then(|digit| u8::try_from(digit).ok())
        })
        .collect::<Option<_>>()?;
    if digits.len() != 32 {
        return None;
    }
    let mut uuid = [0u8; 16];
    for (index, pair) in digits.chunks(2).enumerate() {
        uuid[index] = pair[0] << 4 | pair[1];
    }
    Some(uuid)
}

/// Rejects operators the attribute type has no meaning for: RFC 7644 §3.4.2.2 defines
/// `gt`/`ge`/`lt`/`le` on booleans as an error, and `co`/`sw`/`ew` are substring tests that
/// only strings (and references) support.
fn check_operator_applies(
    target: &Target<'_>,
    operator: CompareOperator,
) -> Result<(), CompileError> {
    let is_substring = operator.is_substring();
    let is_ordering = operator.is_ordering();
    let applies = match target.kind {
        ValueKind::String { .. } | ValueKind::Reference { .. } => true,
        ValueKind::Boolean | ValueKind::Identifier => !is_substring && !is_ordering,
        ValueKind::Integer | ValueKind::Decimal | ValueKind::DateTime => !is_substring,
    };
    if applies {
        return Ok(());
    }
    let supported = match target.kind {
        ValueKind::Boolean | ValueKind::Identifier => "eq, ne and pr",
        _ => "eq, ne, gt, ge, lt, le and pr",
    };
    Err(CompileError::UnsupportedComparison(format!(
        "the {} operator cannot be applied to {} attribute {}, which supports {supported}",
        operator.keyword(),
        target.kind.name(),
        quote_client_text(target.name),
    )))
}

/// `eq null` is absence and `ne null` presence of any value; ordering or matching null
/// means nothing.
fn compare_with_null(
    target: &Target<'_>,
    operator: CompareOperator,
) -> Result<Expression, CompileError> {
    let expression = target.expression;
    match operator {
        CompareOperator::Equal => Ok(Expression::definite_atom(format!("{expression} IS NULL"))),
        CompareOperator::NotEqual => Ok(Expression::definite_atom(format!(
            "{expression} IS NOT NULL"
        ))),
        _ => Err(CompileError::InvalidValue(format!(
            "attribute {} cannot be compared with null using {}; null works only with eq and ne",
            quote_client_text(target.name),
            operator.keyword()
        ))),
    }
}

fn wrong_value_type(target: &Target<'_>, value: &ComparisonValue) -> CompileError {
    let expected = match target.kind {
        ValueKind::String { .. } | ValueKind::Reference { .. } | ValueKind::Identifier => {
            "a string"
        }
        ValueKind::Boolean => "true or false",
        ValueKind::Integer | ValueKind::Decimal => "a number",
        ValueKind::DateTime => "a date-time string",
    };
    let found = match value {
        ComparisonValue::String(text) => format!("the string {}", quote_client_text(text)),
        ComparisonValue::Number(number) => format!("the number {number}"),
        ComparisonValue::Boolean(boolean) => boolean.to_string(),
        ComparisonValue::Null => "null".to_owned(),
    };
    CompileError::InvalidValue(format!(
        "{} attribute {} must be compared with {expected}, not {found}",
        target.kind.name(),
        quote_client_text(target.name),
    ))
}

/// An integer attribute compared with a whole number (`5` or `5.0`); RFC 7643 §2.3.4 has no
/// fractional integers, and i64 is what the store keeps.
fn integer_operand(target: &Target<'_>, number: &Number) -> Result<i64, CompileError> {
    if let Some(integer) = number.as_i64() {
        return Ok(integer);
    }
    // The exclusive upper bound 2^63 is exactly representable; i64::MAX as f64 is not.
    const TWO_TO_THE_63: f64 = 9_223_372_036_854_775_808.0;
    match number.as_f64() {
        Some(real) if real.fract() == 0.0 && (-TWO_TO_THE_63..TWO_TO_THE_63).contains(&real) => {
            Ok(real as i64)
        }
        _ => Err(CompileError::InvalidValue(format!(
            "integer attribute {} must be compared with a whole number between {} and {}, \
             not {number}",
            quote_client_text(target.name),
            i64::MIN,
            i64::MAX
        ))),
    }
}

fn decimal_operand(target: &Target<'_>, number: &Number) -> Result<f64, CompileError> {
    number
        .as_f64()
        .filter(|real| real.is_finite())
        .ok_or_else(|| {
            CompileError::InvalidValue(format!(
                "decimal attribute {} cannot be compared with {number}, which is out of range",
                quote_client_text(target.name)
            ))
        })
}

/// Date-times compare as instants: the operand is normalised to the store's UTC text (see
/// `datetime.rs`), which SQLite compares as text and PostgreSQL casts to `timestamptz`.
fn compare_date_time(
    target: &Target<'_>,
    operator: CompareOperator,
    operand: &str,
    dialect: Dialect,
    binds: &mut Binds,
) -> Result<Expression, CompileError> {
    let Some(normalized) = normalize_date_time(operand) else {
        return Err(CompileError::InvalidValue(format!(
            "dateTime attribute {} must be compared with an RFC 3339 date-time such as \
             \"2011-05-13T04:42:34Z\", not {}",
            quote_client_text(target.name),
            quote_client_text(operand)
        )));
    };
    // Stored values have microsecond precision. An operand with finer digits lies strictly
    // between two stored values, so no stored value equals it, and the ordering operators
    // are exact against its truncation `t`: `x > v` and `x >= v` hold iff `x > t`, and
    // `x < v` and `x <= v` iff `x <= t`. Rounding instead would make `ge` and `lt` wrong.
    let operator = if normalized.finer_than_stored {
        match operator {
            CompareOperator::Equal => return Ok(Expression::definite_atom("FALSE")),
            // Absent values match `ne` too, so this holds for every resource.
            CompareOperator::NotEqual => return Ok(Expression::definite_atom("TRUE")),
            CompareOperator::GreaterThan | CompareOperator::GreaterOrEqual => {
                CompareOperator::GreaterThan
            }
            CompareOperator::LessThan | CompareOperator::LessOrEqual => {
                CompareOperator::LessOrEqual
            }
            substring => substring,
        }
    } else {
        operator
    };
    let text = match dialect {
        Dialect::Sqlite => normalized.sqlite_text,
        Dialect::Postgres => normalized.text,
    };
    let placeholder = binds.push(SqlValue::Text(text));
    Ok(ordinary_comparison(
        target.expression,
        target.expression,
        operator,
        &dialect.timestamp_placeholder(&placeholder),
    ))
}

/// `eq`, `ne`, `gt`, `ge`, `lt`, `le` of `left` against `right`. `null_subject` is what `ne`
/// tests for absence (the stored column, where `left` may be an expression over it).
fn ordinary_comparison(
    null_subject: &str,
    left: &str,
    operator: CompareOperator,
    right: &str,
) -> Expression {
    let symbol = match operator {
        CompareOperator::Equal => "=",
        CompareOperator::NotEqual => {
            return Expression {
                sql: format!("{null_subject} IS NULL OR {left} <> {right}"),
                precedence: Precedence::Or,
                may_be_null: false,
            };
        }
        CompareOperator::GreaterThan => ">",
        CompareOperator::GreaterOrEqual => ">=",
        CompareOperator::LessThan => "<",
        CompareOperator::LessOrEqual => "<=",
        // Not reached: `check_operator_applies` rejects substring operators for non-text
        // types and `compare_text` handles them itself. Equality would be the narrower
        // reading if that ever changed.
        CompareOperator::Contains | CompareOperator::StartsWith | CompareOperator::EndsWith => "=",
    };
    Expression::nullable_atom(format!("{left} {symbol} {right}"))
}

/// How a string comparison folds case, which depends on `caseExact` and on whether the
/// store keeps a key column (`lowered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folding {
    /// Case-exact: the column against the operand as sent.
    Exact,
    /// The key column against the operand folded by `scim::text`. The store fills the
    /// column with `text::fold`, so the operand is folded by the same function here rather
    /// than by the database's `lower`, which on SQLite only folds ASCII; the comparison is
    /// then exact and the column's index applies.
    LoweredColumn,
    /// `lower(column)` against `lower($n)`: both sides folded by the same database function
    /// (ASCII-only on SQLite), so identical text always matches and Rust never folds one side
    /// differently from the other. Not indexable; stores should provide a lowered column.
    LowerInSql,
}

/// The two sides of a string comparison.
struct TextSides<'target> {
    folding: Folding,
    /// What `ne` and the empty-operand test check for NULL.
    null_subject: &'target str,
    /// The stored side: the column, its key column, or `lower(column)`.
    left: String,
    /// The operand as bound: unchanged, or folded by `scim::text` to match the key column.
    operand: String,
}

impl TextSides<'_> {
    /// The operand side for a placeholder holding `operand` (or a pattern made from it).
    fn right(&self, placeholder: &str) -> String {
        if self.folding == Folding::LowerInSql {
            format!("lower({placeholder})")
        } else {
            placeholder.to_owned()
        }
    }
}

fn text_sides<'target>(
    target: &Target<'target>,
    case_exact: bool,
    operator: CompareOperator,
    operand: &str,
) -> TextSides<'target> {
    match (case_exact, target.lowered) {
        (true, _) => TextSides {
            folding: Folding::Exact,
            null_subject: target.expression,
            left: target.expression.to_owned(),
            operand: operand.to_owned(),
        },
        (false, Some(lowered)) => TextSides {
            folding: Folding::LoweredColumn,
            null_subject: lowered,
            left: lowered.to_owned(),
            operand: fold_operand(operator, operand),
        },
        (false, None) => TextSides {
            folding: Folding::LowerInSql,
            null_subject: target.expression,
            left: format!("lower({})", target.expression),
            operand: operand.to_owned(),
        },
    }
}

/// The operand of a test against a key column, folded as the key was. A whole-value test
/// (`eq`, `ne`, ordering) folds it like a stored value, trimmed, so `userName eq " Bob "` finds
/// `bob`. A substring test (`co`, `sw`, `ew`) keeps the spaces at its ends: they are part of
/// what it looks for, and trimming `sw "Ann "` to `sw "ann"` would also match `annabel`.
fn fold_operand(operator: CompareOperator, operand: &str) -> String {
    match operator {
        CompareOperator::Contains | CompareOperator::StartsWith | CompareOperator::EndsWith => {
            text::fold_substring(operand)
        }
        CompareOperator::Equal
        | CompareOperator::NotEqual
        | CompareOperator::GreaterThan
        | CompareOperator::GreaterOrEqual
        | CompareOperator::LessThan
        | CompareOperator::LessOrEqual => text::fold(operand),
    }
}

fn compare_text(
    target: &Target<'_>,
    case_exact: bool,
    operator: CompareOperator,
    operand: &str,
    dialect: Dialect,
    binds: &mut Binds,
) -> Expression {
    let sides = text_sides(target, case_exact, operator, operand);
    let anchor = match operator {
        CompareOperator::Contains => Anchor::Anywhere,
        CompareOperator::StartsWith => Anchor::Start,
        CompareOperator::EndsWith => Anchor::End,
        CompareOperator::Equal | CompareOperator::NotEqual => {
            let placeholder = binds.push(SqlValue::Text(sides.operand.clone()));
            return ordinary_comparison(
                sides.null_subject,
                &sides.left,
                operator,
                &sides.right(&placeholder),
            );
        }
        // Lexicographic (RFC 7644 §3.4.2.2), by code point on both backends.
        CompareOperator::GreaterThan
        | CompareOperator::GreaterOrEqual
        | CompareOperator::LessThan
        | CompareOperator::LessOrEqual => {
            let placeholder = binds.push(SqlValue::Text(sides.operand.clone()));
            return ordinary_comparison(
                sides.null_subject,
                &dialect.ordered_text(&sides.left),
                operator,
                &sides.right(&placeholder),
            );
        }
    };
    // Every string contains, starts and ends with "". Said directly, because the SQLite
    // forms below (`substr(x, -0)`) would get the empty operand wrong.
    if sides.operand.is_empty() {
        return Expression::definite_atom(format!("{} IS NOT NULL", sides.null_subject));
    }
    substring_match(&sides, anchor, dialect, binds)
}

/// `co`, `sw` and `ew` on a non-empty operand.
///
/// `LIKE` (with the operand's wildcards escaped) is right wherever both sides are folded
/// alike or the database's `LIKE` is case-sensitive, as on PostgreSQL. SQLite's `LIKE`
/// ignores ASCII case, so case-exact tests there use `instr` and `substr`, which compare
/// exactly. Prefix tests on SQLite over a stored column (exact or lowered) become a range,
/// `x >= prefix AND x < successor`, which is exact in BINARY collation and lets an ordinary
/// index serve `sw`; SQLite's own LIKE optimisation needs a NOCASE index instead. Over
/// `lower(column)` no index applies anyway and the range bound would have to be folded by
/// SQLite's `lower` to stay correct, so that case keeps `LIKE`.
fn substring_match(
    sides: &TextSides<'_>,
    anchor: Anchor,
    dialect: Dialect,
    binds: &mut Binds,
) -> Expression {
    let use_like = match dialect {
        Dialect::Postgres => true,
        Dialect::Sqlite => match sides.folding {
            Folding::Exact => false,
            Folding::LoweredColumn => anchor != Anchor::Start,
            Folding::LowerInSql => true,
        },
    };
    let left = &sides.left;
    if use_like {
        let placeholder = binds.push(SqlValue::Text(like_pattern(&sides.operand, anchor)));
        return Expression::nullable_atom(format!(
            "{left} LIKE {} ESCAPE '{LIKE_ESCAPE}'",
            sides.right(&placeholder)
        ));
    }
    match anchor {
        Anchor::Start => match prefix_successor(&sides.operand) {
            Some(successor) => {
                let lower_bound = binds.push(SqlValue::Text(sides.operand.clone()));
                let upper_bound = binds.push(SqlValue::Text(successor));
                Expression {
                    sql: format!("{left} >= {lower_bound} AND {left} < {upper_bound}"),
                    precedence: Precedence::And,
                    may_be_null: true,
                }
            }
            None => {
                let placeholder = binds.push(SqlValue::Text(sides.operand.clone()));
                Expression::nullable_atom(format!(
                    "substr({left}, 1, length({placeholder})) = {placeholder}"
                ))
            }
        },
        Anchor::Anywhere => {
            let placeholder = binds.push(SqlValue::Text(sides.operand.clone()));
            Expression::nullable_atom(format!("instr({left}, {placeholder}) > 0"))
        }
        Anchor::End => {
            let placeholder = binds.push(SqlValue::Text(sides.operand.clone()));
            Expression::nullable_atom(format!(
                "substr({left}, -length({placeholder})) = {placeholder}"
            ))
        }
    }
}

#[cfg(test)]
mod tests;
