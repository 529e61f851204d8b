//! Compiling a whole filter tree: resolving each attribute path through the store's
//! `ColumnMap`, wrapping tests of multi-valued attributes in `EXISTS` over their child table,
//! and joining the results with `AND`, `OR` and `NOT`. The database does all the filtering,
//! so a filter costs one indexed query however many resources there are.
//!
//! Multi-valued attributes match when some value matches (RFC 7644 §3.4.2.2). A value path,
//! `emails[type eq "work" and value co "@example.com"]`, is one `EXISTS` whose conditions all
//! hold on the same child row; `emails.type eq "work" and emails.value co "@example.com"`
//! is two independent `EXISTS`, which may be satisfied by different emails, exactly as the
//! RFC distinguishes them.

use super::column::{ChildRows, Column, ColumnMap, ValueKind, resolve};
use super::comparison::{Target, compare, present};
use super::dialect::Dialect;
use super::error::CompileError;
use super::expression::{Expression, Precedence, all_of, any_of, negation};
use super::fragment::{Binds, SqlFragment};
use scim::filter::{AttributePath, CompareOperator, ComparisonValue, Filter};

/// The sub-attribute a filter on a multi-valued attribute itself (`emails co "x"`) tests,
/// per RFC 7644 §3.4.2.2.
pub(crate) const DEFAULT_SUB_ATTRIBUTE: &str = "value";

/// Deepest nesting of `not`, brackets and alternating `and`/`or` compiled. Parsed filters stay
/// far below it (the parser bounds depth); filters built in code might not, and each level
/// costs a few stack frames here.
const MAX_NESTING_DEPTH: usize = 256;

/// Compiles `filter` to a boolean SQL expression for a `WHERE` clause, with placeholders
/// numbered from `$first_placeholder` and their values in `binds`, in order.
///
/// The SQL is self-contained (an `OR` at the top comes parenthesised), so the caller can
/// write `WHERE u.tenant_id = $1 AND {sql}`. Columns are whatever `columns` says; see
/// `Column` for what the compiler expects of them.
pub fn compile_filter(
    filter: &Filter,
    columns: &dyn ColumnMap,
    dialect: Dialect,
    first_placeholder: usize,
) -> Result<SqlFragment, CompileError> {
    let mut compiler = Compiler {
        columns,
        dialect,
        binds: Binds::starting_at(first_placeholder),
    };
    let expression = compiler.filter(filter, Scope::Resource, 0)?;
    Ok(SqlFragment {
        sql: expression.into_standalone_sql(),
        binds: compiler.binds.into_values(),
    })
}

/// What attribute paths are relative to.
#[derive(Debug, Clone, Copy)]
enum Scope<'column> {
    /// The resource: paths are full attribute paths (`emails.type`).
    Resource,
    /// One row of a multi-valued attribute, inside its value path: paths are sub-attribute
    /// names (`type`). `attribute` is the value path's attribute, for error messages.
    Row {
        attribute: &'column AttributePath,
        rows: ChildRows<'column>,
    },
}

struct Compiler<'columns> {
    columns: &'columns dyn ColumnMap,
    dialect: Dialect,
    binds: Binds,
}

/// What a leaf of the filter tests its attribute for.
#[derive(Debug, Clone, Copy)]
enum Test<'filter> {
    Present,
    Compare {
        operator: CompareOperator,
        value: &'filter ComparisonValue,
    },
}

/// Where a leaf test's attribute was found.
enum Resolved {
    /// A main-table column, or a sub-attribute column of the current child row.
    Column {
        name: String,
        expression: String,
        kind: ValueKind,
        lowered: Option<String>,
    },
    /// A sub-attribute of a multi-valued attribute tested from the resource: the test goes
    /// inside `EXISTS` over the attribute's rows. `sub_attribute` is `None` when the path
    /// names the attribute itself (`emails co "x"`, `emails pr`).
    ChildRows {
        column: Column,
        name: String,
        sub_attribute: Option<String>,
    },
}

impl Compiler<'_> {
    fn filter(
        &mut self,
        filter: &Filter,
        scope: Scope<'_>,
        depth: usize,
    ) -> Result<Expression, CompileError> {
        if depth > MAX_NESTING_DEPTH {
            return Err(CompileError::UnsupportedComparison(format!(
                "the filter nests more than {MAX_NESTING_DEPTH} levels deep"
            )));
        }
        match filter {
            Filter::Compare {
                path,
                operator,
                value,
            } => self.leaf(
                path,
                scope,
                Test::Compare {
                    operator: *operator,
                    value,
                },
            ),
            Filter::Present(path) => self.leaf(path, scope, Test::Present),
            Filter::And(..) => {
                let operands = self.operands(filter, true, scope, depth)?;
                Ok(all_of(operands))
            }
            Filter::Or(..) => {
                let operands = self.operands(filter, false, scope, depth)?;
                Ok(any_of(operands))
            }
            Filter::Not(inner) => Ok(negation(self.filter(inner, scope, depth + 1)?)),
            Filter::ValuePath { attribute, filter } => {
                self.value_path(attribute, filter, scope, depth)
            }
        }
    }

    /// The compiled operands of a chain of `and` (or of `or`), left to right. The chain is
    /// walked with an explicit stack, so a long `a and b and c …` costs no recursion.
    fn operands(
        &mut self,
        filter: &Filter,
        conjunction: bool,
        scope: Scope<'_>,
        depth: usize,
    ) -> Result<Vec<Expression>, CompileError> {
        let mut operands = Vec::new();
        let mut pending = vec![filter];
        while let Some(next) = pending.pop() {
            match (next, conjunction) {
                (Filter::And(left, right), true) | (Filter::Or(left, right), false) => {
                    pending.push(right);
                    pending.push(left);
                }
                (operand, _) => operands.push(self.filter(operand, scope, depth + 1)?),
            }
        }
        Ok(operands)
    }

    /// `attribute[filter]`: one `EXISTS` over the attribute's rows with `filter` on each row.
    fn value_path(
        &mut self,
        attribute: &AttributePath,
        filter: &Filter,
        scope: Scope<'_>,
        depth: usize,
    ) -> Result<Expression, CompileError> {
        if let Scope::Row {
            attribute: outer, ..
        } = scope
        {
            return Err(CompileError::UnsupportedComparison(format!(
                "value filter {attribute}[…] cannot appear inside the value filter {outer}[…]"
            )));
        }
        let column = resolve(self.columns, attribute)
            .ok_or_else(|| CompileError::UnknownAttribute(attribute.to_string()))?;
        let rows = match (ChildRows::of(&column), &attribute.sub_attribute) {
            (Some(rows), None) => rows,
            _ => {
                return Err(CompileError::UnsupportedComparison(format!(
                    "a value filter such as {attribute}[…] needs a multi-valued attribute, \
                     and {attribute} is not one"
                )));
            }
        };
        let condition = self.filter(filter, Scope::Row { attribute, rows }, depth + 1)?;
        Ok(exists(rows, Some(condition)))
    }

    /// Resolves `path` in `scope` and builds `test` on it, inside `EXISTS` when the path
    /// reaches into a multi-valued attribute from the resource.
    fn leaf(
        &mut self,
        path: &AttributePath,
        scope: Scope<'_>,
        test: Test<'_>,
    ) -> Result<Expression, CompileError> {
        match self.resolve_leaf(path, scope)? {
            Resolved::Column {
                name,
                expression,
                kind,
                lowered,
            } => {
                let target = Target {
                    name: &name,
                    expression: &expression,
                    kind,
                    lowered: lowered.as_deref(),
                };
                self.test(&target, test)
            }
            Resolved::ChildRows {
                column,
                name,
                sub_attribute,
            } => {
                let rows = ChildRows::of(&column).ok_or_else(|| unknown(&name))?;
                if sub_attribute.is_none() && matches!(test, Test::Present) {
                    // `emails pr`: any value at all, and rows exist only for stored values.
                    return Ok(exists(rows, None));
                }
                let sub_attribute = sub_attribute.as_deref().unwrap_or(DEFAULT_SUB_ATTRIBUTE);
                let (expression, kind) = rows
                    .sub_attribute(sub_attribute)
                    .ok_or_else(|| unknown(&name))?;
                let target = Target {
                    name: &name,
                    expression: &expression,
                    kind,
                    lowered: None,
                };
                let condition = self.test(&target, test)?;
                Ok(exists(rows, Some(condition)))
            }
        }
    }

    fn test(&mut self, target: &Target<'_>, test: Test<'_>) -> Result<Expression, CompileError> {
        match test {
            Test::Present => Ok(present(target)),
            Test::Compare { operator, value } => {
                compare(target, operator, value, self.dialect, &mut self.binds)
            }
        }
    }

    fn resolve_leaf(
        &self,
        path: &AttributePath,
        scope: Scope<'_>,
    ) -> Result<Resolved, CompileError> {
        match scope {
            Scope::Row { attribute, rows } => {
                let name = format!("{attribute}.{path}");
                if path.schema_urn.is_some() || path.sub_attribute.is_some() {
                    return Err(CompileError::UnknownAttribute(name));
                }
                let (expression, kind) = rows
                    .sub_attribute(&path.attribute)
                    .ok_or_else(|| unknown(&name))?;
                Ok(Resolved::Column {
                    name,
                    expression,
                    kind,
                    lowered: None,
                })
            }
            Scope::Resource => match resolve(self.columns, path) {
                None => Err(unknown(&path.to_string())),
                Some(Column::Scalar {
                    expression,
                    kind,
                    lowered,
                }) => Ok(Resolved::Column {
                    name: path.to_string(),
                    expression,
                    kind,
                    lowered,
                }),
                Some(column @ Column::MultiValued { .. }) => Ok(Resolved::ChildRows {
                    column,
                    name: match &path.sub_attribute {
                        Some(_) => path.to_string(),
                        None => format!("{path}.{DEFAULT_SUB_ATTRIBUTE}"),
                    },
                    sub_attribute: path.sub_attribute.clone(),
                }),
            },
        }
    }
}

fn unknown(name: &str) -> CompileError {
    CompileError::UnknownAttribute(name.to_owned())
}

/// `EXISTS (SELECT 1 FROM {table} v WHERE <rows of this resource's attribute> AND condition)`.
fn exists(rows: ChildRows<'_>, condition: Option<Expression>) -> Expression {
    let mut conditions = vec![Expression {
        sql: rows.owner_condition(),
        precedence: Precedence::And,
        may_be_null: false,
    }];
    conditions.extend(condition);
    Expression::definite_atom(format!(
        "EXISTS (SELECT 1 FROM {} WHERE {})",
        rows.aliased_table(),
        all_of(conditions).sql
    ))
}

#[cfg(test)]
mod tests;
