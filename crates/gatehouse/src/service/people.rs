//! People: created by administrators (or the CLI) and, later, by the SCIM provisioning client.
//! A person with `source = scim` belongs to the provisioning client: only their roles, which
//! SCIM does not carry, may be changed here — except by the operator through the CLI, who
//! stands above everyone. No one changes a person of a higher rank than their own.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::error::OrNotFound;
use super::validate::{NAME_MAX_CHARS, Problems, SHORT_TEXT_MAX_CHARS};
use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Role, RoleSet, Scope};
use crate::domain::{Account, AccountId, Actor, NewEvent, Person, PersonId, PersonSource};
use crate::store::{ListQuery, Listing, StoreError};

pub struct NewPerson {
    pub name: String,
    pub primary_email: String,
    pub job_title: Option<String>,
    pub employee_number: Option<String>,
    pub disabled: bool,
    pub roles: RoleSet,
}

/// A partial update: `None` leaves a field as it is; `Some(None)` clears an optional field.
#[derive(Default)]
pub struct PersonChanges {
    pub name: Option<String>,
    pub primary_email: Option<String>,
    pub job_title: Option<Option<String>>,
    pub employee_number: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub roles: Option<RoleSet>,
}

impl PersonChanges {
    /// The names of the fields this change touches that the provisioning client owns.
    fn provisioned_fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("primary_email", self.primary_email.is_some()),
            ("job_title", self.job_title.is_some()),
            ("employee_number", self.employee_number.is_some()),
            ("disabled", self.disabled.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect()
    }
}

/// The person as REST, events and webhooks show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub account_id: String,
    pub name: String,
    pub primary_email: Option<String>,
    pub job_title: Option<String>,
    pub employee_number: Option<String>,
    /// From SCIM provisioning (`phoneNumbers` of type `work`).
    pub work_phone: Option<String>,
    /// From SCIM provisioning (`phoneNumbers` of type `mobile`).
    pub mobile_phone: Option<String>,
    /// A VIP (Xurrent's flag): set by SCIM provisioning when the User's `userType` is `VIP`.
    pub vip: bool,
    pub disabled: bool,
    /// `manual`, or `scim` when the provisioning client owns the record.
    pub source: PersonSource,
    #[schema(value_type = Vec<String>, example = json!(["specialist"]))]
    pub roles: RoleSet,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Person> for PersonView {
    fn from(person: &Person) -> Self {
        Self {
            id: person.id.0,
            account_id: person.account_id.to_string(),
            name: person.name.clone(),
            primary_email: person.primary_email.clone(),
            job_title: person.job_title.clone(),
            employee_number: person.employee_number.clone(),
            work_phone: person.work_phone.clone(),
            mobile_phone: person.mobile_phone.clone(),
            vip: person.vip,
            disabled: person.disabled,
            source: person.source,
            roles: person.roles.clone(),
            created_at: person.created_at,
            updated_at: person.updated_at,
        }
    }
}

pub(crate) fn person_json(person: &Person) -> serde_json::Value {
    json!(PersonView::from(person))
}

/// Which identifying fields a request sends. Only those are held to the stricter rule on
/// invisible characters (`Problems::visible_text`): a person stored before that rule, or named
/// by the SCIM client, must not become impossible to update (their roles, say) over a name
/// the request leaves alone.
#[derive(Clone, Copy)]
struct SentIdentity {
    name: bool,
    primary_email: bool,
}

/// The field rules a person must satisfy, whether new or changed.
fn validate_person(person: &Person, sent: SentIdentity) -> ServiceResult<()> {
    let mut problems = Problems::default();
    problems.required_text("name", &person.name, NAME_MAX_CHARS);
    if sent.name {
        problems.visible_name("name", &person.name);
    }
    if sent.primary_email
        && let Some(email) = &person.primary_email
    {
        problems.visible_text("primary_email", email);
    }
    match &person.primary_email {
        Some(email) => problems.email("primary_email", email),
        None if person.source == PersonSource::Manual => {
            problems.push("primary_email can't be blank".to_owned());
        }
        None => {}
    }
    problems.optional_text(
        "job_title",
        person.job_title.as_deref(),
        SHORT_TEXT_MAX_CHARS,
    );
    problems.optional_text(
        "employee_number",
        person.employee_number.as_deref(),
        SHORT_TEXT_MAX_CHARS,
    );
    problems.into_result()
}

fn email_taken(email: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "primary_email {email} is already used by another person of this account"
    ))
}

/// Only an account administrator may hand out or take away the account administrator role;
/// a directory administrator manages people but cannot raise anyone above themselves.
fn check_role_change(
    principal: &Principal,
    before: &RoleSet,
    after: &RoleSet,
) -> ServiceResult<()> {
    let changes_account_administrator =
        before.contains(Role::AccountAdministrator) != after.contains(Role::AccountAdministrator);
    if changes_account_administrator && !principal.roles.contains(Role::AccountAdministrator) {
        return Err(ServiceError::Forbidden(
            "Only an account administrator may grant or remove the account_administrator role"
                .to_owned(),
        ));
    }
    Ok(())
}

impl Services {
    /// Creates a person by hand. `principal` is `None` for the admin CLI, which acts with the
    /// database's authority.
    pub async fn create_person(
        &self,
        account: &Account,
        principal: Option<&Principal>,
        new: NewPerson,
    ) -> ServiceResult<Person> {
        if let Some(principal) = principal {
            principal.require(Scope::write(Resource::People))?;
            check_role_change(principal, &RoleSet::default(), &new.roles)?;
        }
        let now = self.clock.now();
        let person = Person {
            id: PersonId(Uuid::now_v7()),
            account_id: account.id.clone(),
            name: new.name.trim().to_owned(),
            primary_email: Some(new.primary_email.trim().to_owned()),
            job_title: new.job_title.map(|title| title.trim().to_owned()),
            employee_number: new.employee_number.map(|number| number.trim().to_owned()),
            work_phone: None,
            mobile_phone: None,
            vip: false,
            disabled: new.disabled,
            source: PersonSource::Manual,
            roles: new.roles,
            created_at: now,
            updated_at: now,
        };
        validate_person(
            &person,
            SentIdentity {
                name: true,
                primary_email: true,
            },
        )?;
        let actor = principal.map(Principal::actor);
        let event = NewEvent::new(
            &account.id,
            "person.create",
            person.id,
            actor.as_ref(),
            person_json(&person),
            now,
        );
        self.store
            .insert_person(&person, &event)
            .await
            .map_err(|error| write_error(&person, error))?;
        Ok(person)
    }

    pub async fn update_person(
        &self,
        principal: Option<&Principal>,
        account: &AccountId,
        id: PersonId,
        changes: PersonChanges,
    ) -> ServiceResult<Person> {
        if let Some(principal) = principal {
            principal.require(Scope::write(Resource::People))?;
        }
        let before = self.person_of(account, id).await?;
        if let Some(principal) = principal {
            principal.require_rank_over(&before, "change {}")?;
        }
        let provisioned = changes.provisioned_fields();
        // The operator (CLI, no principal) stands above the provisioning client: break-glass
        // when an identity provider disabled or renamed the wrong person.
        if principal.is_some() && before.source == PersonSource::Scim && !provisioned.is_empty() {
            return Err(ServiceError::Invalid {
                message:
                    "This person is provisioned by the SCIM client, which owns their details; \
                          change them in the identity provider"
                        .to_owned(),
                errors: provisioned
                    .iter()
                    .map(|field| format!("{field} is read-only for SCIM people"))
                    .collect(),
            });
        }
        let sent = SentIdentity {
            name: changes.name.is_some(),
            primary_email: changes.primary_email.is_some(),
        };
        let mut person = before.clone();
        if let Some(name) = changes.name {
            person.name = name.trim().to_owned();
        }
        if let Some(email) = changes.primary_email {
            person.primary_email = Some(email.trim().to_owned());
        }
        if let Some(job_title) = changes.job_title {
            person.job_title = job_title.map(|title| title.trim().to_owned());
        }
        if let Some(employee_number) = changes.employee_number {
            person.employee_number = employee_number.map(|number| number.trim().to_owned());
        }
        if let Some(disabled) = changes.disabled {
            person.disabled = disabled;
        }
        if let Some(roles) = changes.roles {
            person.roles = roles;
        }
        if let Some(principal) = principal {
            check_role_change(principal, &before.roles, &person.roles)?;
        }
        validate_person(&person, sent)?;
        if person == before {
            return Ok(before);
        }
        person.updated_at = self.clock.now().max(before.updated_at);
        let actor: Option<Actor> = principal.map(Principal::actor);
        let event = NewEvent::new(
            account,
            "person.update",
            person.id,
            actor.as_ref(),
            json!({ "person": person_json(&person), "changed": changed_fields(&before, &person) }),
            person.updated_at,
        );
        self.store
            .update_person(&person, &event)
            .await
            .map_err(|error| write_error(&person, error))?;
        self.credentials_changed();
        Ok(person)
    }

    pub async fn person(&self, principal: &Principal, id: PersonId) -> ServiceResult<Person> {
        principal.require(Scope::read(Resource::People))?;
        self.person_of(&principal.account_id, id).await
    }

    /// The account's person `id`, or 404.
    pub(super) async fn person_of(
        &self,
        account: &AccountId,
        id: PersonId,
    ) -> ServiceResult<Person> {
        self.store.person(account, id).await.or_not_found("Person")
    }

    /// A page of an account's people, for the admin CLI.
    pub async fn people_as_operator(
        &self,
        account: &AccountId,
        query: &ListQuery,
    ) -> ServiceResult<Listing<Person>> {
        Ok(self.store.people(account, None, query).await?)
    }

    pub async fn person_by_email(&self, account: &AccountId, email: &str) -> ServiceResult<Person> {
        self.store
            .person_by_email(account, email)
            .await
            .or_not_found("Person")
    }

    /// A page of the account's people; `search` narrows them to names and primary emails that
    /// contain it (blank searches for nothing in particular).
    pub async fn people(
        &self,
        principal: &Principal,
        search: Option<&str>,
        query: &ListQuery,
    ) -> ServiceResult<Listing<Person>> {
        principal.require(Scope::read(Resource::People))?;
        let search = search.map(str::trim).filter(|text| !text.is_empty());
        Ok(self
            .store
            .people(&principal.account_id, search, query)
            .await?)
    }
}

/// Why writing `person` failed: a conflict means its primary email is another person's.
fn write_error(person: &Person, error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(_) => email_taken(person.primary_email.as_deref().unwrap_or_default()),
        error => error.into(),
    }
}

fn changed_fields(before: &Person, after: &Person) -> Vec<&'static str> {
    [
        ("name", before.name != after.name),
        ("primary_email", before.primary_email != after.primary_email),
        ("job_title", before.job_title != after.job_title),
        (
            "employee_number",
            before.employee_number != after.employee_number,
        ),
        ("disabled", before.disabled != after.disabled),
        ("roles", before.roles != after.roles),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}
