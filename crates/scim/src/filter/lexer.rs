//! Splits filter text into tokens: the four brackets, decoded JSON strings, and "words" (any
//! other run of characters up to whitespace, a bracket or a quote). Words are deliberately not
//! classified here, because the filter grammar is contextual: `not`, `and` and `eq` are also
//! valid attribute names, and an attribute path such as
//! `urn:ietf:params:scim:schemas:core:2.0:User:userName` contains digits, dots and colons. The
//! parser decides what a word is from where it stands.

use super::error::FilterError;
use super::literal::decode_json_string;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    LeftParenthesis,
    RightParenthesis,
    LeftBracket,
    RightBracket,
    /// A JSON string literal, already decoded.
    String(String),
    /// Anything else: an attribute path, an operator, a keyword, a number or `true`/`false`/
    /// `null`; the token's `text` holds it.
    Word,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'source> {
    pub(crate) kind: TokenKind,
    /// The token exactly as written, quotes and escapes included.
    pub(crate) text: &'source str,
    /// Byte offset of the token's first character in the filter text.
    pub(crate) offset: usize,
}

/// RFC 7644 separates filter tokens with SP; tabs and line breaks are accepted as well because
/// clients build filters by hand and in templates, and they carry no other meaning here.
fn is_separator(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\r' | '\n')
}

fn ends_word(character: char) -> bool {
    is_separator(character) || matches!(character, '(' | ')' | '[' | ']' | '"')
}

/// The tokens of a filter, up to the first malformed string literal if there is one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenStream<'source> {
    pub(crate) tokens: Vec<Token<'source>>,
    /// Why tokenizing stopped early. The parser reports it only when it reaches that point,
    /// so a syntax error earlier in the filter is the one the client hears about first.
    pub(crate) error: Option<FilterError>,
}

pub(crate) fn tokenize(text: &str) -> TokenStream<'_> {
    let mut tokens = Vec::new();
    let mut offset = 0;
    while let Some(character) = text[offset..].chars().next() {
        let punctuation = match character {
            '(' => Some(TokenKind::LeftParenthesis),
            ')' => Some(TokenKind::RightParenthesis),
            '[' => Some(TokenKind::LeftBracket),
            ']' => Some(TokenKind::RightBracket),
            _ => None,
        };
        if let Some(kind) = punctuation {
            tokens.push(Token {
                kind,
                text: &text[offset..offset + 1],
                offset,
            });
            offset += 1;
        } else if is_separator(character) {
            offset += character.len_utf8();
        } else if character == '"' {
            let (value, end_offset) = match decode_json_string(text, offset) {
                Ok(decoded) => decoded,
                Err(error) => {
                    return TokenStream {
                        tokens,
                        error: Some(error),
                    };
                }
            };
            tokens.push(Token {
                kind: TokenKind::String(value),
                text: &text[offset..end_offset],
                offset,
            });
            offset = end_offset;
        } else {
            let word_length_bytes = text[offset..]
                .find(ends_word)
                .unwrap_or(text.len() - offset);
            tokens.push(Token {
                kind: TokenKind::Word,
                text: &text[offset..offset + word_length_bytes],
                offset,
            });
            offset += word_length_bytes;
        }
    }
    TokenStream {
        tokens,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(text: &str) -> Vec<(String, usize)> {
        let stream = tokenize(text);
        assert_eq!(stream.error, None);
        stream
            .tokens
            .into_iter()
            .map(|token| match token.kind {
                TokenKind::String(value) => (format!("string:{value}"), token.offset),
                _ => (token.text.to_owned(), token.offset),
            })
            .collect()
    }

    fn owned(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected
            .iter()
            .map(|(text, offset)| ((*text).to_owned(), *offset))
            .collect()
    }

    #[test]
    fn words_strings_and_brackets_carry_their_byte_offsets() {
        assert_eq!(
            describe(r#"emails[type eq "work"] and (x pr)"#),
            owned(&[
                ("emails", 0),
                ("[", 6),
                ("type", 7),
                ("eq", 12),
                ("string:work", 15),
                ("]", 21),
                ("and", 23),
                ("(", 27),
                ("x", 28),
                ("pr", 30),
                (")", 32),
            ])
        );
    }

    #[test]
    fn schema_urns_with_colons_and_dots_stay_one_word() {
        assert_eq!(
            describe("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr"),
            owned(&[
                (
                    "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                    0
                ),
                ("pr", 58),
            ])
        );
    }

    #[test]
    fn tabs_newlines_and_repeated_spaces_separate_tokens() {
        assert_eq!(
            describe("\tuserName  \t eq\r\n-1.5e3 "),
            owned(&[("userName", 1), ("eq", 13), ("-1.5e3", 17)])
        );
    }

    #[test]
    fn quotes_and_brackets_end_a_word_without_whitespace() {
        assert_eq!(
            describe(r#"a eq"x"and(b)"#),
            owned(&[
                ("a", 0),
                ("eq", 2),
                ("string:x", 4),
                ("and", 7),
                ("(", 10),
                ("b", 11),
                (")", 12),
            ])
        );
    }

    #[test]
    fn non_ascii_characters_are_part_of_words_and_offsets_stay_in_bytes() {
        assert_eq!(
            describe("é eq \"ü\" x"),
            owned(&[("é", 0), ("eq", 3), ("string:ü", 6), ("x", 11)])
        );
    }

    #[test]
    fn a_malformed_string_ends_the_stream_with_an_error_after_the_good_tokens() {
        let stream = tokenize(r#"a eq "bad \q escape" and b pr"#);
        let texts: Vec<&str> = stream.tokens.iter().map(|token| token.text).collect();
        assert_eq!(texts, ["a", "eq"]);
        assert_eq!(stream.error.map(|error| error.position), Some(10));
        assert!(tokenize(r#"a eq "unterminated"#).error.is_some());
    }

    #[test]
    fn empty_and_blank_text_has_no_tokens() {
        assert_eq!(tokenize("").tokens, []);
        assert_eq!(tokenize(" \t ").tokens, []);
    }
}
