//! How case-insensitive text compares: the one folding function that makes the key stored
//! beside a case-insensitive attribute (`userName`, emails, display names) and the operand a
//! filter compares with that key, and the characters identifiers may not contain.
//!
//! It lives in the protocol crate because the filter compiler needs it: a stored key and a
//! filter operand are only comparable if the very same function folded both, and keeping the
//! function here is what makes that hold.
//!
//! Folding is Unicode's compatibility caseless matching (Unicode §3.13, D146) as one string:
//! NFKC, then full case folding, then NFKC again, repeated until the text no longer changes,
//! then surrounding white space trimmed. So `ｂｊｅｎｓｅｎ` (fullwidth), `BJENSEN`, ` bjensen `
//! and `bjensen` share one key, as do `STRASSE` and `straße`, `ﬁle` and `file`, and the Kelvin
//! sign `K` and `k`. The tables are ICU4X's, all three from one Unicode version; when they (or
//! this function) change, `FOLD_VERSION` goes up and the service recomputes the keys it stored.

use icu_casemap::{CaseMapper, CaseMapperBorrowed};
use icu_normalizer::{ComposingNormalizer, ComposingNormalizerBorrowed};
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

/// The version of [`fold`]'s output. A store records which version made its keys and
/// recomputes them when this is higher, so raise it whenever the function or the Unicode data
/// behind it changes what any text folds to.
pub const FOLD_VERSION: i64 = 1;

/// More rounds than any text needs (every single code point settles after two); a bound only
/// so that a surprise in future Unicode data cannot loop forever.
const MAX_ROUNDS: usize = 8;

const NFKC: ComposingNormalizerBorrowed<'static> = ComposingNormalizer::new_nfkc();
const CASE: CaseMapperBorrowed<'static> = CaseMapper::new();

/// The key of a whole case-insensitive value: NFKC, full case folding and NFKC until stable,
/// then trimmed of white space. Idempotent: `fold(&fold(x)) == fold(x)`.
pub fn fold(text: &str) -> String {
    settle(text, true)
}

/// [`fold`] without the trimming, for the operand of a substring test (`co`, `sw`, `ew`).
/// Spaces at the ends of such an operand are part of what it looks for (`sw "Ann "` must not
/// match `Annabel`), and a key never starts or ends with white space anyway.
pub fn fold_substring(text: &str) -> String {
    settle(text, false)
}

/// Applies one folding round until the text stops changing. Stopping only at a fixed point is
/// what makes the result idempotent, whatever the order of NFKC, folding and trimming.
fn settle(text: &str, trim: bool) -> String {
    let mut current = text.to_owned();
    for _ in 0..MAX_ROUNDS {
        let normalized = NFKC.normalize(&current);
        let folded = CASE.fold_string(&normalized);
        let renormalized = NFKC.normalize(&folded);
        let next = if trim {
            renormalized.trim()
        } else {
            renormalized.as_ref()
        };
        if next == current {
            break;
        }
        current = next.to_owned();
    }
    current
}

/// The first character an identifier (a `userName`, an email address, a display name) may
/// not contain: controls (Unicode general category Cc, e.g. NUL, tab, newline), format
/// characters (Cf: zero-width space and joiners, the byte order mark, bidirectional controls,
/// the soft hyphen) and the line and paragraph separators (Zl, Zp). They are invisible or
/// reorder what is shown, so two identifiers that differ only by them look the same to a
/// person while comparing different.
pub fn refused_character(text: &str) -> Option<char> {
    text.chars().find(|&character| is_refused(character))
}

/// Whether an identifier may not contain `character` (see [`refused_character`]).
pub fn is_refused(character: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(character),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// A character as `U+200B`: how error messages name a character that may not show.
pub fn code_point(character: char) -> String {
    format!("U+{:04X}", u32::from(character))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_case_and_compatibility_forms_fold_alike() {
        for (text, key) in [
            ("ｂｊｅｎｓｅｎ", "bjensen"),
            (
                "ＢＪＥＮＳＥＮ@ＥＸＡＭＰＬＥ.ＣＯＭ",
                "bjensen@example.com",
            ),
            ("BJensen", "bjensen"),
            ("ß", "ss"),
            ("SS", "ss"),
            ("Straße", "strasse"),
            ("ﬁle", "file"),
            ("\u{212A}elvin", "kelvin"),
            ("Ω", "ω"),
            ("\u{2126}", "ω"),
            ("ＳＴＲＡẞＥ", "strasse"),
            ("İ", "i\u{307}"),
            ("café", "café"),
            ("cafe\u{301}", "café"),
            ("①", "1"),
            ("㍿", "株式会社"),
        ] {
            assert_eq!(fold(text), key, "{text:?}");
        }
    }

    #[test]
    fn surrounding_white_space_is_trimmed_but_inner_space_kept() {
        assert_eq!(fold("  bob\t"), "bob");
        assert_eq!(fold("\u{3000}Bob Smith\u{a0}"), "bob smith");
        assert_eq!(fold("   "), "");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn substring_operands_keep_their_spaces() {
        assert_eq!(fold_substring(" Ann "), " ann ");
        assert_eq!(fold_substring("ＡＮＮ\u{3000}"), "ann ");
        assert_eq!(fold_substring("Ann"), fold("Ann"));
    }

    #[test]
    fn folding_is_idempotent_for_every_code_point() {
        for code in 0..=u32::from(char::MAX) {
            let Some(character) = char::from_u32(code) else {
                continue;
            };
            let text = character.to_string();
            let once = fold(&text);
            assert_eq!(fold(&once), once, "U+{code:04X}");
            let substring = fold_substring(&text);
            assert_eq!(fold_substring(&substring), substring, "U+{code:04X}");
        }
    }

    #[test]
    fn folding_is_idempotent_for_mixed_text() {
        // A fixed pseudo-random walk over letters, marks, compatibility forms and spaces.
        let alphabet: Vec<char> = "aAßẞſﬁﬀΣσςΐİıKÅÅ\u{301}\u{308}\u{345}\u{327} \u{3000}ｂＢ①㍿ᾈǅ"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            let mut text = String::new();
            for _ in 0..6 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = usize::try_from(state % alphabet.len() as u64).unwrap();
                text.push(alphabet[index]);
            }
            let once = fold(&text);
            assert_eq!(fold(&once), once, "{text:?}");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_found() {
        for (text, found) in [
            ("bob\u{200B}", Some('\u{200B}')),
            ("b\u{200C}ob", Some('\u{200C}')),
            ("b\u{200D}ob", Some('\u{200D}')),
            ("\u{FEFF}bob", Some('\u{FEFF}')),
            ("bob\u{202E}moc.", Some('\u{202E}')),
            ("bo\u{AD}b", Some('\u{AD}')),
            ("bob\u{2028}", Some('\u{2028}')),
            ("bob\u{2029}", Some('\u{2029}')),
            ("bob\n", Some('\n')),
            ("bob\u{0}", Some('\u{0}')),
            ("bob\u{7F}", Some('\u{7F}')),
            ("bob jensen", None),
            ("ｂｏｂ", None),
            ("Zoë", None),
            ("", None),
        ] {
            assert_eq!(refused_character(text), found, "{text:?}");
        }
    }

    #[test]
    fn code_points_are_named_in_hex() {
        assert_eq!(code_point('\u{200B}'), "U+200B");
        assert_eq!(code_point('\n'), "U+000A");
        assert_eq!(code_point('\u{E0001}'), "U+E0001");
    }
}
