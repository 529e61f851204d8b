//! Recursive-descent parser for the RFC 7644 §3.4.2.2 filter grammar:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"      ; valFilter is FILTER without valuePath
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! ```
//!
//! Precedence is grouping (parentheses, `not (…)`, value paths) over `and` over `or`, and both
//! logical operators associate to the left. Only grouping recurses; `and`/`or` chains are
//! loops. Recursion depth is bounded by `FilterLimits::max_depth`, which the pre-scan in
//! `limits.rs` has normally enforced already and which is tracked here again so the bound
//! does not rest on the pre-scan alone.

use serde_json::Number;

use super::ast::{CompareOperator, ComparisonValue, Filter};
use super::attribute_path::AttributePath;
use super::error::{FilterError, quote_input};
use super::lexer::{Token, TokenKind, tokenize};
use super::limits::{FilterLimits, check_length, check_nesting_depth, too_deep, too_many_terms};
use super::literal::is_json_number;

/// Which production the whole text must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grammar {
    /// `FILTER`, as in the `filter` query parameter.
    Filter,
    /// `valFilter`, the part between brackets of a PATCH path, where value paths are not
    /// allowed.
    ValueFilter,
}

const OPERATOR_LIST: &str = "eq, ne, co, sw, ew, gt, ge, lt, le or pr";
const VALUE_KINDS: &str = "a JSON string, number, true, false or null";

/// Checks the limits, then parses. The cheap checks run first so hostile input is turned
/// away before any allocation proportional to it.
pub(crate) fn parse(
    text: &str,
    limits: &FilterLimits,
    grammar: Grammar,
) -> Result<Filter, FilterError> {
    check_length(text, limits)?;
    check_nesting_depth(text, limits)?;
    parse_after_checks(text, limits, grammar)
}

fn parse_after_checks(
    text: &str,
    limits: &FilterLimits,
    grammar: Grammar,
) -> Result<Filter, FilterError> {
    let stream = tokenize(text);
    let parser = Parser {
        source: text,
        tokens: stream.tokens,
        lexer_error: stream.error,
        next_index: 0,
        limits,
        depth: 0,
        term_count: 0,
        inside_value_filter: grammar == Grammar::ValueFilter,
    };
    parser.parse_complete()
}

struct Parser<'source, 'limits> {
    source: &'source str,
    tokens: Vec<Token<'source>>,
    /// A malformed string literal that ended tokenizing; reported when the parser gets there.
    lexer_error: Option<FilterError>,
    next_index: usize,
    limits: &'limits FilterLimits,
    /// Parentheses and brackets currently open.
    depth: usize,
    /// Attribute expressions seen so far.
    term_count: usize,
    inside_value_filter: bool,
}

impl<'source> Parser<'source, '_> {
    fn parse_complete(mut self) -> Result<Filter, FilterError> {
        if self.tokens.is_empty() && self.lexer_error.is_none() {
            return Err(FilterError::syntax(
                self.source.len(),
                "filter is empty: expected an attribute path, \"(\" or \"not\" at offset 0",
            ));
        }
        let filter = self.parse_or()?;
        match self.peek() {
            None => match self.lexer_error.take() {
                Some(error) => Err(error),
                None => Ok(filter),
            },
            Some(token) => Err(self.trailing_token_error(token)),
        }
    }

    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        self.parse_left_associative("or", Self::parse_and, Filter::Or)
    }

    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        self.parse_left_associative("and", Self::parse_operand, Filter::And)
    }

    /// `operand (keyword operand)*`, combined from the left: `a or b or c` is
    /// `(a or b) or c`.
    fn parse_left_associative(
        &mut self,
        keyword: &str,
        parse_operand: fn(&mut Self) -> Result<Filter, FilterError>,
        combine: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut left = parse_operand(self)?;
        while self.next_is_keyword(keyword) {
            self.advance();
            let right = parse_operand(self)?;
            left = combine(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// An attribute expression, a value path, `( FILTER )` or `not ( FILTER )`.
    fn parse_operand(&mut self) -> Result<Filter, FilterError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected("an attribute path, \"(\" or \"not\""));
        };
        match token.kind {
            TokenKind::LeftParenthesis => self.parse_group(),
            TokenKind::Word
                if token.text.eq_ignore_ascii_case("not") && !self.not_is_attribute() =>
            {
                self.advance();
                if !self.next_is(&TokenKind::LeftParenthesis) {
                    // RFC 7644 only negates a parenthesised filter: `not (title pr)`.
                    return Err(self.unexpected("\"(\" after \"not\""));
                }
                Ok(Filter::Not(Box::new(self.parse_group()?)))
            }
            TokenKind::Word => self.parse_attribute_expression(),
            _ => Err(self.unexpected("an attribute path, \"(\" or \"not\"")),
        }
    }

    /// `not` is also a legal attribute name; it is one when an operator or a value-path
    /// bracket follows it rather than the `(` of a negation.
    fn not_is_attribute(&self) -> bool {
        match self.tokens.get(self.next_index + 1) {
            Some(Token {
                kind: TokenKind::LeftBracket,
                ..
            }) => true,
            Some(Token {
                kind: TokenKind::Word,
                text,
                ..
            }) => text.eq_ignore_ascii_case("pr") || CompareOperator::from_keyword(text).is_some(),
            _ => false,
        }
    }

    /// Parses `( FILTER )`; the next token is the opening parenthesis.
    fn parse_group(&mut self) -> Result<Filter, FilterError> {
        let open_offset = self.open_nesting()?;
        let inner = self.parse_or()?;
        self.close_nesting(&TokenKind::RightParenthesis, ")", "(", open_offset)?;
        Ok(inner)
    }

    fn parse_attribute_expression(&mut self) -> Result<Filter, FilterError> {
        let Some(&Token {
            text: path_text,
            offset: path_offset,
            ..
        }) = self.peek()
        else {
            return Err(self.unexpected("an attribute path"));
        };
        let path = AttributePath::parse_at(path_text, path_offset)?;
        self.advance();
        let expected_operator = || {
            format!(
                "a comparison operator ({OPERATOR_LIST}) or \"[\" after {}",
                quote_input(path_text)
            )
        };
        let Some(&Token {
            ref kind,
            text: keyword,
            offset: keyword_offset,
        }) = self.peek()
        else {
            return Err(self.unexpected(expected_operator()));
        };
        match kind {
            TokenKind::LeftBracket => self.parse_value_path(path, path_text),
            TokenKind::Word if keyword.eq_ignore_ascii_case("pr") => {
                self.count_term(path_offset)?;
                self.advance();
                if let Some(next) = self.peek().filter(|next| looks_like_value(next)) {
                    return Err(FilterError::syntax(
                        next.offset,
                        format!(
                            "\"pr\" at offset {keyword_offset} takes no comparison value, but {} \
                             follows it at offset {}",
                            describe(next),
                            next.offset
                        ),
                    ));
                }
                Ok(Filter::Present(path))
            }
            TokenKind::Word => {
                let Some(operator) = CompareOperator::from_keyword(keyword) else {
                    return Err(self.unexpected(expected_operator()));
                };
                self.count_term(path_offset)?;
                self.advance();
                let value = self.parse_comparison_value(keyword)?;
                Ok(Filter::Compare {
                    path,
                    operator,
                    value,
                })
            }
            _ => Err(self.unexpected(expected_operator())),
        }
    }

    /// Parses `[ valFilter ]` after `attribute`; the next token is the opening bracket.
    fn parse_value_path(
        &mut self,
        attribute: AttributePath,
        attribute_text: &str,
    ) -> Result<Filter, FilterError> {
        if self.inside_value_filter {
            let offset = self.peek().map_or(self.source.len(), |token| token.offset);
            return Err(FilterError::syntax(
                offset,
                format!(
                    "unexpected \"[\" after {} at offset {offset}: a value filter cannot contain \
                     another value filter",
                    quote_input(attribute_text)
                ),
            ));
        }
        let open_offset = self.open_nesting()?;
        self.inside_value_filter = true;
        let filter = self.parse_or()?;
        self.close_nesting(&TokenKind::RightBracket, "]", "[", open_offset)?;
        self.inside_value_filter = false;
        Ok(Filter::ValuePath {
            attribute,
            filter: Box::new(filter),
        })
    }

    fn parse_comparison_value(
        &mut self,
        operator_text: &str,
    ) -> Result<ComparisonValue, FilterError> {
        let expected_value = || {
            format!(
                "a comparison value ({VALUE_KINDS}) after {}",
                quote_input(operator_text)
            )
        };
        let Some(token) = self.peek() else {
            return Err(self.unexpected(expected_value()));
        };
        let value = match &token.kind {
            TokenKind::String(value) => ComparisonValue::String(value.clone()),
            TokenKind::Word => match token.text {
                "true" => ComparisonValue::Boolean(true),
                "false" => ComparisonValue::Boolean(false),
                "null" => ComparisonValue::Null,
                number if is_json_number(number) => {
                    let parsed = serde_json::from_str::<Number>(number).map_err(|_| {
                        FilterError::invalid_value(
                            token.offset,
                            format!(
                                "number {} at offset {} is out of range",
                                quote_input(number),
                                token.offset
                            ),
                        )
                    })?;
                    ComparisonValue::Number(parsed)
                }
                other => {
                    return Err(FilterError::invalid_value(
                        token.offset,
                        format!(
                            "expected {} at offset {}, found {}; strings must be in double quotes",
                            expected_value(),
                            token.offset,
                            quote_input(other)
                        ),
                    ));
                }
            },
            _ => return Err(self.unexpected(expected_value())),
        };
        self.advance();
        Ok(value)
    }

    /// Consumes an opening `(` or `[` and counts it against the depth limit.
    fn open_nesting(&mut self) -> Result<usize, FilterError> {
        let open_offset = self.peek().map_or(self.source.len(), |token| token.offset);
        self.advance();
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(too_deep(open_offset, self.limits));
        }
        Ok(open_offset)
    }

    fn close_nesting(
        &mut self,
        closing: &TokenKind,
        closing_text: &str,
        opening_text: &str,
        open_offset: usize,
    ) -> Result<(), FilterError> {
        if !self.next_is(closing) {
            return Err(self.unexpected(format!(
                "\"and\", \"or\" or \"{closing_text}\" (to close the \"{opening_text}\" at offset \
                 {open_offset})"
            )));
        }
        self.advance();
        self.depth -= 1;
        Ok(())
    }

    fn count_term(&mut self, offset: usize) -> Result<(), FilterError> {
        self.term_count += 1;
        if self.term_count > self.limits.max_terms {
            return Err(too_many_terms(offset, self.limits));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Token<'source>> {
        self.tokens.get(self.next_index)
    }

    fn advance(&mut self) {
        self.next_index += 1;
    }

    fn next_is(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|token| token.kind == *kind)
    }

    fn next_is_keyword(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|token| {
            token.kind == TokenKind::Word && token.text.eq_ignore_ascii_case(keyword)
        })
    }

    /// The error for a next token that does not fit what the grammar expects here. At the end
    /// of the tokens a pending lexer error is the real cause, so that is reported instead.
    fn unexpected(&self, expected: impl std::fmt::Display) -> FilterError {
        match self.peek() {
            Some(token) => FilterError::syntax(
                token.offset,
                format!(
                    "expected {expected} at offset {}, found {}",
                    token.offset,
                    describe(token)
                ),
            ),
            None => self.lexer_error.clone().unwrap_or_else(|| {
                let end_offset = self.source.len();
                FilterError::syntax(
                    end_offset,
                    format!(
                        "expected {expected} at offset {end_offset}, found the end of the filter"
                    ),
                )
            }),
        }
    }

    fn trailing_token_error(&self, token: &Token<'_>) -> FilterError {
        let offset = token.offset;
        let follows_value_path =
            self.next_index > 0 && self.tokens[self.next_index - 1].kind == TokenKind::RightBracket;
        let message = match token.kind {
            TokenKind::RightParenthesis => {
                format!("unexpected \")\" at offset {offset}: there is no \"(\" for it to close")
            }
            TokenKind::RightBracket => {
                format!("unexpected \"]\" at offset {offset}: there is no \"[\" for it to close")
            }
            TokenKind::Word if follows_value_path && token.text.starts_with('.') => format!(
                "unexpected {} at offset {offset}: a sub-attribute after a value filter \
                 (\"emails[type eq \\\"work\\\"].value\") is only valid in a PATCH path",
                quote_input(token.text)
            ),
            _ => format!(
                "expected \"and\", \"or\" or the end of the filter at offset {offset}, found {}",
                describe(token)
            ),
        };
        FilterError::syntax(offset, message)
    }
}

/// Whether a token following `pr` is a comparison value the client thought `pr` needed.
fn looks_like_value(token: &Token<'_>) -> bool {
    match token.kind {
        TokenKind::String(_) => true,
        TokenKind::Word => {
            matches!(token.text, "true" | "false" | "null") || is_json_number(token.text)
        }
        _ => false,
    }
}

/// How a token is named in an error message. Strings are shown decoded, so the message does
/// not stack a second layer of quoting and escaping on top of the JSON one.
fn describe(token: &Token<'_>) -> String {
    match &token.kind {
        TokenKind::String(value) => format!("the string {}", quote_input(value)),
        _ => quote_input(token.text),
    }
}

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
