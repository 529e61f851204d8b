//! SCIM provisioning: the provisioning client's commands on SCIM Users (Groups follow). Each
//! command validates the representation, maps it to the linked person, and writes both with
//! their events in one transaction.

mod browse;
mod bulk;
mod cursor;
mod groups;
mod projection;
mod search;
mod users;

pub use browse::{BrowseQuery, GroupSummary};
pub use cursor::CURSOR_TIMEOUT_SECONDS;
pub use groups::{GroupWithMembers, Members};
pub use projection::{UserProjection, project_user, project_user_update};
pub use search::ScimResource;
pub use users::{ListPage, ScimListQuery, SortOrder};

use scim::error::ScimError;
use uuid::Uuid;

use crate::domain::ScimPatchResponse;
use crate::service::{ScimPrincipal, ServiceError, ServiceResult, Services};
use crate::store::StoreResult;

impl Services {
    /// What the caller's account answers to a successful PATCH: the resource or 204.
    pub async fn scim_patch_response(
        &self,
        principal: &ScimPrincipal,
    ) -> ServiceResult<ScimPatchResponse> {
        Ok(self
            .account(&principal.account_id)
            .await?
            .scim_patch_response)
    }
}

/// A SCIM protocol error as a service error.
fn scim(error: ScimError) -> ServiceError {
    ServiceError::Scim(error)
}

/// 404 for a `resource` (`User`, `Group`) the account holds no such `id` of.
fn not_found(resource: &str, id: impl std::fmt::Display) -> ServiceError {
    scim(ScimError::not_found(format!("{resource} {id} not found")))
}

/// The stored `resource` (`User`, `Group`) a request's `id` names, read by `fetch`; SCIM's 404
/// when there is none. An id that is no UUID names nothing, so it is not found either.
async fn stored<T, Fetch, Found>(resource: &str, id: &str, fetch: Fetch) -> ServiceResult<T>
where
    Fetch: FnOnce(Uuid) -> Found,
    Found: Future<Output = StoreResult<Option<T>>>,
{
    let uuid = Uuid::parse_str(id).map_err(|_| not_found(resource, id))?;
    fetch(uuid).await?.ok_or_else(|| not_found(resource, id))
}

/// `If-Match`: the write goes ahead only at the version the client last saw (412 otherwise).
fn check_version(resource: &str, expected: Option<i64>, stored: i64) -> ServiceResult<()> {
    match expected {
        Some(version) if version != stored => Err(scim(ScimError::precondition_failed(format!(
            "the {resource} has changed: its version is W/\"{stored}\", not W/\"{version}\""
        )))),
        _ => Ok(()),
    }
}
