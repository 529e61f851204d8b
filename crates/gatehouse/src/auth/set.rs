//! [`OrderedSet`], the one set type behind [`RoleSet`](super::RoleSet) and
//! [`ScopeSet`](super::ScopeSet): what a person holds and what a token carries are both small,
//! closed, ordered vocabularies, so they share one representation, parsing and serde form. The
//! rules that differ (ranks, write-implies-read) live next to each element type.

use std::collections::BTreeSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A set of closed-vocabulary values such as roles or scopes. Duplicates collapse; iteration
/// follows the values' `Ord` (their declaration order). Serialized as a JSON array in that order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderedSet<T: Ord>(BTreeSet<T>);

impl<T: Ord + Copy> OrderedSet<T> {
    /// The empty set, which permits and grants nothing.
    #[must_use]
    pub fn new() -> Self {
        Self(BTreeSet::new())
    }

    /// Parses names such as `["specialist"]` or `["people:read", "scim:write"]`.
    ///
    /// # Errors
    ///
    /// Returns the element type's parse error for the first unknown name.
    pub fn parse<I, S>(items: I) -> Result<Self, T::Err>
    where
        T: FromStr,
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        items
            .into_iter()
            .map(|item| item.as_ref().parse::<T>())
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// Whether `value` is literally in the set (for scopes: no implication).
    #[must_use]
    pub fn contains(&self, value: T) -> bool {
        self.0.contains(&value)
    }

    /// Whether the set holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of distinct values in the set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The values in stable order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.0.iter().copied()
    }
}

// Written out rather than derived: the derive would demand `T: Default`.
impl<T: Ord + Copy> Default for OrderedSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Ord> Extend<T> for OrderedSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.0.extend(values);
    }
}

impl<T: Ord> FromIterator<T> for OrderedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        Self(values.into_iter().collect())
    }
}
