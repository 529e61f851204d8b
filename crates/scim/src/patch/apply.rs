//! Applies PATCH operations to a resource held as a JSON object (RFC 7644 §3.5.2.1–3). It
//! decides where each operation lands (top level, an extension's object, a sub-attribute,
//! the values a filter selects) and enforces mutability; the list rules for multi-valued
//! attributes live in `multi_valued.rs`. Operations run against a copy that replaces the
//! resource only when all of them succeed, so a request is all-or-nothing as RFC 7644
//! §3.5.2 requires.

use serde_json::{Map, Value};

use super::multi_valued::{MultiValued, as_values};
use super::object;
use super::request::{PatchOpKind, PatchOperation};
use super::rules::{AttributeRules, is_core_schema, looks_like_schema_urn};
use crate::error::ScimError;
use crate::filter::{AttributePath, Filter};
use crate::path::PatchPath;

/// Applies `operations` in order to `resource`, which must be a JSON object. On error the
/// resource is unchanged and the error names the failing operation (`Operations[2]: …`).
pub fn apply_operations(
    resource: &mut Value,
    operations: &[PatchOperation],
    rules: &dyn AttributeRules,
) -> Result<(), ScimError> {
    let Value::Object(original) = resource else {
        return Err(ScimError::internal(
            "a PATCH can only be applied to a resource that is a JSON object",
        ));
    };
    let patcher = Patcher { rules };
    let mut working = original.clone();
    for (index, operation) in operations.iter().enumerate() {
        patcher
            .apply(&mut working, operation)
            .map_err(|mut error| {
                error.detail = format!("Operations[{index}]: {}", error.detail);
                error
            })?;
    }
    *original = working;
    Ok(())
}

struct Patcher<'rules> {
    rules: &'rules dyn AttributeRules,
}

/// Where a path points once schema URNs are sorted out.
enum Resolved<'path> {
    /// A whole extension, such as `urn:…:enterprise:2.0:User`.
    Extension(String),
    Attribute(Target<'path>),
}

struct Target<'path> {
    /// The extension schema whose object holds the attribute; `None` for the top level.
    extension: Option<String>,
    /// The attribute as `AttributeRules` is asked about it (sub-attribute kept separately).
    attribute: AttributePath,
    sub_attribute: Option<String>,
    filter: Option<&'path Filter>,
}

impl Target<'_> {
    fn name(&self) -> &str {
        &self.attribute.attribute
    }

    fn sub_path(&self, sub_attribute: &str) -> AttributePath {
        AttributePath {
            sub_attribute: Some(sub_attribute.to_owned()),
            ..self.attribute.clone()
        }
    }

    fn describe(&self) -> String {
        match &self.sub_attribute {
            Some(sub_attribute) => format!("{}.{sub_attribute}", self.attribute),
            None => self.attribute.to_string(),
        }
    }
}

impl Patcher<'_> {
    fn apply(
        &self,
        resource: &mut Map<String, Value>,
        operation: &PatchOperation,
    ) -> Result<(), ScimError> {
        let value = operation.value.clone();
        let Some(path) = &operation.path else {
            return match (operation.op, value) {
                (PatchOpKind::Remove, _) => Err(ScimError::no_target(
                    "a \"remove\" operation needs a \"path\" naming what to remove",
                )),
                (kind, Some(Value::Object(attributes))) => {
                    self.set_attributes(resource, kind, attributes, None)
                }
                (kind, _) => Err(ScimError::invalid_value(format!(
                    "an \"{kind}\" operation without a \"path\" needs an object \"value\""
                ))),
            };
        };
        match (self.resolve(resource, path)?, operation.op, value) {
            (Resolved::Extension(urn), PatchOpKind::Remove, _)
            | (Resolved::Extension(urn), _, Some(Value::Null)) => {
                remove_extension(resource, &urn);
                Ok(())
            }
            (Resolved::Extension(urn), kind, Some(Value::Object(attributes))) => {
                self.set_attributes(resource, kind, attributes, Some(&urn))
            }
            (Resolved::Extension(urn), _, _) => Err(ScimError::invalid_value(format!(
                "the value for \"{urn}\" must be an object of its attributes"
            ))),
            (Resolved::Attribute(target), PatchOpKind::Remove, value) => {
                self.remove(resource, &target, value)
            }
            (Resolved::Attribute(target), kind, Some(value)) => {
                self.set(resource, &target, kind, value)
            }
            (Resolved::Attribute(_), kind, None) => Err(ScimError::invalid_value(format!(
                "an \"{kind}\" operation needs a \"value\""
            ))),
        }
    }

    fn resolve<'path>(
        &self,
        resource: &Map<String, Value>,
        path: &'path PatchPath,
    ) -> Result<Resolved<'path>, ScimError> {
        let names_whole_schema =
            path.value_filter.is_none() && path.target_sub_attribute().is_none();
        if let (true, Some(urn)) = (names_whole_schema, &path.attribute.schema_urn) {
            // `urn:…:2.0:User` parses as schema `urn:…:2.0` plus attribute `User`.
            let whole = format!("{urn}:{}", path.attribute.attribute);
            if self.is_extension(resource, &whole) {
                return Ok(Resolved::Extension(whole));
            }
        }
        let extension = self.extension_of(resource, path.attribute.schema_urn.as_deref())?;
        Ok(Resolved::Attribute(Target {
            attribute: AttributePath {
                schema_urn: extension.clone(),
                attribute: path.attribute.attribute.clone(),
                sub_attribute: None,
            },
            extension,
            sub_attribute: path.target_sub_attribute().map(str::to_owned),
            filter: path.value_filter.as_ref(),
        }))
    }

    fn is_extension(&self, resource: &Map<String, Value>, urn: &str) -> bool {
        !is_core_schema(urn) && (self.rules.is_extension_schema(urn) || is_listed(resource, urn))
    }

    /// The extension that holds attributes qualified with `schema_urn`: none for core (and
    /// unqualified) attributes, which live at the top level.
    fn extension_of(
        &self,
        resource: &Map<String, Value>,
        schema_urn: Option<&str>,
    ) -> Result<Option<String>, ScimError> {
        match schema_urn {
            None => Ok(None),
            Some(urn) if is_core_schema(urn) => Ok(None),
            Some(urn) if self.is_extension(resource, urn) => Ok(Some(urn.to_owned())),
            Some(urn) => Err(ScimError::invalid_path(format!(
                "unknown schema {urn:?}: it is neither a core schema nor an extension of this \
                 resource type"
            ))),
        }
    }

    /// A path-less `add`/`replace` (or one whose path is a whole extension): every member of
    /// the value is an attribute path and its value. Keys may be plain (`displayName`),
    /// dotted (`name.givenName`, sent by Entra ID), schema-qualified, or a schema URN whose
    /// value is an object of that schema's attributes.
    fn set_attributes(
        &self,
        resource: &mut Map<String, Value>,
        kind: PatchOpKind,
        attributes: Map<String, Value>,
        extension: Option<&str>,
    ) -> Result<(), ScimError> {
        for (key, value) in attributes {
            if extension.is_none() && self.is_schema_key(resource, &key) {
                self.set_schema_object(resource, kind, &key, value)?;
                continue;
            }
            let path = AttributePath::parse(&key).map_err(|error| {
                ScimError::invalid_path(format!(
                    "invalid attribute {key:?} in the \"value\" object: {}",
                    error.message()
                ))
            })?;
            let extension = match (extension, &path.schema_urn) {
                (Some(_), Some(_)) => {
                    return Err(ScimError::invalid_path(format!(
                        "attribute {key:?} inside an extension's object must not repeat a schema"
                    )));
                }
                (Some(urn), None) => Some(urn.to_owned()),
                (None, schema_urn) => self.extension_of(resource, schema_urn.as_deref())?,
            };
            let target = Target {
                attribute: AttributePath {
                    schema_urn: extension.clone(),
                    attribute: path.attribute,
                    sub_attribute: None,
                },
                extension,
                sub_attribute: path.sub_attribute,
                filter: None,
            };
            self.set(resource, &target, kind, value)?;
        }
        Ok(())
    }

    /// Whether a member of a path-less value is a whole schema (`urn:…:2.0:User`) rather
    /// than an attribute path.
    fn is_schema_key(&self, resource: &Map<String, Value>, key: &str) -> bool {
        self.is_extension(resource, key) || (is_core_schema(key) && looks_like_schema_urn(key))
    }

    /// A value member named by a schema URN: its value holds that schema's attributes, or is
    /// null to drop an extension altogether.
    fn set_schema_object(
        &self,
        resource: &mut Map<String, Value>,
        kind: PatchOpKind,
        key: &str,
        value: Value,
    ) -> Result<(), ScimError> {
        let extension = (!is_core_schema(key)).then_some(key);
        match (value, extension) {
            (Value::Object(attributes), extension) => {
                self.set_attributes(resource, kind, attributes, extension)
            }
            (Value::Null, Some(urn)) => {
                remove_extension(resource, urn);
                Ok(())
            }
            _ => Err(ScimError::invalid_value(format!(
                "the value of {key:?} must be an object of that schema's attributes"
            ))),
        }
    }

    /// `add` or `replace` of one attribute, sub-attribute or selection of values.
    fn set(
        &self,
        resource: &mut Map<String, Value>,
        target: &Target<'_>,
        kind: PatchOpKind,
        value: Value,
    ) -> Result<(), ScimError> {
        let value = self.coerce(target, value);
        let guarded = self.read_only_parts(target, &value);
        let container = match &target.extension {
            None => &mut *resource,
            Some(urn) => object::object_entry(resource, urn).ok_or_else(|| {
                ScimError::invalid_value(format!("the stored \"{urn}\" is not an object"))
            })?,
        };
        change_guarded(container, target, &guarded, |container| {
            self.set_in(container, target, kind, value)
        })?;
        sync_extension(resource, target);
        Ok(())
    }

    fn set_in(
        &self,
        container: &mut Map<String, Value>,
        target: &Target<'_>,
        kind: PatchOpKind,
        value: Value,
    ) -> Result<(), ScimError> {
        let name = target.name();
        if let Some(values) = self.multi_valued(target) {
            return match (target.filter, &target.sub_attribute, kind) {
                (None, None, PatchOpKind::Add) => values.add(container, as_values(value)),
                (None, None, _) => values.replace(container, as_values(value)),
                (filter, sub_attribute, _) => {
                    values.set_selected(container, kind, filter, sub_attribute.as_deref(), value)
                }
            };
        }
        self.check_no_filter(target)?;
        match &target.sub_attribute {
            Some(sub_attribute) => {
                let Some(parent) = object::object_entry(container, name) else {
                    return Err(ScimError::invalid_path(format!(
                        "\"{name}\" is not a complex attribute, so it has no sub-attribute \
                         \"{sub_attribute}\""
                    )));
                };
                if value.is_null() {
                    object::remove(parent, sub_attribute);
                } else {
                    object::insert(parent, sub_attribute, value);
                }
            }
            None => match (object::get_mut(container, name), value) {
                (_, Value::Null) => {
                    object::remove(container, name);
                }
                // RFC 7644 §3.5.2.1 and §3.5.2.3: a complex value sets the sub-attributes it
                // names and leaves the others alone.
                (Some(Value::Object(existing)), Value::Object(update)) => {
                    object::merge_into(existing, update);
                }
                (_, Value::Object(mut members)) => {
                    members.retain(|_, member| !member.is_null());
                    object::insert(container, name, Value::Object(members));
                }
                (_, value) => object::insert(container, name, value),
            },
        }
        remove_if_empty_object(container, name);
        Ok(())
    }

    /// `remove` of one attribute, sub-attribute or selection of values.
    fn remove(
        &self,
        resource: &mut Map<String, Value>,
        target: &Target<'_>,
        value: Option<Value>,
    ) -> Result<(), ScimError> {
        let guarded = self.read_only_parts(target, &Value::Null);
        let container = match &target.extension {
            None => Some(&mut *resource),
            Some(urn) => object::get_mut(resource, urn).and_then(Value::as_object_mut),
        };
        // Removing from an extension the resource does not have leaves nothing to do.
        let Some(container) = container else {
            return Ok(());
        };
        change_guarded(container, target, &guarded, |container| {
            self.remove_in(container, target, value)
        })?;
        sync_extension(resource, target);
        Ok(())
    }

    fn remove_in(
        &self,
        container: &mut Map<String, Value>,
        target: &Target<'_>,
        value: Option<Value>,
    ) -> Result<(), ScimError> {
        let name = target.name();
        if let Some(values) = self.multi_valued(target) {
            return match (target.filter, &target.sub_attribute, value) {
                (None, None, Some(listed)) if !listed.is_null() => {
                    values.remove_listed(container, as_values(listed));
                    Ok(())
                }
                (None, None, _) => {
                    object::remove(container, name);
                    Ok(())
                }
                (filter, sub_attribute, _) => {
                    values.remove_selected(container, filter, sub_attribute.as_deref())
                }
            };
        }
        self.check_no_filter(target)?;
        match &target.sub_attribute {
            Some(sub_attribute) => {
                if let Some(Value::Object(parent)) = object::get_mut(container, name) {
                    object::remove(parent, sub_attribute);
                }
                remove_if_empty_object(container, name);
            }
            None => {
                object::remove(container, name);
            }
        }
        Ok(())
    }

    /// The list rules for the target, if its attribute is multi-valued.
    fn multi_valued<'a>(&'a self, target: &'a Target<'_>) -> Option<MultiValued<'a>> {
        self.rules
            .is_multi_valued(&target.attribute)
            .then_some(MultiValued {
                attribute: &target.attribute,
                rules: self.rules,
            })
    }

    fn check_no_filter(&self, target: &Target<'_>) -> Result<(), ScimError> {
        match target.filter {
            Some(filter) => Err(ScimError::invalid_path(format!(
                "\"{}\" is single-valued, so it cannot take a value filter [{filter}]",
                target.attribute
            ))),
            None => Ok(()),
        }
    }

    /// The parts of the target that are read-only: `None` for the whole attribute, or the
    /// names of read-only sub-attributes the operation could change.
    fn read_only_parts(&self, target: &Target<'_>, value: &Value) -> Vec<Option<String>> {
        if self.rules.is_read_only(&target.attribute) {
            return vec![None];
        }
        let sub_attributes: Vec<String> = match (&target.sub_attribute, value) {
            (Some(sub_attribute), _) => vec![sub_attribute.clone()],
            (None, Value::Object(members)) => members.keys().cloned().collect(),
            (None, _) => Vec::new(),
        };
        sub_attributes
            .into_iter()
            .filter(|sub_attribute| self.rules.is_read_only(&target.sub_path(sub_attribute)))
            .map(Some)
            .collect()
    }

    /// Entra ID sends boolean attributes as `"True"`/`"False"` strings; they are stored as
    /// booleans. It also sends the enterprise `manager` as a bare id string rather than the
    /// complex `{"value": id}` (and `""` to clear it).
    fn coerce(&self, target: &Target<'_>, value: Value) -> Value {
        let is_manager = target.extension.is_some()
            && target.name().eq_ignore_ascii_case("manager")
            && target.sub_attribute.is_none()
            && target.filter.is_none();
        let value = match value {
            Value::String(id) if is_manager && id.is_empty() => Value::Null,
            Value::String(id) if is_manager => {
                let mut manager = Map::new();
                manager.insert("value".to_owned(), Value::String(id));
                Value::Object(manager)
            }
            other => other,
        };
        match &target.sub_attribute {
            Some(sub_attribute) => coerce_boolean(
                value,
                self.rules.is_boolean(&target.sub_path(sub_attribute)),
            ),
            None => match value {
                Value::Array(values) => Value::Array(
                    values
                        .into_iter()
                        .map(|element| self.coerce_value(target, element))
                        .collect(),
                ),
                other => self.coerce_value(target, other),
            },
        }
    }

    fn coerce_value(&self, target: &Target<'_>, value: Value) -> Value {
        match value {
            Value::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(name, member)| {
                        let is_boolean = self.rules.is_boolean(&target.sub_path(&name));
                        (name, coerce_boolean(member, is_boolean))
                    })
                    .collect(),
            ),
            other => coerce_boolean(other, self.rules.is_boolean(&target.attribute)),
        }
    }
}

fn coerce_boolean(value: Value, is_boolean: bool) -> Value {
    match value {
        Value::String(text) if is_boolean && text.eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(text) if is_boolean && text.eq_ignore_ascii_case("false") => {
            Value::Bool(false)
        }
        other => other,
    }
}

/// The current values of the read-only parts, to compare after the change.
fn snapshot(container: &Map<String, Value>, name: &str, guarded: &[Option<String>]) -> Vec<Value> {
    guarded
        .iter()
        .map(|part| {
            let attribute = object::get(container, name).cloned().unwrap_or(Value::Null);
            match part {
                None => attribute,
                Some(sub_attribute) => project(&attribute, sub_attribute),
            }
        })
        .collect()
}

/// A sub-attribute's values throughout an attribute (every value's, if multi-valued).
fn project(attribute: &Value, sub_attribute: &str) -> Value {
    match attribute {
        Value::Object(members) => object::get(members, sub_attribute)
            .cloned()
            .unwrap_or(Value::Null),
        Value::Array(values) => Value::Array(
            values
                .iter()
                .map(|value| project(value, sub_attribute))
                .filter(|value| !value.is_null())
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Runs `change` on `container`, the object that holds the target, and fails if it changed
/// one of the `guarded` read-only parts. Read-only parts may be restated but not changed:
/// Okta echoes `id` in path-less replaces.
fn change_guarded(
    container: &mut Map<String, Value>,
    target: &Target<'_>,
    guarded: &[Option<String>],
    change: impl FnOnce(&mut Map<String, Value>) -> Result<(), ScimError>,
) -> Result<(), ScimError> {
    let before = snapshot(container, target.name(), guarded);
    change(container)?;
    let after = snapshot(container, target.name(), guarded);
    for ((part, before), after) in guarded.iter().zip(&before).zip(&after) {
        if before != after {
            let path = match part {
                Some(sub_attribute) => format!("{}.{sub_attribute}", target.attribute),
                None => target.describe(),
            };
            return Err(ScimError::mutability(format!("\"{path}\" is read-only")));
        }
    }
    Ok(())
}

fn remove_if_empty_object(container: &mut Map<String, Value>, name: &str) {
    if matches!(object::get(container, name), Some(Value::Object(members)) if members.is_empty()) {
        object::remove(container, name);
    }
}

fn is_listed(resource: &Map<String, Value>, urn: &str) -> bool {
    matches!(object::get(resource, "schemas"), Some(Value::Array(schemas))
        if schemas.iter().any(|schema| schema.as_str().is_some_and(|listed| listed.eq_ignore_ascii_case(urn))))
}

/// Keeps `schemas` in step with the target's extension object (if it is in one) after a
/// change: an extension with attributes is listed (RFC 7643 §3), an emptied one is dropped
/// along with its listing.
fn sync_extension(resource: &mut Map<String, Value>, target: &Target<'_>) {
    let Some(urn) = target.extension.as_deref() else {
        return;
    };
    let has_attributes = match object::get(resource, urn) {
        None => return,
        Some(Value::Object(members)) => !members.is_empty(),
        Some(value) => !value.is_null(),
    };
    if !has_attributes {
        remove_extension(resource, urn);
    } else if !is_listed(resource, urn)
        && let Some(Value::Array(schemas)) = object::get_mut(resource, "schemas")
    {
        schemas.push(Value::String(urn.to_owned()));
    }
}

fn remove_extension(resource: &mut Map<String, Value>, urn: &str) {
    object::remove(resource, urn);
    if let Some(Value::Array(schemas)) = object::get_mut(resource, "schemas") {
        schemas.retain(|schema| {
            !schema
                .as_str()
                .is_some_and(|listed| listed.eq_ignore_ascii_case(urn))
        });
    }
}

#[cfg(test)]
mod tests;
