//! SCIM provisioning: the provisioning client's commands on SCIM Users (Groups follow). Each
//! command validates the representation, maps it to the linked person, and writes both with
//! their events in one transaction.

mod groups;
mod projection;
mod search;
mod users;

pub use groups::GroupWithMembers;
pub use projection::{UserProjection, project_user};
pub use search::ScimResource;
pub use users::{ScimListQuery, SortOrder};
