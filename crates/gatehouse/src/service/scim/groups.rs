//! SCIM Group commands. A group holds a display name, a group type (our extension) and members,
//! which are SCIM Users or Groups of the same account. Membership changes are applied as row
//! inserts and deletes: a PATCH that adds one member writes one row, whatever the group's size.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use scim::error::ScimError;
use scim::patch::{apply_operations, parse_patch_request, split_member_operations};
use scim::schema::{
    DEFAULT_GROUP_TYPE, GATEHOUSE_GROUP_SCHEMA_URN, GROUP_SCHEMA_URN, GROUP_TYPES, ResourceKind,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::projection::check_visible;
use super::users::{ListPage, ListPlan, ScimListQuery};
use super::{check_version, scim, stored};
use crate::auth::{Resource, Scope};
use crate::domain::{
    GroupMember, MemberType, MembershipChange, NewEvent, NewMember, ScimGroupId, ScimGroupRecord,
    case_insensitive_key,
};
use crate::service::{ScimPrincipal, ServiceError, ServiceResult, Services};
use crate::store::{ScimGroupColumns, StoreError};

const READ: Scope = Scope::read(Resource::Scim);
const WRITE: Scope = Scope::write(Resource::Scim);

/// A group and, when they were asked for, its members.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupWithMembers {
    pub group: ScimGroupRecord,
    /// `None` when the caller said it would not show them ([`Members::Skip`]).
    pub members: Option<Vec<GroupMember>>,
}

/// Whether a command loads the group's members for its answer. A response that leaves them out
/// (`excludedAttributes=members`, a PATCH answered with 204) skips reading what may be 100,000
/// rows, so a membership change costs the same whatever the group's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    Load,
    Skip,
}

struct GroupProjection {
    display_name: String,
    external_id: Option<String>,
    group_type: String,
    resource: Value,
    /// `None` when the representation has no `members` (a PATCH result: members are rows).
    members: Option<Vec<MemberReference>>,
}

/// A member as a request names it: its id and, optionally, the display name the client gave.
#[derive(Clone, Debug)]
struct MemberReference {
    id: String,
    display: Option<String>,
}

/// The member references of a `members` value: an array of `{value, display, …}` objects.
fn member_references(value: &Value) -> Result<Vec<MemberReference>, ScimError> {
    let Value::Array(members) = value else {
        return Err(ScimError::invalid_value("members must be an array"));
    };
    members
        .iter()
        .map(
            |member| match (member.get("value"), member.get("display")) {
                (Some(Value::String(id)), display) => Ok(MemberReference {
                    id: id.clone(),
                    display: display.and_then(Value::as_str).map(str::to_owned),
                }),
                _ => Err(ScimError::invalid_value("each member needs a string value")),
            },
        )
        .collect()
}

/// The display names PATCH operations give to members they add, by member id.
fn patched_member_displays(operations: &[scim::patch::PatchOperation]) -> HashMap<String, String> {
    let mut displays = HashMap::new();
    for operation in operations {
        let members = match (&operation.path, &operation.value) {
            (Some(path), Some(value))
                if path.attribute.attribute.eq_ignore_ascii_case("members")
                    && path.value_filter.is_none() =>
            {
                Some(value)
            }
            (None, Some(Value::Object(object))) => object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("members"))
                .map(|(_, value)| value),
            _ => None,
        };
        if let Some(references) = members.and_then(|value| member_references(value).ok()) {
            for reference in references {
                if let Some(display) = reference.display {
                    displays.insert(reference.id, display);
                }
            }
        }
    }
    displays
}

fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The longest core `groupType` kept as text: a label, not a document.
const MAX_GROUP_TYPE_CHARACTERS: usize = 255;

/// The group types a representation states: Xurrent's core `groupType` (normalised) and the
/// Gatehouse extension's.
fn stated_group_types(
    object: &Map<String, Value>,
) -> Result<(Option<String>, Option<String>), ScimError> {
    let extension_type = match get(object, GATEHOUSE_GROUP_SCHEMA_URN) {
        None | Some(Value::Null) => None,
        Some(Value::Object(extension)) => match get(extension, "groupType") {
            None | Some(Value::Null) => None,
            Some(Value::String(kind)) if GROUP_TYPES.contains(&kind.as_str()) => Some(kind.clone()),
            Some(other) => {
                return Err(ScimError::invalid_value(format!(
                    "groupType must be one of {}, not {other}",
                    GROUP_TYPES.join(", ")
                )));
            }
        },
        Some(_) => {
            return Err(ScimError::invalid_value(
                "the Gatehouse Group extension must be an object",
            ));
        }
    };
    let core_type = match get(object, "groupType") {
        None | Some(Value::Null) => None,
        Some(Value::String(kind)) if kind.trim().is_empty() => None,
        Some(Value::String(kind)) if kind.chars().count() > MAX_GROUP_TYPE_CHARACTERS => {
            return Err(ScimError::invalid_value(format!(
                "groupType is at most {MAX_GROUP_TYPE_CHARACTERS} characters"
            )));
        }
        Some(Value::String(kind)) => Some(normalized_group_type(kind)),
        Some(_) => return Err(ScimError::invalid_value("groupType must be a string")),
    };
    Ok((core_type, extension_type))
}

/// The group's type from the two `groupType`s a representation may state. Each is returned as
/// sent, but a group has one type: when both are there and differ, the one this write changed
/// wins (a client that knows only one of them keeps working on a group another client typed
/// the other way), and Xurrent's core one when the write set both (or created the group).
/// `before` is the stored representation a write replaces.
fn resolve_group_type(
    core: Option<&String>,
    extension: Option<&String>,
    before: Option<&Value>,
) -> String {
    let before = before
        .and_then(Value::as_object)
        .and_then(|object| stated_group_types(object).ok());
    match (core, extension) {
        (Some(core), Some(extension)) if core != extension => match before {
            Some((core_before, extension_before))
                if core_before.as_ref() == Some(core)
                    && extension_before.as_ref() != Some(extension) =>
            {
                extension.clone()
            }
            _ => core.clone(),
        },
        (Some(core), _) => core.clone(),
        (None, Some(extension)) => extension.clone(),
        (None, None) => DEFAULT_GROUP_TYPE.to_owned(),
    }
}

fn project_group(body: &Value, before: Option<&Value>) -> Result<GroupProjection, ScimError> {
    let Value::Object(object) = body else {
        return Err(ScimError::invalid_syntax(
            "a SCIM Group must be a JSON object",
        ));
    };
    let display_name = match get(object, "displayName") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ScimError::invalid_value("displayName is required"));
        }
        Some(_) => return Err(ScimError::invalid_value("displayName must be a string")),
    };
    let external_id = match get(object, "externalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()).filter(|id| !id.is_empty()),
        Some(_) => return Err(ScimError::invalid_value("externalId must be a string")),
    };
    let (core_type, extension_type) = stated_group_types(object)?;
    let group_type = resolve_group_type(core_type.as_ref(), extension_type.as_ref(), before);
    let members = match get(object, "members") {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(value) => Some(member_references(value)?),
    };
    let mut resource: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| {
            !["id", "meta", "members", "schemas"]
                .iter()
                .any(|name| key.eq_ignore_ascii_case(name))
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    // The core groupType is kept as the type it names (`Team` is stored and shown as `team`).
    resource.retain(|key, _| !key.eq_ignore_ascii_case("groupType"));
    if let Some(core_type) = core_type {
        resource.insert("groupType".to_owned(), Value::from(core_type));
    }
    let mut schemas = vec![Value::from(GROUP_SCHEMA_URN)];
    if resource
        .keys()
        .any(|key| key.eq_ignore_ascii_case(GATEHOUSE_GROUP_SCHEMA_URN))
    {
        schemas.push(Value::from(GATEHOUSE_GROUP_SCHEMA_URN));
    }
    resource.insert("schemas".to_owned(), Value::Array(schemas));
    Ok(GroupProjection {
        display_name,
        external_id,
        group_type,
        resource: Value::Object(resource),
        members,
    })
}

/// A group type as Xurrent sends it in the core `groupType`: one of ours when it names one
/// ignoring case, spaces, `-` and `_` (`Team`, `Skill Pool`, `skill-pool` are `team` and
/// `skill_pool`), else the text as sent.
fn normalized_group_type(text: &str) -> String {
    let squeezed = |kind: &str| -> String {
        kind.chars()
            .filter(|character| !matches!(character, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = squeezed(text);
    GROUP_TYPES
        .iter()
        .find(|known| squeezed(known) == wanted)
        .map_or_else(|| text.to_owned(), |known| (*known).to_owned())
}

/// A Group's `displayName` is held to the identifier rule (`check_visible`) when it is new
/// or changed; a group named before the rule can still be updated under its old name.
fn check_new_display_name(
    projection: &GroupProjection,
    current: &ScimGroupRecord,
) -> ServiceResult<()> {
    if projection.display_name == current.display_name {
        return Ok(());
    }
    check_visible("displayName", &projection.display_name).map_err(scim)
}

/// 409 for a displayName another group of the account has (compared ignoring case: SCIM's
/// `displayName` is not caseExact).
fn name_taken(display_name: &str) -> ServiceError {
    scim(ScimError::uniqueness(format!(
        "displayName {display_name:?} is already the name of another Group of this account \
         (names compare ignoring case)"
    )))
}

/// A store error of a group write, with the unique name index's refusal (a concurrent write
/// took the name between the check and the commit) as the 409 the check would have given.
fn group_write_error(error: StoreError, display_name: &str) -> ServiceError {
    match error {
        StoreError::Conflict(_) => name_taken(display_name),
        other => other.into(),
    }
}

fn event(
    principal: &ScimPrincipal,
    name: &str,
    group: &ScimGroupRecord,
    payload: Value,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        &principal.account_id,
        name,
        group.id,
        principal.actor().as_ref(),
        payload,
        at,
    )
}

impl Services {
    /// Resolves member ids to Users or Groups of the account; any other id is refused.
    async fn resolve_members(
        &self,
        principal: &ScimPrincipal,
        references: &[MemberReference],
    ) -> ServiceResult<Vec<NewMember>> {
        // Parse and de-duplicate (a repeated id keeps its first display name), keeping order.
        let mut parsed: Vec<(Uuid, Option<String>)> = Vec::with_capacity(references.len());
        let mut seen: HashSet<Uuid> = HashSet::with_capacity(references.len());
        for reference in references {
            let uuid = Uuid::parse_str(&reference.id).map_err(|_| {
                scim(ScimError::invalid_value(format!(
                    "member {} is not a User or Group of this account",
                    reference.id
                )))
            })?;
            if seen.insert(uuid) {
                parsed.push((uuid, reference.display.clone()));
            }
        }
        let ids: Vec<Uuid> = parsed.iter().map(|(id, _)| *id).collect();
        let kinds: HashMap<Uuid, MemberType> = self
            .store
            .scim_member_kinds(&principal.account_id, &ids)
            .await?
            .into_iter()
            .collect();
        parsed
            .into_iter()
            .map(|(id, display)| {
                let member_type = *kinds.get(&id).ok_or_else(|| {
                    scim(ScimError::invalid_value(format!(
                        "member {id} is not a User or Group of this account"
                    )))
                })?;
                Ok(NewMember {
                    id,
                    member_type,
                    display,
                })
            })
            .collect()
    }

    async fn with_members(
        &self,
        principal: &ScimPrincipal,
        group: ScimGroupRecord,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        if members == Members::Skip {
            return Ok(GroupWithMembers {
                group,
                members: None,
            });
        }
        let members = self
            .store
            .scim_group_members(&principal.account_id, &[group.id])
            .await?;
        Ok(GroupWithMembers {
            group,
            members: Some(members.into_iter().map(|(_, member)| member).collect()),
        })
    }

    pub async fn create_scim_group(
        &self,
        principal: &ScimPrincipal,
        body: &Value,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        principal.require(WRITE)?;
        let projection = project_group(body, None).map_err(scim)?;
        check_visible("displayName", &projection.display_name).map_err(scim)?;
        if self
            .store
            .scim_group_named(&principal.account_id, &projection.display_name, None)
            .await?
            .is_some()
        {
            return Err(name_taken(&projection.display_name));
        }
        let new_members = self
            .resolve_members(principal, projection.members.as_deref().unwrap_or_default())
            .await?;
        let now = self.clock.now();
        let group = ScimGroupRecord {
            id: ScimGroupId(Uuid::now_v7()),
            account_id: principal.account_id.clone(),
            display_name: projection.display_name,
            external_id: projection.external_id,
            group_type: projection.group_type,
            name_claimed: true,
            resource: projection.resource,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let payload = json!({ "id": group.id, "displayName": group.display_name, "groupType": group.group_type, "members_added": new_members.len() });
        self.store
            .insert_scim_group(
                &group,
                &new_members,
                &[event(principal, "scim_group.create", &group, payload, now)],
            )
            .await
            .map_err(|error| group_write_error(error, &group.display_name))?;
        self.with_members(principal, group, members).await
    }

    pub async fn scim_group(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        principal.require(READ)?;
        let group = self.stored_group(principal, id).await?;
        self.with_members(principal, group, members).await
    }

    /// The Group a write names, as stored, if the write may go ahead: the caller may write
    /// SCIM, and the Group is at the version the client last saw (`If-Match`).
    async fn group_to_change(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        expected_version: Option<i64>,
    ) -> ServiceResult<ScimGroupRecord> {
        principal.require(WRITE)?;
        let current = self.stored_group(principal, id).await?;
        check_version("Group", expected_version, current.version)?;
        Ok(current)
    }

    async fn stored_group(
        &self,
        principal: &ScimPrincipal,
        id: &str,
    ) -> ServiceResult<ScimGroupRecord> {
        stored("Group", id, |uuid| {
            self.store
                .scim_group(&principal.account_id, ScimGroupId(uuid))
        })
        .await
    }

    pub async fn scim_groups(
        &self,
        principal: &ScimPrincipal,
        query: &ScimListQuery,
        members: Members,
    ) -> ServiceResult<ListPage<GroupWithMembers>> {
        principal.require(READ)?;
        let now = self.clock.now();
        let plan = ListPlan::new(query, &ScimGroupColumns, self.store.dialect(), "Group", now)?;
        let listing = self
            .store
            .scim_groups(&principal.account_id, &plan.store_page())
            .await?;
        let listing = plan.page(listing, |group| (group.created_at, group.id.0), now);
        let mut members_by_group: HashMap<ScimGroupId, Vec<GroupMember>> = HashMap::new();
        if members == Members::Load {
            let ids: Vec<ScimGroupId> = listing.items.iter().map(|group| group.id).collect();
            for (group_id, member) in self
                .store
                .scim_group_members(&principal.account_id, &ids)
                .await?
            {
                members_by_group.entry(group_id).or_default().push(member);
            }
        }
        let items = listing
            .items
            .into_iter()
            .map(|group| {
                let group_members = (members == Members::Load)
                    .then(|| members_by_group.remove(&group.id).unwrap_or_default());
                GroupWithMembers {
                    group,
                    members: group_members,
                }
            })
            .collect();
        Ok(ListPage {
            items,
            total: listing.total,
            start_index: listing.start_index,
            next_cursor: listing.next_cursor,
        })
    }

    pub async fn replace_scim_group(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        body: &Value,
        expected_version: Option<i64>,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        let current = self
            .group_to_change(principal, id, expected_version)
            .await?;
        let projection = project_group(body, Some(&current.resource)).map_err(scim)?;
        check_new_display_name(&projection, &current)?;
        let new_members = self
            .resolve_members(principal, projection.members.as_deref().unwrap_or_default())
            .await?;
        self.write_group(
            principal,
            current,
            projection,
            MembershipChange::Replace(new_members),
            members,
        )
        .await
    }

    pub async fn patch_scim_group(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        body: Value,
        expected_version: Option<i64>,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        let current = self
            .group_to_change(principal, id, expected_version)
            .await?;
        let operations = parse_patch_request(body).map_err(scim)?;
        let (member_changes, other_operations) =
            split_member_operations(&operations).map_err(scim)?;
        let mut resource = current.resource.clone();
        if let Value::Object(object) = &mut resource {
            object.insert(
                "displayName".to_owned(),
                Value::from(current.display_name.clone()),
            );
            // Okta restates the group's own id in `replace` values; the id is part of the
            // resource the operations apply to, so restating it is no change (and altering it
            // stays a mutability error).
            object.insert("id".to_owned(), Value::from(current.id.to_string()));
        }
        apply_operations(&mut resource, &other_operations, &ResourceKind::Group).map_err(scim)?;
        let projection = project_group(&resource, Some(&current.resource)).map_err(scim)?;
        check_new_display_name(&projection, &current)?;
        let displays = patched_member_displays(&operations);
        let references = |ids: &[String]| -> Vec<MemberReference> {
            ids.iter()
                .map(|id| MemberReference {
                    id: id.clone(),
                    display: displays.get(id).cloned(),
                })
                .collect()
        };
        let membership = if member_changes.remove_all && member_changes.replaced_with.is_none() {
            MembershipChange::Replace(Vec::new())
        } else if let Some(replacement) = &member_changes.replaced_with {
            MembershipChange::Replace(
                self.resolve_members(principal, &references(replacement))
                    .await?,
            )
        } else if member_changes.added.is_empty() && member_changes.removed.is_empty() {
            MembershipChange::Unchanged
        } else {
            MembershipChange::Edit {
                added: self
                    .resolve_members(principal, &references(&member_changes.added))
                    .await?,
                // An id that is no member (or no id at all) is simply not removed.
                removed: member_changes
                    .removed
                    .iter()
                    .filter_map(|id| Uuid::parse_str(id).ok())
                    .collect(),
            }
        };
        self.write_group(principal, current, projection, membership, members)
            .await
    }

    async fn write_group(
        &self,
        principal: &ScimPrincipal,
        current: ScimGroupRecord,
        projection: GroupProjection,
        membership: MembershipChange,
        members: Members,
    ) -> ServiceResult<GroupWithMembers> {
        // A new name must be free. A group that shared its name before names were unique keeps
        // it, unclaimed, until no other group has it (docs: CHANGELOG, schema 20).
        // A group keeping a name it holds needs no look-up: that is every write to most groups
        // (a membership PATCH, say), and the unique index still guards the claim.
        let renamed = case_insensitive_key(&projection.display_name)
            != case_insensitive_key(&current.display_name);
        let name_claimed = if !renamed && current.name_claimed {
            true
        } else {
            match self
                .store
                .scim_group_named(
                    &principal.account_id,
                    &projection.display_name,
                    Some(current.id),
                )
                .await?
            {
                None => true,
                Some(_) if renamed => return Err(name_taken(&projection.display_name)),
                Some(_) => current.name_claimed,
            }
        };
        let now = self.clock.now().max(current.updated_at);
        let group = ScimGroupRecord {
            display_name: projection.display_name,
            external_id: projection.external_id,
            group_type: projection.group_type,
            name_claimed,
            resource: projection.resource,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        let payload = match &membership {
            MembershipChange::Unchanged => {
                json!({ "id": group.id, "displayName": group.display_name })
            }
            MembershipChange::Replace(members) => {
                json!({ "id": group.id, "displayName": group.display_name, "members_replaced_with": members.len() })
            }
            MembershipChange::Edit { added, removed } => json!({
                "id": group.id, "displayName": group.display_name,
                "members_added": added.iter().map(|member| member.id).collect::<Vec<_>>(),
                "members_removed": removed,
            }),
        };
        let events = [event(principal, "scim_group.update", &group, payload, now)];
        if !self
            .store
            .replace_scim_group(&group, current.version, &membership, &events)
            .await
            .map_err(|error| group_write_error(error, &group.display_name))?
        {
            return Err(scim(ScimError::precondition_failed(
                "the Group was changed by another request; retry",
            )));
        }
        self.with_members(principal, group, members).await
    }

    pub async fn delete_scim_group(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        expected_version: Option<i64>,
    ) -> ServiceResult<()> {
        let current = self
            .group_to_change(principal, id, expected_version)
            .await?;
        let now = self.clock.now();
        let payload = json!({ "id": current.id, "displayName": current.display_name });
        let events = [event(
            principal,
            "scim_group.delete",
            &current,
            payload,
            now,
        )];
        if !self
            .store
            .delete_scim_group(&principal.account_id, current.id, current.version, &events)
            .await?
        {
            return Err(scim(ScimError::precondition_failed(
                "the Group was changed by another request; retry",
            )));
        }
        Ok(())
    }
}
