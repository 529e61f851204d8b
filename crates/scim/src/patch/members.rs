//! Group membership changes extracted from PATCH operations. A group may have 100,000
//! members stored as rows, so the service must not load them into a JSON array and diff it;
//! instead the operations on `members` are folded, in order, into the ids to insert and
//! delete (or the list that replaces them all), and every other operation is handed back for
//! `apply_operations`.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::object;
use super::request::{PatchOpKind, PatchOperation};
use super::rules::is_core_schema;
use crate::error::ScimError;
use crate::filter::{AttributePath, CompareOperator, ComparisonValue, Filter};
use crate::path::PatchPath;

/// The net effect of a request's `members` operations, in one of three shapes:
/// `remove_all` (the group ends up empty), `replaced_with` (it ends up with exactly these
/// members), or `added`/`removed` (these ids join or leave; the two lists are disjoint).
/// Ids are never repeated and are in the order they were (last) added or listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub replaced_with: Option<Vec<String>>,
    pub remove_all: bool,
}

impl MemberChanges {
    /// Whether the membership stays as it is.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.replaced_with.is_none()
            && !self.remove_all
    }
}

/// The membership changes in `operations`, or `None` when no operation touches `members`.
pub fn member_changes(operations: &[PatchOperation]) -> Result<Option<MemberChanges>, ScimError> {
    let mut fold = Fold::default();
    for (index, operation) in operations.iter().enumerate() {
        fold.operation(operation)
            .map_err(|error| in_operation(error, index))?;
    }
    Ok(fold.touched_members.then(|| fold.finish()))
}

/// Splits `operations` into the membership changes and the remaining operations, which no
/// longer mention `members` (a path-less value loses its `members` member).
pub fn split_member_operations(
    operations: &[PatchOperation],
) -> Result<(MemberChanges, Vec<PatchOperation>), ScimError> {
    let mut fold = Fold::default();
    let mut remaining = Vec::new();
    for (index, operation) in operations.iter().enumerate() {
        if let Some(rest) = fold
            .operation(operation)
            .map_err(|error| in_operation(error, index))?
        {
            remaining.push(rest);
        }
    }
    Ok((fold.finish(), remaining))
}

fn in_operation(mut error: ScimError, index: usize) -> ScimError {
    error.detail = format!("Operations[{index}]: {}", error.detail);
    error
}

/// Ids in insertion order with constant-time membership tests, since a replace may list
/// every member of a very large group.
#[derive(Default)]
struct OrderedIds {
    order: Vec<String>,
    present: HashSet<String>,
}

impl OrderedIds {
    fn insert(&mut self, id: &str) {
        if self.present.insert(id.to_owned()) {
            self.order.push(id.to_owned());
        }
    }

    fn remove(&mut self, id: &str) {
        self.present.remove(id);
    }

    fn into_vec(mut self) -> Vec<String> {
        // An id removed and inserted again appears twice in `order`; its latest insertion
        // is the one that counts, so walk backwards and keep the last occurrence.
        let mut ids: Vec<String> = self
            .order
            .into_iter()
            .rev()
            .filter(|id| self.present.remove(id))
            .collect();
        ids.reverse();
        ids
    }
}

#[derive(Default)]
struct Fold {
    touched_members: bool,
    /// `Some` once an operation replaced or cleared the whole list; later adds and removes
    /// then edit that list instead of being recorded as changes.
    replacement: Option<OrderedIds>,
    added: OrderedIds,
    removed: OrderedIds,
}

impl Fold {
    /// Folds a `members` operation in, or returns the operation (minus any `members` part)
    /// when it is not, or not only, about members.
    fn operation(
        &mut self,
        operation: &PatchOperation,
    ) -> Result<Option<PatchOperation>, ScimError> {
        match (&operation.path, &operation.value) {
            (Some(path), value) if is_members(&path.attribute) => {
                self.touched_members = true;
                self.path_operation(operation.op, path, value.as_ref())?;
                Ok(None)
            }
            (None, Some(Value::Object(attributes))) => {
                self.path_less_operation(operation.op, attributes)
            }
            _ => Ok(Some(operation.clone())),
        }
    }

    fn path_operation(
        &mut self,
        op: PatchOpKind,
        path: &PatchPath,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if let Some(sub_attribute) = path.target_sub_attribute() {
            return Err(ScimError::invalid_path(format!(
                "\"{path}\": a member's \"{sub_attribute}\" cannot be changed on its own; add or \
                 remove whole members"
            )));
        }
        if let (PatchOpKind::Add | PatchOpKind::Replace, None, Some(value)) =
            (op, &path.value_filter, value)
            && self.pre_rfc(value)?
        {
            return Ok(());
        }
        match (op, &path.value_filter, value) {
            (PatchOpKind::Remove, Some(filter), _) => {
                let mut ids = Vec::new();
                filter_ids(filter, &mut ids)?;
                self.remove(ids.iter().map(String::as_str));
            }
            (_, Some(_), _) => {
                return Err(ScimError::invalid_path(format!(
                    "\"{path}\": a filter on \"members\" can only select members to remove"
                )));
            }
            (PatchOpKind::Add, None, Some(value)) => self.add(&value_ids(value)?),
            (PatchOpKind::Replace, None, Some(value)) => self.replace(&value_ids(value)?),
            // Entra ID removes particular members with the ids in `value`, not in a filter.
            (PatchOpKind::Remove, None, Some(value)) if !value.is_null() => {
                let ids = value_ids(value)?;
                self.remove(ids.iter().map(String::as_str));
            }
            (PatchOpKind::Remove, None, _) => self.replace(&[]),
            (op, None, None) => {
                return Err(ScimError::invalid_value(format!(
                    "an \"{op}\" of \"members\" needs a \"value\" listing the members"
                )));
            }
        }
        Ok(())
    }

    /// A path-less `add`/`replace` whose value may hold `members` among other attributes.
    fn path_less_operation(
        &mut self,
        op: PatchOpKind,
        attributes: &Map<String, Value>,
    ) -> Result<Option<PatchOperation>, ScimError> {
        let mut rest = Map::new();
        for (key, value) in attributes {
            match AttributePath::parse(key) {
                Ok(path) if is_members(&path) => {
                    self.touched_members = true;
                    if path.sub_attribute.is_some() {
                        return Err(ScimError::invalid_path(format!(
                            "{key:?}: a member's sub-attribute cannot be changed on its own; \
                             add or remove whole members"
                        )));
                    }
                    if self.pre_rfc(value)? {
                        continue;
                    }
                    let ids = value_ids(value)?;
                    match op {
                        PatchOpKind::Replace => self.replace(&ids),
                        _ => self.add(&ids),
                    }
                }
                _ => {
                    rest.insert(key.clone(), value.clone());
                }
            }
        }
        Ok((!rest.is_empty()).then_some(PatchOperation {
            op,
            path: None,
            value: Some(Value::Object(rest)),
        }))
    }

    /// SCIM 1.1's member removal, which Xurrent still sends: in an `add` or `replace` of
    /// `members`, a member marked `"operation": "delete"` leaves the group. A value holding one
    /// is a SCIM 1.1 PATCH, which merges, so its other members join the group even in a
    /// `replace` (replacing the list with them would drop every member not named). Folds such
    /// a value in and says so; a value without one is left to the RFC 7644 rules.
    fn pre_rfc(&mut self, value: &Value) -> Result<bool, ScimError> {
        let members = match value {
            Value::Array(members) => members.as_slice(),
            member @ Value::Object(_) => std::slice::from_ref(member),
            _ => return Ok(false),
        };
        let is_deletion = |member: &Value| {
            member
                .as_object()
                .and_then(|member| object::get(member, "operation"))
                .and_then(Value::as_str)
                .is_some_and(|operation| operation.eq_ignore_ascii_case("delete"))
        };
        if !members.iter().any(is_deletion) {
            return Ok(false);
        }
        let (deleted, kept): (Vec<Value>, Vec<Value>) =
            members.iter().cloned().partition(is_deletion);
        self.add(&value_ids(&Value::Array(kept))?);
        let deleted = value_ids(&Value::Array(deleted))?;
        self.remove(deleted.iter().map(String::as_str));
        Ok(true)
    }

    fn add(&mut self, ids: &[String]) {
        for id in ids {
            match &mut self.replacement {
                Some(replacement) => replacement.insert(id),
                None => {
                    self.removed.remove(id);
                    self.added.insert(id);
                }
            }
        }
    }

    fn remove<'id>(&mut self, ids: impl Iterator<Item = &'id str>) {
        for id in ids {
            match &mut self.replacement {
                Some(replacement) => replacement.remove(id),
                None => {
                    self.added.remove(id);
                    self.removed.insert(id);
                }
            }
        }
    }

    fn replace(&mut self, ids: &[String]) {
        let mut replacement = OrderedIds::default();
        for id in ids {
            replacement.insert(id);
        }
        self.replacement = Some(replacement);
        self.added = OrderedIds::default();
        self.removed = OrderedIds::default();
    }

    fn finish(self) -> MemberChanges {
        match self.replacement.map(OrderedIds::into_vec) {
            Some(ids) if ids.is_empty() => MemberChanges {
                remove_all: true,
                ..MemberChanges::default()
            },
            Some(ids) => MemberChanges {
                replaced_with: Some(ids),
                ..MemberChanges::default()
            },
            None => MemberChanges {
                added: self.added.into_vec(),
                removed: self.removed.into_vec(),
                ..MemberChanges::default()
            },
        }
    }
}

/// `members`, unqualified or qualified with a core schema (`urn:…:core:2.0:Group:members`).
fn is_members(path: &AttributePath) -> bool {
    path.attribute.eq_ignore_ascii_case("members")
        && path.schema_urn.as_deref().is_none_or(is_core_schema)
}

/// The ids in a `members` value: a list of `{"value": id, …}` objects (a lone object and
/// null, meaning none, are accepted too).
fn value_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let members = match value {
        Value::Null => &[],
        Value::Array(members) => members.as_slice(),
        member => std::slice::from_ref(member),
    };
    members
        .iter()
        .map(|member| {
            match member
                .as_object()
                .and_then(|member| object::get(member, "value"))
            {
                Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
                _ => Err(ScimError::invalid_value(format!(
                    "each member must be an object whose \"value\" is the member's id, found {}",
                    abbreviate(member)
                ))),
            }
        })
        .collect()
}

fn abbreviate(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut_offset, _)) => format!("{}…", &text[..cut_offset]),
        None => text,
    }
}

/// The ids a member filter selects. Only `value eq "id"`, possibly joined by `or`, is
/// accepted: anything else would need every member loaded to evaluate.
fn filter_ids(filter: &Filter, ids: &mut Vec<String>) -> Result<(), ScimError> {
    match filter {
        Filter::Or(left, right) => {
            filter_ids(left, ids)?;
            filter_ids(right, ids)
        }
        Filter::Compare {
            path,
            operator: CompareOperator::Equal,
            value: ComparisonValue::String(id),
        } if path.attribute.eq_ignore_ascii_case("value")
            && path.sub_attribute.is_none()
            && path.schema_urn.is_none() =>
        {
            ids.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::invalid_filter(format!(
            "members can only be selected by id, as [value eq \"…\"] conditions joined by \
             \"or\"; found [{filter}]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::patch::test_support::request;
    use serde_json::json;

    const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
    const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

    fn changes(operations: Value) -> MemberChanges {
        member_changes(&request(operations)).unwrap().unwrap()
    }

    fn error(operations: Value) -> ScimError {
        member_changes(&request(operations)).unwrap_err()
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    fn adding(added: &[&str]) -> MemberChanges {
        MemberChanges {
            added: ids(added),
            ..MemberChanges::default()
        }
    }

    fn removing(removed: &[&str]) -> MemberChanges {
        MemberChanges {
            removed: ids(removed),
            ..MemberChanges::default()
        }
    }

    fn replacing_with(members: &[&str]) -> MemberChanges {
        MemberChanges {
            replaced_with: Some(ids(members)),
            ..MemberChanges::default()
        }
    }

    fn removing_all() -> MemberChanges {
        MemberChanges {
            remove_all: true,
            ..MemberChanges::default()
        }
    }

    #[test]
    fn pre_rfc_operation_delete_removes_in_add_replace_and_path_less_forms() {
        for op in ["add", "replace", "Replace"] {
            let mixed = changes(json!([{
                "op": op, "path": "members",
                "value": [{"value": BABS, "operation": "delete"}, {"value": "other"}]
            }]));
            let expected = MemberChanges {
                added: ids(&["other"]),
                removed: ids(&[BABS]),
                ..MemberChanges::default()
            };
            assert_eq!(mixed, expected, "{op}");
            let path_less = changes(json!([{
                "op": op, "value": {"members": [{"value": BABS, "operation": "DELETE"}]}
            }]));
            assert_eq!(path_less, removing(&[BABS]), "{op} without a path");
        }
        // Without a deletion, a replace still replaces.
        let replaced =
            changes(json!([{"op": "replace", "path": "members", "value": [{"value": BABS}]}]));
        assert_eq!(replaced, replacing_with(&[BABS]));
    }

    #[test]
    fn rfc_add_member_lists_the_added_id() {
        let changes = changes(json!([{
            "op": "add",
            "path": "members",
            "value": [{
                "display": "Babs Jensen",
                "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "value": BABS
            }]
        }]));
        assert_eq!(changes, adding(&[BABS]));
    }

    #[test]
    fn rfc_remove_member_by_filter_lists_the_removed_id() {
        let changes = changes(json!([
            {"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}
        ]));
        assert_eq!(changes, removing(&[BABS]));
    }

    #[test]
    fn rfc_remove_all_members() {
        let changes = changes(json!([{"op": "remove", "path": "members"}]));
        assert_eq!(changes, removing_all());
    }

    #[test]
    fn rfc_remove_one_then_add_another_nets_out_per_id() {
        // RFC 7644 §3.5.2.2 (note the RFC's missing space in `eq"…"`).
        let changes = changes(json!([
            {"op": "remove", "path": format!("members[value eq\"{BABS}\"]")},
            {"op": "add", "path": "members", "value": [{"display": "James Smith", "value": JAMES}]}
        ]));
        assert_eq!(changes.removed, ids(&[BABS]));
        assert_eq!(changes.added, ids(&[JAMES]));
    }

    #[test]
    fn rfc_remove_all_then_add_is_a_replacement() {
        let changes = changes(json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": BABS}, {"value": JAMES}]}
        ]));
        assert_eq!(changes, replacing_with(&[BABS, JAMES]));
    }

    #[test]
    fn rfc_replace_members_lists_the_new_members() {
        let changes = changes(json!([{
            "op": "replace",
            "path": "members",
            "value": [{"display": "Babs Jensen", "value": BABS}, {"display": "James Smith", "value": JAMES}]
        }]));
        assert_eq!(changes.replaced_with, Some(ids(&[BABS, JAMES])));
        assert!(!changes.remove_all);
    }

    #[test]
    fn entra_remove_with_a_value_list_removes_only_those_members() {
        let changes = changes(json!([
            {"op": "Remove", "path": "members", "value": [{"value": BABS}, {"value": JAMES}]}
        ]));
        assert_eq!(changes, removing(&[BABS, JAMES]));
    }

    #[test]
    fn filters_joined_by_or_remove_each_id() {
        let changes = changes(json!([
            {"op": "remove", "path": format!("members[value eq \"{BABS}\" or Value EQ \"{JAMES}\"]")}
        ]));
        assert_eq!(changes.removed, ids(&[BABS, JAMES]));
    }

    #[test]
    fn later_operations_cancel_earlier_ones_for_the_same_id() {
        let changes = changes(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "remove", "path": "members[value eq \"c\"]"},
            {"op": "add", "path": "members", "value": [{"value": "c"}, {"value": "b"}]},
        ]));
        assert_eq!(changes.added, ids(&["b", "c"]));
        assert_eq!(changes.removed, ids(&["a"]));
    }

    #[test]
    fn adds_and_removes_after_a_replacement_edit_the_replacement() {
        let changes = changes(json!([
            {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "add", "path": "members", "value": [{"value": "c"}, {"value": "a"}]},
            {"op": "remove", "path": "members", "value": [{"value": "b"}]},
        ]));
        assert_eq!(changes.replaced_with, Some(ids(&["c", "a"])));
        assert!(changes.added.is_empty() && changes.removed.is_empty());
    }

    #[test]
    fn replacing_with_an_empty_list_removes_all() {
        let changes = changes(json!([{"op": "replace", "path": "members", "value": []}]));
        assert_eq!(changes, removing_all());
        assert!(!changes.is_empty());
    }

    #[test]
    fn no_member_operations_means_none() {
        let operations = request(json!([{"op": "replace", "path": "displayName", "value": "x"}]));
        assert_eq!(member_changes(&operations).unwrap(), None);
    }

    #[test]
    fn split_hands_back_other_operations_in_order() {
        let operations = request(json!([
            {"op": "replace", "path": "displayName", "value": "Tour Guides"},
            {"op": "add", "path": "Members", "value": [{"value": BABS}]},
            {"op": "replace", "path": "externalId", "value": "tg"},
        ]));
        let (changes, remaining) = split_member_operations(&operations).unwrap();
        assert_eq!(changes.added, ids(&[BABS]));
        assert_eq!(remaining, [operations[0].clone(), operations[2].clone()]);
    }

    #[test]
    fn path_less_values_lose_their_members_member() {
        let operations = request(json!([{
            "op": "replace",
            "value": {"displayName": "Tour Guides", "members": [{"value": BABS}]}
        }]));
        let (changes, remaining) = split_member_operations(&operations).unwrap();
        assert_eq!(changes.replaced_with, Some(ids(&[BABS])));
        assert_eq!(remaining.len(), 1);
        assert_eq!(
            remaining[0].value,
            Some(json!({"displayName": "Tour Guides"}))
        );
        let operations = request(json!([{"op": "add", "value": {"members": [{"value": BABS}]}}]));
        let (changes, remaining) = split_member_operations(&operations).unwrap();
        assert_eq!(changes.added, ids(&[BABS]));
        assert!(remaining.is_empty());
    }

    #[test]
    fn core_schema_qualified_members_count_as_members() {
        let changes = changes(json!([{
            "op": "add",
            "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members",
            "value": {"value": BABS}
        }]));
        assert_eq!(changes.added, ids(&[BABS]));
    }

    #[test]
    fn other_member_filters_are_invalid_filters() {
        for path in [
            "members[display eq \"Babs\"]",
            "members[value ne \"x\"]",
            "members[value eq \"x\" and type eq \"User\"]",
            "members[value pr]",
        ] {
            let error = error(json!([{"op": "remove", "path": path}]));
            assert_eq!(error.scim_type, Some(ScimType::InvalidFilter), "{path}");
            assert!(error.detail.contains("value eq"), "{}", error.detail);
        }
    }

    #[test]
    fn member_sub_attributes_and_filtered_adds_are_invalid_paths() {
        for operation in [
            json!({"op": "replace", "path": "members[value eq \"x\"].display", "value": "X"}),
            json!({"op": "add", "path": "members[value eq \"x\"]", "value": {"value": "x"}}),
            json!({"op": "remove", "path": "members.display"}),
            json!({"op": "add", "value": {"members.value": "x"}}),
        ] {
            let error = error(json!([operation]));
            assert_eq!(error.scim_type, Some(ScimType::InvalidPath), "{operation}");
        }
    }

    #[test]
    fn members_without_an_id_are_invalid_values() {
        for value in [
            json!([{"display": "Babs"}]),
            json!(["x"]),
            json!([{"value": ""}]),
        ] {
            let error = error(json!([{"op": "add", "path": "members", "value": value}]));
            error.assert_names_operation(ScimType::InvalidValue, 0);
        }
    }

    #[test]
    fn large_replacements_are_deduplicated_quickly() {
        let members: Vec<Value> = (0..100_000)
            .map(|index| json!({"value": format!("m{}", index % 50_000)}))
            .collect();
        let changes = changes(json!([{"op": "replace", "path": "members", "value": members}]));
        assert_eq!(changes.replaced_with.map(|ids| ids.len()), Some(50_000));
    }
}
