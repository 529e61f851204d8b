//! Recomputing the stored comparison keys (`*_key` columns) when the fold that makes them
//! changes: what `Store::migrate` reports, and the pure part of the work, deciding each row's
//! new key. The SQL that reads and writes the rows is in `shared_key_fold.rs`.
//!
//! Keys are made by `scim::text::fold`, which SQL cannot compute, so no SQL migration can
//! recompute them. Instead the `key_fold_version` table (migration 0012) records the
//! `scim::text::FOLD_VERSION` the stored keys were made with, and `Store::migrate`, right after
//! the SQL migrations, recomputes every key in one transaction when that is older than the
//! code's, then records the new version. It runs once per version, on whichever process
//! migrates first; the others find the version current and do nothing.
//!
//! A stronger fold can make two stored values of one account share a key that must be unique
//! (`bob` and `ｂｏｂ`, both provisioned before fullwidth forms folded). The migration must not
//! fail on that, nor pick a winner silently: the oldest row keeps the folded key, and each
//! later one gets the folded key followed by U+001F and its own id. No input can produce such
//! a key, since identifiers refuse control characters, so filters and uniqueness checks find
//! the oldest row. The later one stays readable and can still be updated (deactivated, say):
//! a write that keeps its value keeps its key, and one that changes the value gets the new
//! value's key, clashing if that is taken. Each clash is reported, for the operator to have
//! the later identity renamed.

use std::collections::HashMap;
use std::fmt;

use uuid::Uuid;

/// What `Store::migrate` did beyond applying the SQL migrations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// `Some((from, to))` when the stored keys were recomputed from fold version `from`.
    pub keys_refolded: Option<(i64, i64)>,
    /// Rows whose unique key now clashed with an older row's, each given a key of its own.
    pub key_clashes: Vec<KeyClash>,
}

/// Which unique key two rows came to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `scim_users.user_name_key`, unique per account.
    UserName,
    /// `people.primary_email_key`, unique per account.
    PrimaryEmail,
    /// `scim_groups.unique_name_key`, unique per account (migration 0020).
    GroupName,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::PrimaryEmail => "primary email",
            Self::GroupName => "displayName",
        }
    }

    /// What the rows are, for messages.
    fn record(self) -> &'static str {
        match self {
            Self::UserName => "SCIM User",
            Self::PrimaryEmail => "person",
            Self::GroupName => "SCIM Group",
        }
    }
}

/// Two rows of one account whose values fold to the same unique key. Values are left out on
/// purpose: they are personal data (emails), and the ids are enough to find both rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyClash {
    pub account_id: String,
    pub kind: KeyKind,
    /// The older row, which keeps the folded key.
    pub kept: Uuid,
    /// The newer row, now keyed apart until its value changes.
    pub keyed_apart: Uuid,
}

impl fmt::Display for KeyClash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.kind.record();
        write!(
            formatter,
            "account {}: the {} of {record} {} looks like that of {record} {}, which keeps it; \
             {} stays readable but must be given a {} of its own",
            self.account_id,
            self.kind.as_str(),
            self.keyed_apart,
            self.kept,
            self.keyed_apart,
            self.kind.as_str(),
        )
    }
}

/// A row with a unique key: its account, id, the value the key is made from, and the key it
/// has now. Rows must come oldest first, so the oldest of clashing rows keeps the key.
pub(crate) struct UniqueKeyRow {
    pub account_id: String,
    pub id: Uuid,
    pub value: String,
    pub key: String,
}

/// The new unique keys of `rows`: `(id, new key)` for each row whose key changes, and the
/// clashes resolved on the way.
pub(crate) fn assign_unique_keys(
    rows: &[UniqueKeyRow],
    kind: KeyKind,
) -> (Vec<(Uuid, String)>, Vec<KeyClash>) {
    // Every key handed out so far, per account, and the row holding it.
    let mut holders: HashMap<(&str, String), Uuid> = HashMap::new();
    let mut changes = Vec::new();
    let mut clashes = Vec::new();
    for row in rows {
        let account = row.account_id.as_str();
        let folded = scim::text::fold(&row.value);
        let key = match holders.get(&(account, folded.clone())) {
            None => folded,
            Some(&kept) => {
                clashes.push(KeyClash {
                    account_id: row.account_id.clone(),
                    kind,
                    kept,
                    keyed_apart: row.id,
                });
                key_apart(&folded, row.id, |candidate| {
                    holders.contains_key(&(account, candidate.to_owned()))
                })
            }
        };
        holders.insert((account, key.clone()), row.id);
        if key != row.key {
            changes.push((row.id, key));
        }
    }
    (changes, clashes)
}

/// The key of a row whose folded key an older row holds: the folded key, U+001F and the row's
/// id (with a counter in the unthinkable case that this too is taken).
fn key_apart(folded: &str, id: Uuid, is_taken: impl Fn(&str) -> bool) -> String {
    let mut key = format!("{folded}\u{1F}{id}");
    let mut attempt = 1;
    while is_taken(&key) {
        key = format!("{folded}\u{1F}{id}\u{1F}{attempt}");
        attempt += 1;
    }
    key
}

/// A key to park a row's unique key on while the keys of an account are rewritten, so that
/// moving one row onto a key another row is about to leave never breaks the unique index in
/// between. It holds upper-case letters, which neither `scim::text::fold` nor the earlier
/// `to_lowercase` keys ever contain, and the row's id, so it is unique and collides with no
/// old or new key.
pub(crate) fn parking_key(id: Uuid) -> String {
    format!("\u{1F}PARKED {id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: &str, id: u128, value: &str, key: &str) -> UniqueKeyRow {
        UniqueKeyRow {
            account_id: account.to_owned(),
            id: Uuid::from_u128(id),
            value: value.to_owned(),
            key: key.to_owned(),
        }
    }

    #[test]
    fn the_oldest_keeps_the_key_and_later_look_alikes_are_keyed_apart() {
        let rows = [
            row("acme", 1, "bob", "bob"),
            row("acme", 2, "ｂｏｂ", "ｂｏｂ"),
            row("acme", 3, " BOB ", " bob "),
            row("other", 4, "ＢＯＢ", "ｂｏｂ"),
            row("acme", 5, "alice", "alice"),
        ];
        let (changes, clashes) = assign_unique_keys(&rows, KeyKind::UserName);
        assert_eq!(
            changes,
            vec![
                (
                    Uuid::from_u128(2),
                    format!("bob\u{1F}{}", Uuid::from_u128(2))
                ),
                (
                    Uuid::from_u128(3),
                    format!("bob\u{1F}{}", Uuid::from_u128(3))
                ),
                (Uuid::from_u128(4), "bob".to_owned()),
            ]
        );
        assert_eq!(
            clashes
                .iter()
                .map(|clash| (clash.account_id.as_str(), clash.kept, clash.keyed_apart))
                .collect::<Vec<_>>(),
            vec![
                ("acme", Uuid::from_u128(1), Uuid::from_u128(2)),
                ("acme", Uuid::from_u128(1), Uuid::from_u128(3)),
            ]
        );
    }

    #[test]
    fn recomputing_again_changes_nothing_but_still_reports_the_clash() {
        let rows = [
            row("acme", 1, "bob", "bob"),
            row(
                "acme",
                2,
                "ｂｏｂ",
                &format!("bob\u{1F}{}", Uuid::from_u128(2)),
            ),
        ];
        let (changes, clashes) = assign_unique_keys(&rows, KeyKind::PrimaryEmail);
        assert!(changes.is_empty());
        assert_eq!(clashes.len(), 1);
    }

    #[test]
    fn a_key_apart_that_is_somehow_taken_gets_a_counter() {
        let id = Uuid::from_u128(7);
        let taken = format!("bob\u{1F}{id}");
        assert_eq!(
            key_apart("bob", id, |key| key == taken),
            format!("bob\u{1F}{id}\u{1F}1")
        );
    }

    #[test]
    fn parking_keys_are_never_folded_keys() {
        let key = parking_key(Uuid::from_u128(9));
        assert_ne!(scim::text::fold(&key), key);
        assert_ne!(key.to_lowercase(), key);
    }

    #[test]
    fn clashes_name_the_account_kind_and_both_ids_but_no_value() {
        let clash = KeyClash {
            account_id: "acme".to_owned(),
            kind: KeyKind::UserName,
            kept: Uuid::from_u128(1),
            keyed_apart: Uuid::from_u128(2),
        };
        assert_eq!(
            clash.to_string(),
            "account acme: the userName of SCIM User 00000000-0000-0000-0000-000000000002 \
             looks like that of SCIM User 00000000-0000-0000-0000-000000000001, which keeps \
             it; 00000000-0000-0000-0000-000000000002 stays readable but must be given a \
             userName of its own"
        );
    }
}
