//! Turning a filter's `co`/`sw`/`ew` operand into something SQL can match without letting the
//! operand's own characters act as wildcards: `LIKE` patterns with `%`, `_` and the escape
//! character escaped (used with `ESCAPE '\'`), and the exclusive upper bound that turns a
//! prefix test into an index range scan (`column >= prefix AND column < successor`).

/// The escape character every generated `LIKE` declares with `ESCAPE '\'`. Written out in
/// SQL as `'\'`, which both SQLite and PostgreSQL (with `standard_conforming_strings`, the
/// default since 9.1) read as one backslash.
pub(crate) const LIKE_ESCAPE: char = '\\';

/// Which part of the stored value the operand must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// `co`: anywhere.
    Anywhere,
    /// `sw`: at the start.
    Start,
    /// `ew`: at the end.
    End,
}

/// A `LIKE` pattern that matches `operand` literally at the given place.
pub(crate) fn like_pattern(operand: &str, anchor: Anchor) -> String {
    let mut pattern = String::with_capacity(operand.len() + 4);
    if anchor != Anchor::Start {
        pattern.push('%');
    }
    for character in operand.chars() {
        if matches!(character, '%' | '_' | LIKE_ESCAPE) {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(character);
    }
    if anchor != Anchor::End {
        pattern.push('%');
    }
    pattern
}

/// The smallest string greater than every string that starts with `prefix`, in code-point
/// order (which is also UTF-8 byte order, SQLite's BINARY collation): `prefix` with its last
/// character replaced by the next code point. So `value >= prefix AND value < successor`
/// holds exactly when `value` starts with `prefix`, and an ordinary index serves the test.
///
/// A last character of U+10FFFF has no next code point; it is dropped and the character
/// before it is advanced instead, since every string starting with `…x\u{10FFFF}` also starts
/// with `…x`. `None` when there is no bound at all (empty prefix or only U+10FFFF).
pub(crate) fn prefix_successor(prefix: &str) -> Option<String> {
    let mut characters: Vec<char> = prefix.chars().collect();
    while let Some(last) = characters.pop() {
        if let Some(next) = next_code_point(last) {
            characters.push(next);
            return Some(characters.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value, skipping the surrogate range that `char` cannot hold.
fn next_code_point(character: char) -> Option<char> {
    match character {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        _ => char::from_u32(u32::from(character) + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(
            like_pattern("50%_off\\", Anchor::Anywhere),
            "%50\\%\\_off\\\\%"
        );
        assert_eq!(like_pattern("50%_off\\", Anchor::Start), "50\\%\\_off\\\\%");
        assert_eq!(like_pattern("50%_off\\", Anchor::End), "%50\\%\\_off\\\\");
    }

    #[test]
    fn characters_that_are_not_like_wildcards_pass_through() {
        assert_eq!(
            like_pattern("O'Malley*?[x]", Anchor::Anywhere),
            "%O'Malley*?[x]%"
        );
        assert_eq!(like_pattern("", Anchor::Start), "%");
    }

    #[test]
    fn successor_advances_the_last_character() {
        assert_eq!(prefix_successor("J").as_deref(), Some("K"));
        assert_eq!(prefix_successor("ab@").as_deref(), Some("abA"));
        assert_eq!(prefix_successor("é").as_deref(), Some("ê"));
    }

    #[test]
    fn successor_skips_surrogates_and_carries_past_the_last_code_point() {
        assert_eq!(prefix_successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(prefix_successor(""), None);
    }

    #[test]
    fn successor_bounds_exactly_the_strings_with_the_prefix() {
        let prefix = "jen";
        let Some(successor) = prefix_successor(prefix) else {
            panic!("\"jen\" has a successor");
        };
        for candidate in ["jen", "jensen", "jen\u{10FFFF}", "jen\u{10FFFF}z"] {
            assert!(
                candidate >= prefix && candidate < successor.as_str(),
                "{candidate}"
            );
        }
        for candidate in ["je", "jeo", "jeo\u{0}", "jfa", "Jen", "ien\u{10FFFF}"] {
            assert!(
                !(candidate >= prefix && candidate < successor.as_str()),
                "{candidate}"
            );
        }
    }
}
