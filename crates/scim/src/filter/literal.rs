//! JSON literals inside a filter (RFC 7644 §3.4.2.2: "String literals MUST be valid JSON
//! strings"; `compValue` takes JSON's `false`, `null`, `true`, number and string). Decoding
//! follows RFC 8259 §7 exactly, including `\uXXXX` surrogate pairs, because the decoded value is
//! what gets compared against stored data: accepting a malformed escape here would let two
//! spellings of one filter mean different things. Encoding is the inverse used by `Display`.

use std::fmt::{self, Write};

use super::error::FilterError;

/// Decodes the JSON string whose opening quote is at byte `quote_offset` of `text`. Returns
/// the decoded value and the offset just past the closing quote.
pub(crate) fn decode_json_string(
    text: &str,
    quote_offset: usize,
) -> Result<(String, usize), FilterError> {
    let mut decoded = String::new();
    // Always on a character boundary: it only ever advances by whole characters or escapes.
    let mut offset = quote_offset + 1;
    while let Some(character) = text[offset..].chars().next() {
        match character {
            '"' => return Ok((decoded, offset + 1)),
            '\\' => {
                let Some(escape) = text[offset + 1..].chars().next() else {
                    break;
                };
                let replacement = match escape {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'u' => {
                        let (character, escape_length_bytes) = decode_unicode_escape(text, offset)?;
                        decoded.push(character);
                        offset += escape_length_bytes;
                        continue;
                    }
                    _ => return Err(invalid_escape(offset, escape)),
                };
                decoded.push(replacement);
                offset += 1 + escape.len_utf8();
            }
            control if u32::from(control) < 0x20 => {
                return Err(FilterError::invalid_value(
                    offset,
                    format!(
                        "unescaped control character U+{:04X} in string at offset {offset}; \
                         JSON requires it to be written as an escape",
                        u32::from(control)
                    ),
                ));
            }
            other => {
                decoded.push(other);
                offset += other.len_utf8();
            }
        }
    }
    Err(FilterError::syntax(
        text.len(),
        format!(
            "unterminated string starting at offset {quote_offset}: expected a closing '\"' \
             before the end of the filter at offset {}",
            text.len()
        ),
    ))
}

fn invalid_escape(offset: usize, escape: char) -> FilterError {
    FilterError::invalid_value(
        offset,
        format!(
            "invalid escape \"\\{}\" in string at offset {offset}; JSON allows \\\" \\\\ \\/ \
             \\b \\f \\n \\r \\t and \\uXXXX",
            escape.escape_debug()
        ),
    )
}

/// Decodes the `\uXXXX` escape at `backslash_offset`, joining a UTF-16 surrogate pair written
/// as two escapes. Returns the character and how many bytes of escapes it took (6 or 12).
fn decode_unicode_escape(
    text: &str,
    backslash_offset: usize,
) -> Result<(char, usize), FilterError> {
    let Some(code_unit) = read_hex_code_unit(text, backslash_offset) else {
        return Err(FilterError::invalid_value(
            backslash_offset,
            format!(
                "invalid unicode escape in string at offset {backslash_offset}: expected \"\\u\" \
                 followed by four hexadecimal digits"
            ),
        ));
    };
    if !is_high_surrogate(code_unit) {
        // A low surrogate on its own is the only code unit that is not a scalar value.
        return char::from_u32(u32::from(code_unit))
            .map(|character| (character, 6))
            .ok_or_else(|| lone_surrogate(backslash_offset, code_unit));
    }
    match read_hex_code_unit(text, backslash_offset + 6) {
        Some(low) if is_low_surrogate(low) => {
            let scalar =
                0x10000 + ((u32::from(code_unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            char::from_u32(scalar)
                .map(|character| (character, 12))
                .ok_or_else(|| lone_surrogate(backslash_offset, code_unit))
        }
        _ => Err(lone_surrogate(backslash_offset, code_unit)),
    }
}

/// Reads `\uXXXX` at `backslash_offset`, returning the UTF-16 code unit it names.
fn read_hex_code_unit(text: &str, backslash_offset: usize) -> Option<u16> {
    let escape = text.get(backslash_offset..backslash_offset + 6)?;
    let hex_digits = escape.strip_prefix("\\u")?;
    if !hex_digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex_digits, 16).ok()
}

fn is_high_surrogate(code_unit: u16) -> bool {
    (0xD800..=0xDBFF).contains(&code_unit)
}

fn is_low_surrogate(code_unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&code_unit)
}

fn lone_surrogate(offset: usize, code_unit: u16) -> FilterError {
    FilterError::invalid_value(
        offset,
        format!(
            "unpaired surrogate \"\\u{code_unit:04X}\" in string at offset {offset}; a high \
             surrogate must be followed by a low one"
        ),
    )
}

/// Whether `word` is a number in the RFC 8259 §6 grammar:
/// `[ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]`.
pub(crate) fn is_json_number(word: &str) -> bool {
    let bytes = word.as_bytes();
    let mut index = 0;
    let digits_from = |mut index: usize| {
        while bytes.get(index).is_some_and(u8::is_ascii_digit) {
            index += 1;
        }
        index
    };
    if bytes.get(index) == Some(&b'-') {
        index += 1;
    }
    match bytes.get(index) {
        Some(b'0') => index += 1,
        Some(b'1'..=b'9') => index = digits_from(index),
        _ => return false,
    }
    if bytes.get(index) == Some(&b'.') {
        let fraction_end = digits_from(index + 1);
        if fraction_end == index + 1 {
            return false;
        }
        index = fraction_end;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'+' | b'-')) {
            index += 1;
        }
        let exponent_end = digits_from(index);
        if exponent_end == index {
            return false;
        }
        index = exponent_end;
    }
    index == bytes.len()
}

/// Writes `value` as a JSON string literal. Only what JSON requires is escaped (quote,
/// backslash, control characters), so non-ASCII text stays readable in logs.
pub(crate) fn write_json_string(output: &mut impl Write, value: &str) -> fmt::Result {
    output.write_char('"')?;
    for character in value.chars() {
        match character {
            '"' => output.write_str("\\\"")?,
            '\\' => output.write_str("\\\\")?,
            '\n' => output.write_str("\\n")?,
            '\r' => output.write_str("\\r")?,
            '\t' => output.write_str("\\t")?,
            '\u{8}' => output.write_str("\\b")?,
            '\u{c}' => output.write_str("\\f")?,
            control if u32::from(control) < 0x20 => {
                write!(output, "\\u{:04x}", u32::from(control))?;
            }
            other => output.write_char(other)?,
        }
    }
    output.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FilterErrorKind;

    fn decode(literal: &str) -> Result<String, FilterError> {
        decode_json_string(literal, 0).map(|(value, end_offset)| {
            assert_eq!(
                end_offset,
                literal.len(),
                "closing quote should end the literal"
            );
            value
        })
    }

    #[test]
    fn every_short_escape_decodes_to_its_character() {
        assert_eq!(
            decode(r#""\" \\ \/ \b \f \n \r \t""#).unwrap(),
            "\" \\ / \u{8} \u{c} \n \r \t"
        );
    }

    #[test]
    fn unicode_escapes_decode_including_surrogate_pairs() {
        assert_eq!(decode(r#""caf\u00e9""#).unwrap(), "café");
        assert_eq!(decode(r#""\u00E9\u0041""#).unwrap(), "éA");
        assert_eq!(decode(r#""\uD83D\uDE00!""#).unwrap(), "😀!");
        assert_eq!(decode(r#""\ud834\udd1e""#).unwrap(), "𝄞");
    }

    #[test]
    fn raw_non_ascii_text_is_kept() {
        assert_eq!(decode("\"Zoë 😀\"").unwrap(), "Zoë 😀");
    }

    #[test]
    fn decoding_stops_at_the_closing_quote_and_reports_where_it_ended() {
        let (value, end_offset) = decode_json_string(r#"x eq "a\"b" and"#, 5).unwrap();
        assert_eq!(value, "a\"b");
        assert_eq!(end_offset, 11);
    }

    #[test]
    fn invalid_escapes_are_rejected_as_invalid_values() {
        for literal in [r#""\x""#, r#""\a""#, r#""\'""#, r#""\U0041""#] {
            let error = decode(literal).unwrap_err();
            assert_eq!(error.kind, FilterErrorKind::InvalidValue, "{literal}");
            assert_eq!(error.position, 1, "{literal}");
        }
    }

    #[test]
    fn short_or_non_hex_unicode_escapes_are_rejected() {
        for literal in [r#""\u12""#, r#""\u12G4""#, r#""\u""#, r#""\u+123""#] {
            let error = decode(literal).unwrap_err();
            assert_eq!(error.kind, FilterErrorKind::InvalidValue, "{literal}");
        }
    }

    #[test]
    fn lone_surrogates_are_rejected() {
        for literal in [
            r#""\uD83D""#,
            r#""\uD83Dx""#,
            r#""\uDE00""#,
            r#""\uD83D\u0041""#,
            r#""\uD83D\uD83D""#,
        ] {
            let error = decode(literal).unwrap_err();
            assert_eq!(error.kind, FilterErrorKind::InvalidValue, "{literal}");
            assert!(error.message().contains("surrogate"), "{literal}: {error}");
        }
    }

    #[test]
    fn raw_control_characters_must_be_escaped() {
        let error = decode("\"a\tb\"").unwrap_err();
        assert_eq!(error.kind, FilterErrorKind::InvalidValue);
        assert_eq!(error.position, 2);
    }

    #[test]
    fn unterminated_string_is_a_syntax_error_at_the_end_of_input() {
        for literal in [r#""abc"#, r#""abc\""#, r#""abc\"#] {
            let error = decode(literal).unwrap_err();
            assert_eq!(error.kind, FilterErrorKind::Syntax, "{literal}");
            assert_eq!(error.position, literal.len(), "{literal}");
            assert!(
                error
                    .message()
                    .contains("unterminated string starting at offset 0")
            );
        }
    }

    #[test]
    fn json_number_grammar_accepts_integers_fractions_and_exponents() {
        for number in ["0", "-1", "42", "3.5", "3.5e2", "1E10", "-0.0e-7", "2e+3"] {
            assert!(is_json_number(number), "{number}");
        }
    }

    #[test]
    fn json_number_grammar_rejects_what_json_does() {
        for word in [
            "", "-", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "1_000", "NaN", "1.2.3",
        ] {
            assert!(!is_json_number(word), "{word}");
        }
    }

    #[test]
    fn encoding_escapes_only_what_json_requires_and_round_trips() {
        let value = "a\"b\\c/d\n\u{1}é😀";
        let mut encoded = String::new();
        write_json_string(&mut encoded, value).unwrap();
        assert_eq!(encoded, r#""a\"b\\c/d\n\u0001é😀""#);
        assert_eq!(decode(&encoded).unwrap(), value);
    }
}
