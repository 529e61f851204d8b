//! `/Users` (RFC 7644 §3.2–3.6): the SCIM User commands behind the shared resource handlers,
//! and `/Me`.

use axum::extract::Query;
use axum::http::StatusCode;
use scim::error::ScimError;
use serde_json::{Value, json};

use super::parameters::{Kind, ProjectionParameters};
use super::resource::{Command, ResourceType, ScimCaller, meta, single, with_id};
use super::response::ScimResult;
use crate::domain::ScimUserRecord;
use crate::service::ServiceResult;
use crate::service::scim::{ListPage, ScimListQuery};

/// The `/Users` resource type.
pub(super) struct Users;

impl ResourceType for Users {
    type Record = ScimUserRecord;
    const KIND: Kind = Kind::User;

    /// The representation of a stored SCIM User (RFC 7643 §4.1).
    fn representation(record: &ScimUserRecord, base_url: &str) -> Value {
        let mut resource = with_id(&record.resource, record.id);
        let meta = meta(
            Kind::User,
            base_url,
            record.id,
            record.created_at,
            record.updated_at,
            record.version,
        );
        resource.insert("meta".to_owned(), meta);
        // Read-only and derived (RFC 7643 §4.1.2): every group the User is a direct member of;
        // left out, like any empty multi-valued attribute, when there is none.
        if !record.groups.is_empty() {
            let groups = record
                .groups
                .iter()
                .map(|group| {
                    json!({
                        "value": group.id.to_string(),
                        "$ref": Kind::Group.location(base_url, group.id),
                        "display": group.display_name,
                        "type": "direct",
                    })
                })
                .collect();
            resource.insert("groups".to_owned(), Value::Array(groups));
        }
        Value::Object(resource)
    }

    fn id(record: &ScimUserRecord) -> String {
        record.id.to_string()
    }

    fn version(record: &ScimUserRecord) -> i64 {
        record.version
    }

    async fn list(
        on: Command<'_>,
        query: &ScimListQuery,
    ) -> ServiceResult<ListPage<ScimUserRecord>> {
        on.services.scim_users(on.principal, query).await
    }

    async fn create(on: Command<'_>, body: &Value) -> ServiceResult<ScimUserRecord> {
        on.services.create_scim_user(on.principal, body).await
    }

    async fn get(on: Command<'_>, id: &str) -> ServiceResult<ScimUserRecord> {
        on.services.scim_user(on.principal, id).await
    }

    async fn replace(on: Command<'_>, id: &str, body: &Value) -> ServiceResult<ScimUserRecord> {
        on.services
            .replace_scim_user(on.principal, id, body, on.expected_version)
            .await
    }

    async fn patch(on: Command<'_>, id: &str, body: Value) -> ServiceResult<ScimUserRecord> {
        on.services
            .patch_scim_user(on.principal, id, body, on.expected_version)
            .await
    }

    async fn delete(on: Command<'_>, id: &str) -> ServiceResult<()> {
        on.services
            .delete_scim_user(on.principal, id, on.expected_version)
            .await
    }
}

/// `GET /Me`: the caller's own SCIM User, at its `/Users` location.
pub async fn me(caller: ScimCaller, Query(parameters): Query<ProjectionParameters>) -> ScimResult {
    let selection = parameters.selection(Kind::User)?;
    let record = caller.state.services.scim_me(&caller.principal).await?;
    Ok(single::<Users>(
        StatusCode::OK,
        &record,
        &caller,
        &selection,
    ))
}

/// `/Me` is read-only here: people change themselves in the identity provider, which then
/// provisions the change (RFC 7644 §3.11 answers 501 for what a provider doesn't support).
pub async fn me_not_implemented() -> ScimResult {
    Err(ScimError::new(
        501,
        None,
        "/Me supports GET only: change the User in the identity provider",
    )
    .into())
}
