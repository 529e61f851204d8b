//! PATCH on multi-valued attributes (RFC 7644 §3.5.2, RFC 7643 §2.4): appending values that
//! are not already there, changing or removing the values a filter selects, and keeping at
//! most one value `primary`. Values are told apart by their `value` sub-attribute when they
//! have one (two `emails` with the same address are the same email), else by equality.

use serde_json::{Map, Value};

use super::matching::matches;
use super::object;
use super::request::PatchOpKind;
use super::rules::AttributeRules;
use crate::error::ScimError;
use crate::filter::{AttributePath, CompareOperator, ComparisonValue, Filter};

/// One multi-valued attribute of the resource being patched.
pub(crate) struct MultiValued<'context> {
    /// The attribute, normalised as `AttributeRules` expects (no sub-attribute).
    pub(crate) attribute: &'context AttributePath,
    pub(crate) rules: &'context dyn AttributeRules,
}

/// A PATCH value for a multi-valued attribute as a list: clients send a lone object where a
/// one-element array is meant (`"value": {"value": "id"}` for `members`), and null or `[]`
/// mean "no values" (RFC 7643 §2.5).
pub(crate) fn as_values(value: Value) -> Vec<Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(values) => values,
        other => vec![other],
    }
}

impl MultiValued<'_> {
    fn name(&self) -> &str {
        &self.attribute.attribute
    }

    /// `add` without a filter: appends each value not already present and merges the
    /// sub-attributes of those that are (RFC 7644 §3.5.2.1: an existing value is not added
    /// twice), so re-adding a member or email with a new `display` or `primary` updates it.
    pub(crate) fn add(
        &self,
        container: &mut Map<String, Value>,
        new_values: Vec<Value>,
    ) -> Result<(), ScimError> {
        self.check_at_most_one_primary(new_values.iter())?;
        if new_values.is_empty() {
            return Ok(());
        }
        let (key, mut values) = self.take_values(container);
        let mut touched = Vec::new();
        for new_value in new_values {
            match values
                .iter()
                .position(|existing| self.same_value(existing, &new_value))
            {
                Some(index) => {
                    // A simple value already present stays as stored.
                    if let (Value::Object(existing), Value::Object(update)) =
                        (&mut values[index], new_value)
                    {
                        object::merge_into(existing, update);
                    }
                    touched.push(index);
                }
                None => {
                    values.push(new_value);
                    touched.push(values.len() - 1);
                }
            }
        }
        let result = self.keep_one_primary(&mut values, &touched);
        store(container, key, values);
        result
    }

    /// `replace` without a filter: the new list replaces all values (RFC 7644 §3.5.2.3).
    pub(crate) fn replace(
        &self,
        container: &mut Map<String, Value>,
        new_values: Vec<Value>,
    ) -> Result<(), ScimError> {
        self.check_at_most_one_primary(new_values.iter())?;
        let (key, _) = self.take_values(container);
        store(container, key, new_values);
        Ok(())
    }

    /// `add`/`replace` of the values `filter` selects (all values when it is `None`), or of
    /// their `sub_attribute`. With nothing selected, `replace` with a filter is `noTarget`
    /// (RFC 7644 §3.5.2.3); `add` creates the value the filter describes, because Entra ID
    /// adds a first work email as `emails[type eq "work"].value`.
    pub(crate) fn set_selected(
        &self,
        container: &mut Map<String, Value>,
        kind: PatchOpKind,
        filter: Option<&Filter>,
        sub_attribute: Option<&str>,
        value: Value,
    ) -> Result<(), ScimError> {
        let (key, mut values) = self.take_values(container);
        let result = self.set_selected_in(&mut values, kind, filter, sub_attribute, value);
        store(container, key, values);
        result
    }

    fn set_selected_in(
        &self,
        values: &mut Vec<Value>,
        kind: PatchOpKind,
        filter: Option<&Filter>,
        sub_attribute: Option<&str>,
        value: Value,
    ) -> Result<(), ScimError> {
        let selected = self.select(values, filter)?;
        let touched = if !selected.is_empty() {
            self.change_selected(values, &selected, kind, sub_attribute, value)?
        } else if kind == PatchOpKind::Replace && filter.is_some() {
            return Err(self.no_match(filter));
        } else {
            values.push(Value::Object(self.described_value(
                filter,
                sub_attribute,
                value,
            )?));
            vec![values.len() - 1]
        };
        self.keep_one_primary(values, &touched)
    }

    /// The value to add when an `add` selects nothing: what the filter's `eq` conditions
    /// describe, plus the operation's value.
    fn described_value(
        &self,
        filter: Option<&Filter>,
        sub_attribute: Option<&str>,
        value: Value,
    ) -> Result<Map<String, Value>, ScimError> {
        let Some(mut element) = filter.map_or(Some(Map::new()), equality_seed) else {
            return Err(ScimError::no_target(format!(
                "no value of \"{}\" matches {}, and the filter does not describe a value to \
                 add (only \"eq\" conditions joined by \"and\" do)",
                self.name(),
                describe(filter)
            )));
        };
        match (sub_attribute, value) {
            (Some(sub_attribute), value) => object::insert(&mut element, sub_attribute, value),
            (None, Value::Object(members)) => object::merge_into(&mut element, members),
            (None, _) => {
                return Err(ScimError::invalid_value(format!(
                    "a value of \"{}\" must be an object",
                    self.name()
                )));
            }
        }
        element.retain(|_, member| !member.is_null());
        Ok(element)
    }

    fn change_selected(
        &self,
        values: &mut Vec<Value>,
        selected: &[usize],
        kind: PatchOpKind,
        sub_attribute: Option<&str>,
        value: Value,
    ) -> Result<Vec<usize>, ScimError> {
        match sub_attribute {
            Some(sub_attribute) => {
                for &index in selected {
                    let Value::Object(element) = &mut values[index] else {
                        return Err(ScimError::invalid_path(format!(
                            "the values of \"{}\" have no sub-attribute \"{sub_attribute}\"",
                            self.name()
                        )));
                    };
                    if value.is_null() {
                        object::remove(element, sub_attribute);
                    } else {
                        object::insert(element, sub_attribute, value.clone());
                    }
                }
                Ok(selected.to_vec())
            }
            // Replacing selected values with null unassigns them (RFC 7643 §2.5).
            None if value.is_null() && kind == PatchOpKind::Replace => {
                remove_indices(values, selected);
                Ok(Vec::new())
            }
            None => {
                for &index in selected {
                    match (&mut values[index], &value) {
                        (Value::Object(element), Value::Object(update))
                            if kind == PatchOpKind::Add =>
                        {
                            object::merge_into(element, update.clone());
                        }
                        (element, update) => *element = update.clone(),
                    }
                }
                Ok(selected.to_vec())
            }
        }
    }

    /// `remove` of the values `filter` selects (all values when it is `None`), or of their
    /// `sub_attribute`. Selecting nothing is not an error: the values are already gone.
    pub(crate) fn remove_selected(
        &self,
        container: &mut Map<String, Value>,
        filter: Option<&Filter>,
        sub_attribute: Option<&str>,
    ) -> Result<(), ScimError> {
        let (key, mut values) = self.take_values(container);
        let result = self
            .select(&values, filter)
            .map(|selected| match sub_attribute {
                None => remove_indices(&mut values, &selected),
                Some(sub_attribute) => {
                    for index in selected {
                        if let Value::Object(element) = &mut values[index] {
                            object::remove(element, sub_attribute);
                        }
                    }
                }
            });
        store(container, key, values);
        result
    }

    /// `remove` with a `value` listing the values to drop. RFC 7644 has no such form, but
    /// Entra ID removes group members as `{"op":"Remove","path":"members","value":[{"value":
    /// "…"}]}` and means just those members, not all of them.
    pub(crate) fn remove_listed(&self, container: &mut Map<String, Value>, listed: Vec<Value>) {
        let (key, mut values) = self.take_values(container);
        values.retain(|existing| !listed.iter().any(|gone| self.same_value(existing, gone)));
        store(container, key, values);
    }

    /// Moves the attribute's values out of `container`, with the key they were stored
    /// under so `store` can put them back under the same spelling. A stored single value
    /// (from before the attribute became multi-valued) counts as a list of one.
    fn take_values(&self, container: &mut Map<String, Value>) -> (String, Vec<Value>) {
        let key =
            object::find_key(container, self.name()).unwrap_or_else(|| self.name().to_owned());
        let values = container.remove(&key).map_or_else(Vec::new, as_values);
        (key, values)
    }

    fn select(&self, values: &[Value], filter: Option<&Filter>) -> Result<Vec<usize>, ScimError> {
        let mut selected = Vec::new();
        for (index, element) in values.iter().enumerate() {
            let is_match = match filter {
                Some(filter) => matches(filter, element, self.attribute, self.rules)?,
                None => true,
            };
            if is_match {
                selected.push(index);
            }
        }
        Ok(selected)
    }

    fn no_match(&self, filter: Option<&Filter>) -> ScimError {
        ScimError::no_target(format!(
            "no value of \"{}\" matches {}",
            self.name(),
            describe(filter)
        ))
    }

    /// Whether two values are the same value of this attribute: by `value` when either has
    /// one (compared as `caseExact` says), otherwise by plain equality.
    fn same_value(&self, existing: &Value, candidate: &Value) -> bool {
        match (identity(existing), identity(candidate)) {
            (Some(Value::String(left)), Some(Value::String(right))) => {
                if self.rules.is_case_exact(&self.value_path()) {
                    left == right
                } else {
                    left.to_lowercase() == right.to_lowercase()
                }
            }
            (Some(left), Some(right)) => left == right,
            (None, None) => existing == candidate,
            _ => false,
        }
    }

    fn value_path(&self) -> AttributePath {
        AttributePath {
            schema_urn: self.attribute.schema_urn.clone(),
            attribute: self.attribute.attribute.clone(),
            sub_attribute: Some("value".to_owned()),
        }
    }

    fn check_at_most_one_primary<'value>(
        &self,
        values: impl Iterator<Item = &'value Value>,
    ) -> Result<(), ScimError> {
        if values.filter(|value| is_primary(value)).count() > 1 {
            return Err(self.too_many_primaries());
        }
        Ok(())
    }

    /// RFC 7643 §2.4: `primary: true` appears at most once. When a value touched by this
    /// operation is primary, every other value loses `primary`.
    fn keep_one_primary(&self, values: &mut [Value], touched: &[usize]) -> Result<(), ScimError> {
        let mut primaries: Vec<usize> = touched
            .iter()
            .copied()
            .filter(|&index| is_primary(&values[index]))
            .collect();
        primaries.dedup();
        match primaries.as_slice() {
            [] => Ok(()),
            [primary] => {
                for (index, value) in values.iter_mut().enumerate() {
                    if index != *primary
                        && is_primary(value)
                        && let Value::Object(element) = value
                    {
                        object::insert(element, "primary", Value::Bool(false));
                    }
                }
                Ok(())
            }
            _ => Err(self.too_many_primaries()),
        }
    }

    fn too_many_primaries(&self) -> ScimError {
        ScimError::invalid_value(format!(
            "at most one value of \"{}\" may have \"primary\": true",
            self.name()
        ))
    }
}

fn identity(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(members) => object::get(members, "value"),
        // A simple multi-valued attribute's values are their own `value`.
        other => Some(other),
    }
}

fn is_primary(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|members| object::is_true(object::get(members, "primary")))
}

/// Stores `values` under `key`, or leaves the attribute unassigned when there are none
/// (RFC 7643 §2.5: an empty list and no value are the same).
fn store(container: &mut Map<String, Value>, key: String, values: Vec<Value>) {
    if !values.is_empty() {
        container.insert(key, Value::Array(values));
    }
}

fn remove_indices(values: &mut Vec<Value>, indices: &[usize]) {
    let mut index = 0;
    values.retain(|_| {
        let keep = !indices.contains(&index);
        index += 1;
        keep
    });
}

fn describe(filter: Option<&Filter>) -> String {
    filter.map_or_else(
        || "the path".to_owned(),
        |filter| format!("the filter [{filter}]"),
    )
}

/// The value a filter of `eq` conditions joined by `and` describes: `type eq "work"` gives
/// `{"type": "work"}`. Anything else (`or`, `ne`, `pr`, …) describes no single value.
fn equality_seed(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            operator: CompareOperator::Equal,
            value,
        } if path.schema_urn.is_none() && path.sub_attribute.is_none() => {
            let value = match value {
                ComparisonValue::String(text) => Value::String(text.clone()),
                ComparisonValue::Number(number) => Value::Number(number.clone()),
                ComparisonValue::Boolean(flag) => Value::Bool(*flag),
                ComparisonValue::Null => Value::Null,
            };
            let mut seed = Map::new();
            seed.insert(path.attribute.clone(), value);
            Some(seed)
        }
        Filter::And(left, right) => {
            let mut seed = equality_seed(left)?;
            object::merge_into(&mut seed, equality_seed(right)?);
            Some(seed)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
