//! The registry: every schema and resource type Gatehouse serves, built once, and the lookup
//! that turns an attribute path from a filter, a PATCH path or `attributes=` into its
//! definition. Filters and PATCH are validated against it (an unknown attribute is
//! `invalidFilter` or `invalidPath`), and it tells the server an attribute's type,
//! case-sensitivity and mutability, so all of them agree on what an attribute is.

use std::sync::LazyLock;

use super::attribute::AttributeDefinition;
use super::common::common_attributes;
use super::custom_fields::custom_fields_schema;
use super::definition::SchemaDefinition;
use super::enterprise_user::enterprise_user_schema;
use super::gatehouse_group::gatehouse_group_schema;
use super::group::group_schema;
use super::resource_type::{ResourceKind, ResourceTypeDefinition};
use super::user::user_schema;
use crate::filter::AttributePath;

static USER_SCHEMA: LazyLock<SchemaDefinition> = LazyLock::new(user_schema);
static ENTERPRISE_USER_SCHEMA: LazyLock<SchemaDefinition> = LazyLock::new(enterprise_user_schema);
static CUSTOM_FIELDS_SCHEMA: LazyLock<SchemaDefinition> = LazyLock::new(custom_fields_schema);
static GROUP_SCHEMA: LazyLock<SchemaDefinition> = LazyLock::new(group_schema);
static GATEHOUSE_GROUP_SCHEMA: LazyLock<SchemaDefinition> = LazyLock::new(gatehouse_group_schema);
static COMMON_ATTRIBUTES: LazyLock<Vec<AttributeDefinition>> = LazyLock::new(common_attributes);

/// Every schema, in the order `/Schemas` lists them: User, Enterprise User, Xurrent's custom
/// fields, Group, and Gatehouse's Group extension.
pub fn schemas() -> Vec<&'static SchemaDefinition> {
    vec![
        &USER_SCHEMA,
        &ENTERPRISE_USER_SCHEMA,
        &CUSTOM_FIELDS_SCHEMA,
        &GROUP_SCHEMA,
        &GATEHOUSE_GROUP_SCHEMA,
    ]
}

/// The schema with URN `id`, compared ignoring ASCII case, for `/Schemas/{id}`.
pub fn schema(id: &str) -> Option<&'static SchemaDefinition> {
    schemas().into_iter().find(|schema| schema.has_id(id))
}

/// Every resource type, in the order `/ResourceTypes` lists them.
pub fn resource_types() -> Vec<&'static ResourceTypeDefinition> {
    ResourceKind::ALL
        .iter()
        .map(|kind| kind.resource_type())
        .collect()
}

/// The resource type with id `id` (`User`, `Group`), compared ignoring ASCII case, for
/// `/ResourceTypes/{id}`.
pub fn resource_type(id: &str) -> Option<&'static ResourceTypeDefinition> {
    resource_types()
        .into_iter()
        .find(|resource_type| resource_type.id.eq_ignore_ascii_case(id))
}

/// The common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1).
pub fn common_attribute_definitions() -> &'static [AttributeDefinition] {
    &COMMON_ATTRIBUTES
}

/// Where a resolved attribute is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeOwner {
    /// One of the common attributes `id`, `externalId` and `meta`, stored at the top level.
    Common,
    /// The resource's core schema; the attribute sits at the top level of the resource.
    CoreSchema(&'static SchemaDefinition),
    /// An extension schema; the attribute sits in the object keyed by the extension's URN.
    ExtensionSchema(&'static SchemaDefinition),
}

/// An attribute path resolved against a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttribute {
    pub owner: AttributeOwner,
    /// The top-level attribute, e.g. `emails` for `emails.value`.
    pub attribute: &'static AttributeDefinition,
    /// The sub-attribute, when the path names one.
    pub sub_attribute: Option<&'static AttributeDefinition>,
}

impl ResolvedAttribute {
    /// The definition the path names: the sub-attribute if there is one, else the attribute.
    pub fn definition(&self) -> &'static AttributeDefinition {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    /// The extension URN in its canonical spelling, which is the key the extension's
    /// attributes are stored under whatever case the client used.
    pub fn extension_urn(&self) -> Option<&'static str> {
        match self.owner {
            AttributeOwner::ExtensionSchema(schema) => Some(schema.id),
            AttributeOwner::Common | AttributeOwner::CoreSchema(_) => None,
        }
    }
}

/// Resolves `path` for a resource of kind `resource`, or `None` if it names nothing.
///
/// Names and URNs are compared ignoring ASCII case (RFC 7643 §2.1). A path without a URN, or
/// qualified with the resource's core schema URN, names a common or core attribute (RFC 7644
/// §3.10: clients may omit the core URN); an extension attribute must be qualified with its
/// extension's URN, and only the resource type's own extensions count, so the Enterprise
/// User URN names nothing on a Group. A sub-attribute must belong to a complex attribute.
///
/// A bare extension URN (`urn:…:enterprise:2.0:User`) parses as attribute `User` of schema
/// `urn:…:enterprise:2.0`, and so resolves to nothing: it names a schema, not an attribute.
pub fn resolve_attribute(
    resource: ResourceKind,
    path: &AttributePath,
) -> Option<ResolvedAttribute> {
    let resource_type = resource.resource_type();
    let core_schema = schema(resource_type.schema)?;
    let extension_schema = match path.schema_urn.as_deref() {
        None => None,
        Some(urn) if core_schema.has_id(urn) => None,
        Some(urn) if resource_type.has_extension(urn) => Some(schema(urn)?),
        Some(_) => return None,
    };
    let (owner, attribute) = match extension_schema {
        Some(extension_schema) => (
            AttributeOwner::ExtensionSchema(extension_schema),
            extension_schema.attribute(&path.attribute)?,
        ),
        None => match common_attribute(&path.attribute) {
            Some(attribute) => (AttributeOwner::Common, attribute),
            None => (
                AttributeOwner::CoreSchema(core_schema),
                core_schema.attribute(&path.attribute)?,
            ),
        },
    };
    let sub_attribute = match path.sub_attribute.as_deref() {
        None => None,
        Some(name) => Some(attribute.sub_attribute(name)?),
    };
    Some(ResolvedAttribute {
        owner,
        attribute,
        sub_attribute,
    })
}

/// The definition `path` names on a resource of kind `resource` (see `resolve_attribute`).
pub fn find_attribute(
    resource: ResourceKind,
    path: &AttributePath,
) -> Option<&'static AttributeDefinition> {
    resolve_attribute(resource, path).map(|resolved| resolved.definition())
}

fn common_attribute(name: &str) -> Option<&'static AttributeDefinition> {
    common_attribute_definitions()
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;
