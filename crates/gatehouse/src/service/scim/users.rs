//! SCIM User commands. A SCIM User owns a person (`source = scim`): creating one creates the
//! person, or takes over a hand-made person with the same primary email; `active = false`
//! disables the person; deleting the SCIM User disables the person, who is never deleted.
//! A provisioning token acts with its owner's rank: it never takes over, changes or deletes
//! the SCIM User of a person who outranks that owner.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use scim::error::ScimError;
use scim::filter::{AttributePath, ComparisonValue, Filter, FilterLimits, parse_filter_with};
use scim::patch::{PatchOperation, apply_operations, parse_patch_request};
use scim::schema::{CUSTOM_FIELDS_SCHEMA_URN, ResourceKind, USER_SCHEMA_URN};
use scim_sql::{compile_filter, compile_sort};
use serde_json::{Value, json};
use uuid::Uuid;

use super::cursor::{self, Position};
use super::projection::{UserProjection, project_user, project_user_update};
use super::{check_version, not_found, scim, stored};
use crate::auth::{Resource, Scope};
use crate::domain::{
    NewEvent, Person, PersonId, PersonSource, ScimUserId, ScimUserRecord, UserGroup,
};
use crate::service::people::person_json;
use crate::service::{ScimActing, ScimPrincipal, ServiceError, ServiceResult, Services};
use crate::store::{Listing, PersonWrite, ScimPage, ScimUserColumns, StoreError};

const READ: Scope = Scope::read(Resource::Scim);
const WRITE: Scope = Scope::write(Resource::Scim);

/// The most resources one list answers, as the ServiceProviderConfig advertises.
pub const MAX_RESULTS: u32 = 200;
/// The page size when the client gives no `count`.
pub const DEFAULT_COUNT: u32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// Which page a list request asks for: from a 1-based index (RFC 7644 §3.4.2.4) or where a
/// cursor says (RFC 9865), with the fingerprint the next cursor is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Window {
    Index {
        start_index: u64,
    },
    Cursor {
        position: Position,
        fingerprint: String,
    },
}

/// A list request compiled for the store: the WHERE fragment, the ORDER BY and the window.
pub(super) struct ListPlan {
    pub filter: Option<scim_sql::SqlFragment>,
    pub order_by: Option<String>,
    pub window: Window,
    pub count: u32,
}

/// One page of a list, as the `ListResponse` needs it: `startIndex` for index pagination,
/// `nextCursor` (when more follow) for cursor pagination.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub start_index: Option<u64>,
    pub next_cursor: Option<String>,
}

impl ListPlan {
    /// Parses and compiles a list request over a resource type's columns (filter placeholders
    /// from `$2`: `$1` is the account).
    pub fn new(
        query: &ScimListQuery,
        columns: &dyn scim_sql::ColumnMap,
        dialect: scim_sql::Dialect,
        resource_type: &str,
        now: DateTime<Utc>,
    ) -> ServiceResult<Self> {
        let filter = match query.filter.as_deref() {
            Some(text) => {
                let filter = parse_filter_with(text, &FilterLimits::default())
                    .map_err(|error| scim(error.into()))?;
                let filter = custom_field_literals_as_text(filter).map_err(scim)?;
                Some(
                    compile_filter(&filter, columns, dialect, 2)
                        .map_err(|error| scim(error.into()))?,
                )
            }
            None => None,
        };
        let order_by = match query.sort_by.as_deref() {
            Some(path) => {
                let path = AttributePath::parse(path)
                    .map_err(|error| scim(ScimError::invalid_value(error.to_string())))?;
                let descending = query.sort_order == Some(SortOrder::Descending);
                Some(
                    compile_sort(&path, descending, columns, dialect)
                        .map_err(|error| scim(error.into()))?,
                )
            }
            None => None,
        };
        let window = match (&query.cursor, query.start_index) {
            (Some(_), Some(_)) => {
                return Err(scim(ScimError::invalid_value(
                    "give startIndex or cursor, not both",
                )));
            }
            (Some(cursor), None) => {
                let fingerprint = cursor::fingerprint(resource_type, query);
                let position = cursor::decode(cursor, &fingerprint, now).map_err(scim)?;
                Window::Cursor {
                    position,
                    fingerprint,
                }
            }
            // RFC 7644 §3.4.2.4: a startIndex below 1 means 1.
            (None, start_index) => Window::Index {
                start_index: u64::try_from(start_index.unwrap_or(1).max(1)).unwrap_or(1),
            },
        };
        // A negative count means 0 (RFC 7644 §3.4.2.4); more than the maximum gets the maximum.
        let count = query
            .count
            .map_or(DEFAULT_COUNT, |count| {
                u32::try_from(count.max(0)).unwrap_or(MAX_RESULTS)
            })
            .min(MAX_RESULTS);
        Ok(Self {
            filter,
            order_by,
            window,
            count,
        })
    }

    /// What the store reads for this plan.
    pub fn store_page(&self) -> ScimPage<'_> {
        ScimPage {
            filter: self.filter.as_ref(),
            order_by: self.order_by.as_deref(),
            after: self.after(),
            offset: self.offset(),
            limit: self.limit(),
        }
    }

    /// How many matching records come before the page (0 after a creation-order cursor,
    /// which seeks instead).
    pub fn offset(&self) -> u64 {
        match &self.window {
            Window::Index { start_index } => start_index - 1,
            Window::Cursor {
                position: Position::Offset(offset),
                ..
            } => *offset,
            Window::Cursor { .. } => 0,
        }
    }

    /// The record a creation-order cursor page starts after.
    pub fn after(&self) -> Option<(DateTime<Utc>, Uuid)> {
        match &self.window {
            Window::Cursor {
                position: Position::After { created_at, id },
                ..
            } => Some((*created_at, *id)),
            _ => None,
        }
    }

    /// How many rows to read: one more than the page for cursors, to know whether more follow.
    pub fn limit(&self) -> u32 {
        match &self.window {
            Window::Index { .. } => self.count,
            Window::Cursor { .. } => self.count.saturating_add(1),
        }
    }

    /// The page the store's rows make, with the cursor of the next one; `key` gives a
    /// record's creation time and id.
    pub fn page<T>(
        &self,
        listing: Listing<T>,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
        now: DateTime<Utc>,
    ) -> ListPage<T> {
        let Listing { mut items, total } = listing;
        match &self.window {
            Window::Index { start_index } => ListPage {
                items,
                total,
                start_index: Some(*start_index),
                next_cursor: None,
            },
            Window::Cursor { fingerprint, .. } => {
                let count = usize::try_from(self.count).unwrap_or(usize::MAX);
                let more = items.len() > count;
                items.truncate(count);
                let next = match (more, items.last()) {
                    (true, Some(last)) if self.order_by.is_none() => {
                        let (created_at, id) = key(last);
                        Some(Position::After { created_at, id })
                    }
                    (true, Some(_)) => Some(Position::Offset(
                        self.offset() + u64::try_from(items.len()).unwrap_or(u64::MAX),
                    )),
                    _ => None,
                };
                ListPage {
                    items,
                    total,
                    start_index: None,
                    next_cursor: next.map(|position| cursor::encode(position, fingerprint, now)),
                }
            }
        }
    }
}

/// Custom fields keep their JSON type in the representation, but their filter rows hold text
/// (a string as sent, the JSON text of anything else), so a number or boolean literal compared
/// with one is compared as its JSON text: `…:year_of_birth eq 1975` finds the number 1975.
/// Ordering numbers as text would be wrong (`"975" > "1975"`), so `gt`, `ge`, `lt` and `le`
/// take a string only.
fn custom_field_literals_as_text(filter: Filter) -> Result<Filter, ScimError> {
    let recurse = |filter: Box<Filter>| custom_field_literals_as_text(*filter).map(Box::new);
    let json_text = |value: &ComparisonValue| match value {
        ComparisonValue::Number(number) => Some(number.to_string()),
        ComparisonValue::Boolean(boolean) => Some(boolean.to_string()),
        ComparisonValue::String(_) | ComparisonValue::Null => None,
    };
    Ok(match filter {
        Filter::Compare {
            path,
            operator,
            value,
        } if path
            .schema_urn
            .as_deref()
            .is_some_and(|urn| urn.eq_ignore_ascii_case(CUSTOM_FIELDS_SCHEMA_URN)) =>
        {
            let value = match json_text(&value) {
                None => value,
                Some(text) if operator.is_ordering() => {
                    return Err(ScimError::invalid_filter(format!(
                        "custom field {path} compares as text: {} needs a string, not {text}",
                        operator.keyword()
                    )));
                }
                Some(text) => ComparisonValue::String(text),
            };
            Filter::Compare {
                path,
                operator,
                value,
            }
        }
        Filter::And(left, right) => Filter::And(recurse(left)?, recurse(right)?),
        Filter::Or(left, right) => Filter::Or(recurse(left)?, recurse(right)?),
        Filter::Not(inner) => Filter::Not(recurse(inner)?),
        other => other,
    })
}

/// Whether `path` names the User's core `groups` (or one of its sub-attributes).
fn names_groups(path: &AttributePath) -> bool {
    path.attribute.eq_ignore_ascii_case("groups")
        && path
            .schema_urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(USER_SCHEMA_URN))
}

/// A User's `groups` are read-only (RFC 7643 §4.1.2): they change through the Groups'
/// `members`. Not being stored with the User, they are not in the representation a PATCH
/// applies to, where the PATCH code would take removing them for a removal of nothing; so any
/// operation that names them is refused here, before it is applied.
fn refuse_groups(operations: &[PatchOperation]) -> Result<(), ScimError> {
    for (index, operation) in operations.iter().enumerate() {
        let in_value = || match &operation.value {
            Some(Value::Object(object)) if operation.path.is_none() => object
                .keys()
                .filter_map(|key| AttributePath::parse(key).ok())
                .any(|path| names_groups(&path)),
            _ => false,
        };
        let in_path = operation
            .path
            .as_ref()
            .is_some_and(|path| names_groups(&path.attribute));
        if in_path || in_value() {
            return Err(ScimError::mutability(format!(
                "Operations[{index}]: groups is read-only on a User: membership changes \
                 through the Group's members"
            )));
        }
    }
    Ok(())
}

/// A list request (RFC 7644 §3.4.2): filter, sort, and 1-based index or (RFC 9865) cursor
/// pagination.
#[derive(Clone, Debug, Default)]
pub struct ScimListQuery {
    /// `Some("")` asks for the first page of cursor pagination.
    pub cursor: Option<String>,
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<SortOrder>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

/// The person a projection describes, as a change to `person`.
fn apply_to_person(
    person: &mut Person,
    projection: &UserProjection,
    email: Option<String>,
    now: DateTime<Utc>,
) {
    person.name = projection.person_name();
    person.primary_email = email;
    person.job_title = projection.title.clone();
    person.employee_number = projection.employee_number.clone();
    person.work_phone = projection.work_phone.clone();
    person.mobile_phone = projection.mobile_phone.clone();
    // Xurrent's VIP flag travels as the userType: `VIP`, in any case, makes the person one,
    // any other userType (or none) makes them not.
    person.vip = projection
        .user_type
        .as_deref()
        .is_some_and(|user_type| user_type.trim().eq_ignore_ascii_case("vip"));
    person.disabled = !projection.active;
    person.source = PersonSource::Scim;
    person.updated_at = now.max(person.updated_at);
}

/// The person's primary email: the User's primary (or first work, or first) email, else its
/// userName when that is an email address. RFC 7643 requires only a userName, so a SCIM User may
/// come without any email, and so may its person.
fn person_email(projection: &UserProjection) -> Option<String> {
    projection.primary_email.clone().or_else(|| {
        projection
            .user_name
            .contains('@')
            .then(|| projection.user_name.clone())
    })
}

fn record_from(
    projection: UserProjection,
    id: ScimUserId,
    principal: &ScimPrincipal,
    person_id: PersonId,
    version: i64,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ScimUserRecord {
    ScimUserRecord {
        id,
        account_id: principal.account_id.clone(),
        person_id,
        user_name: projection.user_name,
        external_id: projection.external_id,
        display_name: projection.display_name,
        given_name: projection.given_name,
        family_name: projection.family_name,
        title: projection.title,
        user_type: projection.user_type,
        active: projection.active,
        employee_number: projection.employee_number,
        department: projection.department,
        organization: projection.organization,
        site: projection.site,
        location: projection.location,
        support_id: projection.support_id,
        manager_id: projection.manager_id,
        password_hash: None,
        resource: projection.resource,
        values: projection.values,
        custom_fields: projection.custom_fields,
        groups: Vec::new(),
        version,
        created_at,
        updated_at: now,
    }
}

/// Which unique rule a conflicting write broke, in SCIM's words.
fn conflict(constraint: &str, record: &ScimUserRecord, email: Option<&str>) -> ServiceError {
    let email = email.unwrap_or_default();
    let detail = if constraint.contains("person") {
        format!("the person with email {email} is already provisioned by another SCIM User")
    } else if constraint.contains("email") {
        format!("email {email} is already the primary email of another person of this account")
    } else {
        format!(
            "userName {} is already taken in this account",
            record.user_name
        )
    };
    scim(ScimError::uniqueness(detail))
}

fn event(
    principal: &ScimPrincipal,
    name: &str,
    object_id: impl ToString,
    payload: Value,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent::new(
        &principal.account_id,
        name,
        object_id,
        principal.actor().as_ref(),
        payload,
        at,
    )
}

/// The stored resource, for events (never with a password: it is never stored).
fn user_event_payload(record: &ScimUserRecord) -> Value {
    json!({ "id": record.id, "userName": record.user_name, "active": record.active, "resource": record.resource })
}

impl Services {
    pub async fn create_scim_user(
        &self,
        principal: &ScimPrincipal,
        body: &Value,
    ) -> ServiceResult<ScimUserRecord> {
        principal.require(WRITE)?;
        let projection = project_user(body).map_err(scim)?;
        self.check_manager(principal, &projection, None).await?;
        let mut email = person_email(&projection);
        let now = self.clock.now();
        let existing = match &email {
            Some(email) => {
                self.store
                    .person_by_email(&principal.account_id, email)
                    .await?
            }
            None => None,
        };
        // A person already provisioned by another SCIM User keeps its email; this User gets a
        // person of its own without one (see `is_provisioned`).
        let existing = match existing {
            Some(person) if self.is_provisioned(principal, person.id).await? => {
                email = None;
                None
            }
            other => other,
        };
        let (person, person_is_new) = match existing {
            Some(mut person) => {
                principal.require_rank_over(&person, "take over {} through SCIM")?;
                apply_to_person(&mut person, &projection, email.clone(), now);
                (person, false)
            }
            None => {
                let mut person = Person::provisioned(principal.account_id.clone(), now);
                apply_to_person(&mut person, &projection, email.clone(), now);
                (person, true)
            }
        };
        let record = record_from(
            projection,
            ScimUserId(Uuid::now_v7()),
            principal,
            person.id,
            1,
            now,
            now,
        );
        let events = [
            event(
                principal,
                "scim_user.create",
                record.id,
                user_event_payload(&record),
                now,
            ),
            event(
                principal,
                if person_is_new {
                    "person.create"
                } else {
                    "person.update"
                },
                person.id,
                person_json(&person),
                now,
            ),
        ];
        let write = if person_is_new {
            PersonWrite::Insert(&person)
        } else {
            PersonWrite::Update(&person)
        };
        match self.store.insert_scim_user(&record, write, &events).await {
            Ok(()) => {
                self.credentials_changed();
                Ok(record)
            }
            Err(StoreError::Conflict(constraint)) => {
                Err(conflict(&constraint, &record, email.as_deref()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The User a write names, as stored, if the write may go ahead: the caller may write
    /// SCIM, and the User is at the version the client last saw (`If-Match`).
    async fn user_to_change(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        expected_version: Option<i64>,
    ) -> ServiceResult<ScimUserRecord> {
        principal.require(WRITE)?;
        principal.require(READ)?;
        // As stored, without its groups: the write's answer reads them once it is done.
        let current = stored("User", id, |uuid| {
            self.store
                .scim_user(&principal.account_id, ScimUserId(uuid))
        })
        .await?;
        check_version("User", expected_version, current.version)?;
        Ok(current)
    }

    pub async fn scim_user(
        &self,
        principal: &ScimPrincipal,
        id: &str,
    ) -> ServiceResult<ScimUserRecord> {
        principal.require(READ)?;
        let mut user = stored("User", id, |uuid| {
            self.store
                .scim_user(&principal.account_id, ScimUserId(uuid))
        })
        .await?;
        self.with_groups(principal, std::slice::from_mut(&mut user))
            .await?;
        Ok(user)
    }

    /// Fills in the `groups` of `users` (RFC 7643 §4.1.2: derived from the memberships), with
    /// one query however many Users a page holds.
    pub(super) async fn with_groups(
        &self,
        principal: &ScimPrincipal,
        users: &mut [ScimUserRecord],
    ) -> ServiceResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = users.iter().map(|user| user.id.0).collect();
        let mut groups: HashMap<Uuid, Vec<UserGroup>> = HashMap::new();
        for (member, group) in self
            .store
            .scim_groups_of_members(&principal.account_id, &ids)
            .await?
        {
            groups.entry(member).or_default().push(group);
        }
        for user in users {
            user.groups = groups.remove(&user.id.0).unwrap_or_default();
        }
        Ok(())
    }

    pub async fn scim_users(
        &self,
        principal: &ScimPrincipal,
        query: &ScimListQuery,
    ) -> ServiceResult<ListPage<ScimUserRecord>> {
        principal.require(READ)?;
        let now = self.clock.now();
        let plan = ListPlan::new(query, &ScimUserColumns, self.store.dialect(), "User", now)?;
        let listing = self
            .store
            .scim_users(&principal.account_id, &plan.store_page())
            .await?;
        let mut page = plan.page(listing, |user| (user.created_at, user.id.0), now);
        self.with_groups(principal, &mut page.items).await?;
        Ok(page)
    }

    /// `/Me` (RFC 7644 §3.11): the SCIM User provisioned for the token's owner. The
    /// provisioning credential is no one's: it has no User to alias, so `/Me` is a feature it
    /// lacks and §3.11's 501 is its answer.
    pub async fn scim_me(&self, principal: &ScimPrincipal) -> ServiceResult<ScimUserRecord> {
        principal.require(READ)?;
        let ScimActing::Person(person) = &principal.acting else {
            return Err(scim(ScimError::not_implemented(
                "/Me aliases the caller's own User, and the SCIM provisioning credential is the \
                 account's, not a person's: read the User at /Users/{id}",
            )));
        };
        let mut user = self
            .store
            .scim_user_of_person(&principal.account_id, person.person_id)
            .await?
            .ok_or_else(|| {
                scim(ScimError::not_found(format!(
                    "{} has no SCIM User: the provisioning client has not provisioned them",
                    person.person_name
                )))
            })?;
        self.with_groups(principal, std::slice::from_mut(&mut user))
            .await?;
        Ok(user)
    }

    /// PUT: the representation replaces the stored one.
    pub async fn replace_scim_user(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        body: &Value,
        expected_version: Option<i64>,
    ) -> ServiceResult<ScimUserRecord> {
        let current = self.user_to_change(principal, id, expected_version).await?;
        let projection = project_user_update(body, &current.resource).map_err(scim)?;
        self.write_scim_user(principal, current, projection).await
    }

    /// PATCH (RFC 7644 §3.5.2): the operations apply to the stored representation.
    pub async fn patch_scim_user(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        body: Value,
        expected_version: Option<i64>,
    ) -> ServiceResult<ScimUserRecord> {
        let current = self.user_to_change(principal, id, expected_version).await?;
        let operations = parse_patch_request(body).map_err(scim)?;
        refuse_groups(&operations).map_err(scim)?;
        let mut resource = current.resource.clone();
        // The id belongs to the resource the operations see, so a client restating it (as
        // Okta does for groups) changes nothing; `project_user` drops it again.
        if let Value::Object(object) = &mut resource {
            object.insert("id".to_owned(), Value::from(current.id.to_string()));
        }
        apply_operations(&mut resource, &operations, &ResourceKind::User).map_err(scim)?;
        let projection = project_user_update(&resource, &current.resource).map_err(scim)?;
        self.write_scim_user(principal, current, projection).await
    }

    /// Whether a SCIM User already provisions the person.
    ///
    /// Emails are not unique in SCIM (RFC 7643 §4.1 gives `emails` `uniqueness: none`, and
    /// identity providers do send two users with one address), but a person's primary email
    /// is. So a User whose email belongs to another person is still provisioned, its person
    /// simply has no primary email (the SCIM User keeps all its emails); only a hand-made
    /// person with that email, provisioned by no one yet, is taken over.
    async fn is_provisioned(
        &self,
        principal: &ScimPrincipal,
        person: PersonId,
    ) -> ServiceResult<bool> {
        Ok(self
            .store
            .scim_user_of_person(&principal.account_id, person)
            .await?
            .is_some())
    }

    /// The enterprise `manager.value` must name a SCIM User of the caller's account (RFC 7643
    /// §4.3): an id of another account is refused exactly like an id that exists nowhere, so
    /// the answer tells nothing about other accounts. A manager the User already has is not
    /// looked up again (a PATCH of a title costs no query for it), as only values a request
    /// introduces are checked (`project_user_update`).
    async fn check_manager(
        &self,
        principal: &ScimPrincipal,
        projection: &UserProjection,
        current: Option<ScimUserId>,
    ) -> ServiceResult<()> {
        let Some(manager) = projection
            .manager_id
            .filter(|manager| Some(*manager) != current)
        else {
            return Ok(());
        };
        match self.store.scim_user(&principal.account_id, manager).await? {
            Some(_) => Ok(()),
            None => Err(scim(ScimError::invalid_value(format!(
                "manager {manager} is not a SCIM User id of this account"
            )))),
        }
    }

    async fn write_scim_user(
        &self,
        principal: &ScimPrincipal,
        current: ScimUserRecord,
        projection: UserProjection,
    ) -> ServiceResult<ScimUserRecord> {
        self.check_manager(principal, &projection, current.manager_id)
            .await?;
        let mut email = person_email(&projection);
        let mut person = self
            .store
            .person(&principal.account_id, current.person_id)
            .await?
            .ok_or_else(|| not_found("User", current.id))?;
        principal.require_rank_over(&person, "change {} through SCIM")?;
        if let Some(address) = &email
            && let Some(holder) = self
                .store
                .person_by_email(&principal.account_id, address)
                .await?
            && holder.id != person.id
        {
            email = None;
        }
        let person_before = person.clone();
        let now = self.clock.now().max(current.updated_at);
        apply_to_person(&mut person, &projection, email.clone(), now);
        let record = record_from(
            projection,
            current.id,
            principal,
            current.person_id,
            current.version + 1,
            current.created_at,
            now,
        );
        let mut payload = user_event_payload(&record);
        if current.active && !record.active {
            // Counted as a deactivation by the console's SCIM chart (`scim_changes_daily`).
            payload["deactivated"] = Value::Bool(true);
        }
        let mut events = vec![event(
            principal,
            "scim_user.update",
            record.id,
            payload,
            now,
        )];
        if person_differs(&person_before, &person) {
            events.push(event(
                principal,
                "person.update",
                person.id,
                person_json(&person),
                now,
            ));
        }
        match self
            .store
            .replace_scim_user(&record, current.version, &person, &events)
            .await
        {
            Ok(true) => {
                self.credentials_changed();
                let mut record = record;
                // A write keeps the memberships; the answer shows them as a read would.
                self.with_groups(principal, std::slice::from_mut(&mut record))
                    .await?;
                Ok(record)
            }
            Ok(false) => Err(scim(ScimError::precondition_failed(
                "the User was changed by another request; retry",
            ))),
            Err(StoreError::Conflict(constraint)) => {
                Err(conflict(&constraint, &record, email.as_deref()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// DELETE: the SCIM User goes, its person stays, disabled.
    pub async fn delete_scim_user(
        &self,
        principal: &ScimPrincipal,
        id: &str,
        expected_version: Option<i64>,
    ) -> ServiceResult<()> {
        let current = self.user_to_change(principal, id, expected_version).await?;
        let mut person = self
            .store
            .person(&principal.account_id, current.person_id)
            .await?
            .ok_or_else(|| not_found("User", current.id))?;
        principal.require_rank_over(&person, "delete the SCIM User of {}")?;
        let now = self.clock.now().max(person.updated_at);
        person.disabled = true;
        person.updated_at = now;
        let events = [
            event(
                principal,
                "scim_user.delete",
                current.id,
                user_event_payload(&current),
                now,
            ),
            event(
                principal,
                "person.update",
                person.id,
                person_json(&person),
                now,
            ),
        ];
        if !self
            .store
            .delete_scim_user(
                &principal.account_id,
                current.id,
                current.version,
                &person,
                &events,
            )
            .await?
        {
            return Err(scim(ScimError::precondition_failed(
                "the User was changed by another request; retry",
            )));
        }
        self.credentials_changed();
        Ok(())
    }
}

fn person_differs(before: &Person, after: &Person) -> bool {
    let mut comparable = after.clone();
    comparable.updated_at = before.updated_at;
    comparable != *before
}
