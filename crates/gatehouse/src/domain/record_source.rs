//! Xurrent's generic `source` and `sourceID` fields: an integration that creates records sets
//! them, to recognise its own records later. Webhooks and webhook policies carry them.

/// The longest `source`, in characters (Xurrent's limit).
pub const SOURCE_MAX_CHARS: usize = 30;
/// The longest `sourceID`, in characters (Xurrent's limit).
pub const SOURCE_ID_MAX_CHARS: usize = 128;

/// Which integration made a record (`source`) and its own id for it (`sourceID`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSource {
    pub source: Option<String>,
    pub source_id: Option<String>,
}

impl RecordSource {
    /// Trimmed, with blank values as none.
    pub fn new(source: Option<String>, source_id: Option<String>) -> Self {
        let clean = |value: Option<String>| {
            value
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        Self {
            source: clean(source),
            source_id: clean(source_id),
        }
    }

    /// This source with what a change names: `Some(None)` clears a field, `None` keeps it.
    pub fn changed(
        &self,
        source: Option<Option<String>>,
        source_id: Option<Option<String>>,
    ) -> Self {
        Self::new(
            source.unwrap_or_else(|| self.source.clone()),
            source_id.unwrap_or_else(|| self.source_id.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_are_none_and_changes_keep_what_they_do_not_name() {
        let source = RecordSource::new(Some(" crm ".to_owned()), Some("  ".to_owned()));
        assert_eq!(source.source.as_deref(), Some("crm"));
        assert_eq!(source.source_id, None);
        let changed = source.changed(None, Some(Some("42".to_owned())));
        assert_eq!(changed.source.as_deref(), Some("crm"));
        assert_eq!(changed.source_id.as_deref(), Some("42"));
        assert_eq!(changed.changed(Some(None), None).source, None);
    }
}
