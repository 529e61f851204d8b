//! The common attributes of RFC 7643 §3.1 — `id`, `externalId` and `meta` — that every
//! resource has whatever its schema. RFC 7643 keeps them out of the schema representations
//! (they appear in no `attributes` list of §8.7.1), yet filters and PATCH paths name them
//! (`meta.lastModified gt …`), so the registry consults these definitions alongside each
//! resource's core schema.

use super::attribute::{AttributeDefinition, Mutability, Returned, Uniqueness};

/// `id`, `externalId` and `meta`, in that order.
pub fn common_attributes() -> Vec<AttributeDefinition> {
    vec![id(), external_id(), meta()]
}

fn id() -> AttributeDefinition {
    AttributeDefinition::string(
        "id",
        "A unique identifier for a SCIM resource as defined by the service provider.",
    )
    .case_exact()
    .mutability(Mutability::ReadOnly)
    .returned(Returned::Always)
    .uniqueness(Uniqueness::Server)
}

fn external_id() -> AttributeDefinition {
    AttributeDefinition::string(
        "externalId",
        "A String that is an identifier for the resource as defined by the provisioning \
         client.",
    )
    .case_exact()
}

fn meta() -> AttributeDefinition {
    // RFC 7643 §3.1: every sub-attribute is assigned by the service provider, hence readOnly,
    // and clients' values for `meta` are ignored.
    AttributeDefinition::complex(
        "meta",
        "A complex attribute containing resource metadata.",
        vec![
            AttributeDefinition::string(
                "resourceType",
                "The name of the resource type of the resource.",
            )
            .case_exact(),
            AttributeDefinition::date_time(
                "created",
                "The \"DateTime\" that the resource was added to the service provider.",
            ),
            AttributeDefinition::date_time(
                "lastModified",
                "The most recent DateTime that the details of this resource were updated at \
                 the service provider.",
            ),
            AttributeDefinition::reference(
                "location",
                &["uri"],
                "The URI of the resource being returned.",
            ),
            AttributeDefinition::string("version", "The version of the resource being returned.")
                .case_exact(),
        ],
    )
    .read_only()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::attribute::AttributeType;

    #[test]
    fn id_is_read_only_case_exact_always_returned_and_unique() {
        let attributes = common_attributes();
        let id = &attributes[0];
        assert_eq!(id.name, "id");
        assert!(id.case_exact);
        assert_eq!(id.mutability, Mutability::ReadOnly);
        assert_eq!(id.returned, Returned::Always);
        assert_eq!(id.uniqueness, Uniqueness::Server);
    }

    #[test]
    fn external_id_is_case_exact_and_writable() {
        let attributes = common_attributes();
        let external_id = &attributes[1];
        assert_eq!(external_id.name, "externalId");
        assert!(external_id.case_exact);
        assert_eq!(external_id.mutability, Mutability::ReadWrite);
    }

    #[test]
    fn meta_is_read_only_with_every_rfc_sub_attribute() {
        let attributes = common_attributes();
        let meta = &attributes[2];
        assert_eq!(meta.attribute_type, AttributeType::Complex);
        assert_eq!(meta.mutability, Mutability::ReadOnly);
        let names: Vec<&str> = meta.sub_attributes.iter().map(|sub| sub.name).collect();
        assert_eq!(
            names,
            [
                "resourceType",
                "created",
                "lastModified",
                "location",
                "version"
            ]
        );
        assert!(
            meta.sub_attributes
                .iter()
                .all(|sub| sub.mutability == Mutability::ReadOnly)
        );
        let last_modified = meta.sub_attribute("lastModified");
        assert_eq!(
            last_modified.map(|sub| sub.attribute_type),
            Some(AttributeType::DateTime)
        );
    }
}
