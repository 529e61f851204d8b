use super::*;
use crate::schema::attribute::{AttributeType, Mutability, Returned};
use crate::schema::{
    CUSTOM_FIELDS_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN, GATEHOUSE_GROUP_SCHEMA_URN,
    GROUP_SCHEMA_URN, USER_SCHEMA_URN,
};

fn path(text: &str) -> AttributePath {
    match AttributePath::parse(text) {
        Ok(path) => path,
        Err(error) => panic!("{text} should parse: {error}"),
    }
}

fn found(resource: ResourceKind, text: &str) -> &'static AttributeDefinition {
    match find_attribute(resource, &path(text)) {
        Some(attribute) => attribute,
        None => panic!("{text} should resolve on {resource:?}"),
    }
}

fn missing(resource: ResourceKind, text: &str) -> bool {
    find_attribute(resource, &path(text)).is_none()
}

#[test]
fn schemas_are_listed_in_order_and_found_ignoring_case() {
    let ids: Vec<&str> = schemas().iter().map(|schema| schema.id).collect();
    assert_eq!(
        ids,
        [
            USER_SCHEMA_URN,
            ENTERPRISE_USER_SCHEMA_URN,
            CUSTOM_FIELDS_SCHEMA_URN,
            GROUP_SCHEMA_URN,
            GATEHOUSE_GROUP_SCHEMA_URN,
        ]
    );
    assert_eq!(
        schema("urn:ietf:params:scim:schemas:core:2.0:user").map(|schema| schema.name),
        Some("User")
    );
    assert_eq!(
        schema("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER")
            .map(|schema| schema.name),
        Some("EnterpriseUser")
    );
    assert!(schema("urn:ietf:params:scim:schemas:core:2.0").is_none());
    assert!(schema("User").is_none());
}

#[test]
fn schemas_are_built_once_and_shared() {
    let first = schema(USER_SCHEMA_URN);
    let second = schema(USER_SCHEMA_URN);
    assert!(matches!((first, second), (Some(first), Some(second)) if std::ptr::eq(first, second)));
}

#[test]
fn resource_types_are_listed_and_found_ignoring_case() {
    let ids: Vec<&str> = resource_types()
        .iter()
        .map(|resource| resource.id)
        .collect();
    assert_eq!(ids, ["User", "Group"]);
    assert_eq!(
        resource_type("group").map(|resource| resource.endpoint),
        Some("/Groups")
    );
    assert!(resource_type("Users").is_none());
    for resource_type in resource_types() {
        assert!(schema(resource_type.schema).is_some());
        for extension in resource_type.schema_extensions {
            assert!(schema(extension.schema).is_some(), "{}", extension.schema);
        }
    }
}

#[test]
fn core_attributes_resolve_with_or_without_the_core_urn_in_any_case() {
    for text in [
        "userName",
        "USERNAME",
        "username",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:username",
    ] {
        assert_eq!(found(ResourceKind::User, text).name, "userName", "{text}");
    }
    assert_eq!(
        found(
            ResourceKind::Group,
            "urn:ietf:params:scim:schemas:core:2.0:group:DisplayName"
        )
        .name,
        "displayName"
    );
}

#[test]
fn sub_attributes_resolve_ignoring_case() {
    assert_eq!(
        found(ResourceKind::User, "name.familyName").name,
        "familyName"
    );
    assert_eq!(
        found(ResourceKind::User, "NAME.FAMILYNAME").name,
        "familyName"
    );
    let primary = found(
        ResourceKind::User,
        "urn:ietf:params:scim:schemas:core:2.0:User:emails.Primary",
    );
    assert_eq!(primary.attribute_type, AttributeType::Boolean);
    assert_eq!(
        found(ResourceKind::Group, "members.value").mutability,
        Mutability::Immutable
    );
    assert_eq!(found(ResourceKind::Group, "members.$REF").name, "$ref");
    assert_eq!(
        found(ResourceKind::User, "groups.display").mutability,
        Mutability::ReadOnly
    );
}

#[test]
fn common_attributes_resolve_on_every_resource() {
    for resource in ResourceKind::ALL {
        let id = found(resource, "id");
        assert!(id.case_exact);
        assert_eq!(id.returned, Returned::Always);
        assert!(found(resource, "EXTERNALID").case_exact);
        assert_eq!(found(resource, "meta").mutability, Mutability::ReadOnly);
        assert_eq!(
            found(resource, "meta.lastModified").attribute_type,
            AttributeType::DateTime
        );
        assert_eq!(found(resource, "Meta.ResourceType").name, "resourceType");
    }
    assert_eq!(
        found(
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:core:2.0:User:id"
        )
        .name,
        "id"
    );
    let resolved = resolve_attribute(ResourceKind::User, &path("meta.created"));
    assert_eq!(
        resolved.map(|resolved| resolved.owner),
        Some(AttributeOwner::Common)
    );
}

#[test]
fn extension_attributes_need_their_urn_in_any_case() {
    let employee_number = format!("{ENTERPRISE_USER_SCHEMA_URN}:employeeNumber");
    assert_eq!(
        found(ResourceKind::User, &employee_number).name,
        "employeeNumber"
    );
    assert_eq!(
        found(ResourceKind::User, &employee_number.to_ascii_lowercase()).name,
        "employeeNumber"
    );
    let manager_name = format!("{ENTERPRISE_USER_SCHEMA_URN}:manager.displayName");
    assert_eq!(
        found(ResourceKind::User, &manager_name).mutability,
        Mutability::ReadOnly
    );
    let group_type = format!("{GATEHOUSE_GROUP_SCHEMA_URN}:groupType");
    assert_eq!(
        found(ResourceKind::Group, &group_type)
            .canonical_values
            .len(),
        5
    );
    // Unqualified, an extension attribute would be read as a core one, which it is not.
    assert!(missing(ResourceKind::User, "employeeNumber"));
    assert!(missing(ResourceKind::User, "site"));
    // Xurrent's core `groupType` is a core attribute of its own, beside the extension's.
    assert_eq!(
        found(ResourceKind::Group, "groupType")
            .canonical_values
            .len(),
        5
    );
}

#[test]
fn resolution_reports_the_owning_schema_in_its_canonical_spelling() {
    let text = "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value";
    let resolved = match resolve_attribute(ResourceKind::User, &path(text)) {
        Some(resolved) => resolved,
        None => panic!("{text} should resolve"),
    };
    assert_eq!(resolved.extension_urn(), Some(ENTERPRISE_USER_SCHEMA_URN));
    assert_eq!(resolved.attribute.name, "manager");
    assert_eq!(resolved.definition().name, "value");
    let core = resolve_attribute(ResourceKind::User, &path("emails"));
    assert!(matches!(
        core.map(|resolved| resolved.owner),
        Some(AttributeOwner::CoreSchema(schema)) if schema.id == USER_SCHEMA_URN
    ));
    assert_eq!(core.and_then(|resolved| resolved.extension_urn()), None);
}

#[test]
fn unknown_or_misplaced_attributes_resolve_to_nothing() {
    for (resource, text) in [
        (ResourceKind::User, "nosuchAttribute"),
        (ResourceKind::User, "name.nosuch"),
        (ResourceKind::User, "userName.value"),
        (ResourceKind::User, "displayName.value"),
        (ResourceKind::User, "members"),
        (ResourceKind::Group, "userName"),
        (ResourceKind::Group, "emails.value"),
        (
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
        ),
        (
            ResourceKind::Group,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        ),
        (
            ResourceKind::User,
            "urn:gatehouse:params:scim:schemas:extension:2.0:Group:groupType",
        ),
        (ResourceKind::User, "urn:example:unknown:2.0:User:userName"),
        (
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ),
        (
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        (
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:id",
        ),
    ] {
        assert!(
            missing(resource, text),
            "{text} should not resolve on {resource:?}"
        );
    }
}

#[test]
fn every_defined_attribute_resolves_through_its_qualified_path() {
    for resource_type in resource_types() {
        let own_schemas = std::iter::once(resource_type.schema).chain(
            resource_type
                .schema_extensions
                .iter()
                .map(|extension| extension.schema),
        );
        for urn in own_schemas {
            let Some(schema) = schema(urn) else {
                panic!("{urn} should be registered");
            };
            for attribute in &schema.attributes {
                let qualified = format!("{urn}:{}", attribute.name);
                assert!(
                    std::ptr::eq(found(resource_type.kind, &qualified), attribute),
                    "{qualified}"
                );
                for sub_attribute in &attribute.sub_attributes {
                    let qualified = format!("{urn}:{}.{}", attribute.name, sub_attribute.name);
                    assert!(
                        std::ptr::eq(found(resource_type.kind, &qualified), sub_attribute),
                        "{qualified}"
                    );
                }
            }
        }
    }
}

#[test]
fn descriptions_are_single_spaced_sentences() {
    fn check(attribute: &AttributeDefinition) {
        let description = attribute.description;
        assert!(
            !description.contains("  "),
            "{}: {description}",
            attribute.name
        );
        assert_eq!(description.trim(), description, "{}", attribute.name);
        assert!(
            description.ends_with(['.', '"']),
            "{}: {description}",
            attribute.name
        );
        attribute.sub_attributes.iter().for_each(check);
    }
    for schema in schemas() {
        schema.attributes.iter().for_each(check);
    }
    common_attribute_definitions().iter().for_each(check);
}
