//! Field rules shared by the commands: lengths and formats, collected rather than failing on the
//! first, so one response lists every problem.

pub const NAME_MAX_CHARS: usize = 120;
pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const SHORT_TEXT_MAX_CHARS: usize = 120;

/// The overlap a key or secret rotation asks for (`overlap_seconds`; `default` when it names
/// none), refused unless it lies between 0 and `max_seconds` (30 days for both rotations).
pub fn rotation_overlap(
    requested: Option<i64>,
    default: i64,
    max_seconds: i64,
) -> Result<chrono::Duration, super::ServiceError> {
    let overlap = requested.unwrap_or(default);
    if !(0..=max_seconds).contains(&overlap) {
        return Err(super::ServiceError::invalid(vec![format!(
            "overlap_seconds must be between 0 and {max_seconds} (30 days), not {overlap}"
        )]));
    }
    Ok(chrono::Duration::seconds(overlap))
}

#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn required_text(&mut self, field: &str, value: &str, max_chars: usize) {
        if value.trim().is_empty() {
            self.0.push(format!("{field} can't be blank"));
        } else {
            self.optional_text(field, Some(value), max_chars);
        }
    }

    /// The `name` (required, one line) and `description` (optional, may span lines) that
    /// tokens and webhooks carry.
    pub fn name_and_description(&mut self, name: &str, description: Option<&str>) {
        self.required_text("name", name, NAME_MAX_CHARS);
        self.multiline_text("description", description, DESCRIPTION_MAX_CHARS);
    }

    /// Xurrent's `source` (30 characters) and `sourceID` (128).
    pub fn record_source(&mut self, source: &crate::domain::RecordSource) {
        use crate::domain::{SOURCE_ID_MAX_CHARS, SOURCE_MAX_CHARS};
        self.optional_text("source", source.source.as_deref(), SOURCE_MAX_CHARS);
        self.optional_text("sourceID", source.source_id.as_deref(), SOURCE_ID_MAX_CHARS);
    }

    /// A single-line text: names, titles, numbers. No control characters at all.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        self.text(field, value, max_chars, |_| false);
    }

    /// A text that may span lines (descriptions): newlines and tabs are allowed.
    pub fn multiline_text(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        self.text(field, value, max_chars, |character| {
            matches!(character, '\n' | '\r' | '\t')
        });
    }

    fn text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max_chars: usize,
        allowed: fn(char) -> bool,
    ) {
        let Some(value) = value else { return };
        if value.chars().count() > max_chars {
            self.0.push(format!(
                "{field} is too long (maximum is {max_chars} characters)"
            ));
        }
        if value
            .chars()
            .any(|character| character.is_control() && !allowed(character))
        {
            self.0.push(format!("{field} contains control characters"));
        }
    }

    pub fn email(&mut self, field: &str, value: &str) {
        self.required_text(field, value, EMAIL_MAX_CHARS);
        let trimmed = value.trim();
        let well_formed = trimmed.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !trimmed.contains(char::is_whitespace)
            && trimmed.matches('@').count() == 1;
        if !trimmed.is_empty() && !well_formed {
            self.0.push(format!("{field} is not a valid email address"));
        }
    }

    /// An identifier people tell apart by eye (a person's name, an email address): besides
    /// the control characters every text refuses, no invisible format characters (zero-width
    /// space and joiners, bidirectional controls, the soft hyphen) and no line or paragraph
    /// separators, which would let two values that look the same differ. Named by code point,
    /// since the character itself would not show in the message.
    pub fn visible_text(&mut self, field: &str, value: &str) {
        self.invisible_character(field, value, |_| false);
    }

    /// A person's name: as [`Self::visible_text`], but the zero-width non-joiner and joiner
    /// (U+200C, U+200D) stay allowed — Persian and Indic names spell with them.
    pub fn visible_name(&mut self, field: &str, value: &str) {
        self.invisible_character(field, value, |character| {
            matches!(character, '\u{200C}' | '\u{200D}')
        });
    }

    fn invisible_character(&mut self, field: &str, value: &str, allowed: impl Fn(char) -> bool) {
        // Control characters (Cc) are already reported by the text rules.
        if let Some(character) = value.chars().find(|&character| {
            scim::text::is_refused(character) && !character.is_control() && !allowed(character)
        }) {
            self.0.push(format!(
                "{field} contains {}, an invisible or control character",
                scim::text::code_point(character)
            ));
        }
    }

    pub fn push(&mut self, problem: String) {
        self.0.push(problem);
    }

    pub fn into_result(self) -> Result<(), super::ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(super::ServiceError::invalid(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of the problems collected, which must be some.
    fn errors(problems: Problems) -> Vec<String> {
        match problems.into_result() {
            Err(super::super::ServiceError::Invalid { errors, .. }) => errors,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn problems_collect_every_broken_rule() {
        let mut problems = Problems::default();
        problems.required_text("name", " ", 10);
        problems.email("primary_email", "not-an-email");
        problems.optional_text("job_title", Some("x".repeat(11).as_str()), 10);
        assert_eq!(
            errors(problems),
            vec![
                "name can't be blank",
                "primary_email is not a valid email address",
                "job_title is too long (maximum is 10 characters)"
            ]
        );
    }

    #[test]
    fn names_are_single_line_but_descriptions_may_span_lines() {
        let mut problems = Problems::default();
        problems.required_text("name", "two\nlines", 50);
        problems.multiline_text("description", Some("two\nlines\tand a tab"), 50);
        problems.multiline_text("description", Some("bell\u{7}"), 50);
        assert_eq!(
            errors(problems),
            vec![
                "name contains control characters",
                "description contains control characters"
            ]
        );
    }

    #[test]
    fn identifiers_refuse_invisible_characters_by_code_point() {
        let mut problems = Problems::default();
        problems.visible_text("name", "Ada\u{200B}");
        problems.visible_text("primary_email", "\u{FEFF}ada@example.org");
        problems.visible_text("name", "Ada\u{2028}Lovelace");
        // Reported once, by the text rules, as before.
        problems.visible_text("name", "Ada\nLovelace");
        problems.visible_text("name", "Ada Lovelace");
        // A Persian name with a zero-width non-joiner is a name, not a look-alike.
        problems.visible_name(
            "name",
            "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}",
        );
        assert_eq!(
            errors(problems),
            vec![
                "name contains U+200B, an invisible or control character",
                "primary_email contains U+FEFF, an invisible or control character",
                "name contains U+2028, an invisible or control character",
            ]
        );
    }

    #[test]
    fn well_formed_emails_pass() {
        let mut problems = Problems::default();
        problems.email("primary_email", "Ada.Lovelace@example.org");
        assert!(problems.into_result().is_ok());
    }
}
