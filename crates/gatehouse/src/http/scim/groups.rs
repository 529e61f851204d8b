//! `/Groups` (RFC 7644 §3.2–3.6): the SCIM Group commands behind the shared resource handlers.

use serde_json::{Value, json};

use super::parameters::Kind;
use super::resource::{Command, ResourceType, meta, with_id};
use crate::domain::{GroupMember, MemberType};
use crate::service::ServiceResult;
use crate::service::scim::{GroupWithMembers, ListPage, ScimListQuery};

/// The `/Groups` resource type.
pub(super) struct Groups;

impl ResourceType for Groups {
    type Record = GroupWithMembers;
    const KIND: Kind = Kind::Group;

    /// The representation of a group (RFC 7643 §4.2) with its members, when they were loaded.
    fn representation(group: &GroupWithMembers, base_url: &str) -> Value {
        let record = &group.group;
        let mut resource = with_id(&record.resource, record.id);
        resource.insert(
            "displayName".to_owned(),
            Value::from(record.display_name.clone()),
        );
        if let Some(members) = &group.members {
            resource.insert("members".to_owned(), member_values(members, base_url));
        }
        let meta = meta(
            Kind::Group,
            base_url,
            record.id,
            record.created_at,
            record.updated_at,
            record.version,
        );
        resource.insert("meta".to_owned(), meta);
        Value::Object(resource)
    }

    fn id(group: &GroupWithMembers) -> String {
        group.group.id.to_string()
    }

    fn version(group: &GroupWithMembers) -> i64 {
        group.group.version
    }

    async fn list(
        on: Command<'_>,
        query: &ScimListQuery,
    ) -> ServiceResult<ListPage<GroupWithMembers>> {
        on.services
            .scim_groups(on.principal, query, on.members)
            .await
    }

    async fn create(on: Command<'_>, body: &Value) -> ServiceResult<GroupWithMembers> {
        on.services
            .create_scim_group(on.principal, body, on.members)
            .await
    }

    async fn get(on: Command<'_>, id: &str) -> ServiceResult<GroupWithMembers> {
        on.services.scim_group(on.principal, id, on.members).await
    }

    async fn replace(on: Command<'_>, id: &str, body: &Value) -> ServiceResult<GroupWithMembers> {
        on.services
            .replace_scim_group(on.principal, id, body, on.expected_version, on.members)
            .await
    }

    async fn patch(on: Command<'_>, id: &str, body: Value) -> ServiceResult<GroupWithMembers> {
        on.services
            .patch_scim_group(on.principal, id, body, on.expected_version, on.members)
            .await
    }

    async fn delete(on: Command<'_>, id: &str) -> ServiceResult<()> {
        on.services
            .delete_scim_group(on.principal, id, on.expected_version)
            .await
    }
}

/// `members` values (RFC 7643 §4.2): id, `$ref` to the member's own location, display, type.
fn member_values(members: &[GroupMember], base_url: &str) -> Value {
    members
        .iter()
        .map(|member| {
            let kind = match member.member_type {
                MemberType::User => Kind::User,
                MemberType::Group => Kind::Group,
            };
            json!({
                "value": member.id.to_string(),
                "$ref": kind.location(base_url, member.id),
                "display": member.display,
                "type": member.member_type.as_str(),
            })
        })
        .collect()
}
