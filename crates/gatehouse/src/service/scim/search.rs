//! `POST /.search` at the root (RFC 7644 §3.4.3): one query over every resource type. Users
//! come first, then Groups, each in its own order, so pages are stable; a filter naming an
//! attribute one type lacks simply matches nothing of that type.

use scim::error::{ScimError, ScimType};
use scim::filter::{FilterLimits, parse_filter_with};

use super::groups::{GroupWithMembers, Members};
use super::users::{ListPage, ScimListQuery};
use crate::domain::ScimUserRecord;
use crate::service::{ScimPrincipal, ServiceError, ServiceResult, Services};
use crate::store::Listing;

pub enum ScimResource {
    User(Box<ScimUserRecord>),
    Group(GroupWithMembers),
}

/// A type the filter can't apply to contributes nothing: the filter's syntax was checked
/// already, so an `invalidFilter` here means an attribute that type doesn't have.
fn empty_when_not_applicable<T>(result: ServiceResult<ListPage<T>>) -> ServiceResult<Listing<T>> {
    match result {
        Ok(page) => Ok(Listing {
            items: page.items,
            total: page.total,
        }),
        Err(ServiceError::Scim(error)) if error.scim_type == Some(ScimType::InvalidFilter) => {
            Ok(Listing {
                items: Vec::new(),
                total: 0,
            })
        }
        Err(error) => Err(error),
    }
}

impl Services {
    pub async fn scim_search_all(
        &self,
        principal: &ScimPrincipal,
        query: &ScimListQuery,
        members: Members,
    ) -> ServiceResult<ListPage<ScimResource>> {
        if query.cursor.is_some() {
            return Err(ServiceError::Scim(ScimError::invalid_value(
                "cursor pagination is served by /Users and /Groups (and their /.search); \
                 page a search across both with startIndex",
            )));
        }
        if let Some(text) = query.filter.as_deref() {
            parse_filter_with(text, &FilterLimits::default())
                .map_err(|error| ServiceError::Scim(error.into()))?;
        }
        let start_index = u64::try_from(query.start_index.unwrap_or(1).max(1)).unwrap_or(1);
        let count = u64::try_from(
            query
                .count
                .unwrap_or(i64::from(super::users::DEFAULT_COUNT))
                .max(0),
        )
        .unwrap_or(0)
        .min(u64::from(super::users::MAX_RESULTS));
        let counting = ScimListQuery {
            count: Some(0),
            start_index: Some(1),
            ..query.clone()
        };
        let users_total =
            empty_when_not_applicable(self.scim_users(principal, &counting).await)?.total;
        let groups_total =
            empty_when_not_applicable(self.scim_groups(principal, &counting, Members::Skip).await)?
                .total;

        let offset = start_index - 1;
        let mut items = Vec::new();
        if offset < users_total && count > 0 {
            let page = ScimListQuery {
                start_index: Some(to_i64(start_index)),
                count: Some(to_i64(count)),
                ..query.clone()
            };
            let users = empty_when_not_applicable(self.scim_users(principal, &page).await)?;
            items.extend(
                users
                    .items
                    .into_iter()
                    .map(|user| ScimResource::User(Box::new(user))),
            );
        }
        let remaining = count - u64::try_from(items.len()).unwrap_or(count);
        if remaining > 0 && offset + count > users_total {
            let group_offset = offset.saturating_sub(users_total);
            let page = ScimListQuery {
                start_index: Some(to_i64(group_offset + 1)),
                count: Some(to_i64(remaining)),
                ..query.clone()
            };
            let groups =
                empty_when_not_applicable(self.scim_groups(principal, &page, members).await)?;
            items.extend(groups.items.into_iter().map(ScimResource::Group));
        }
        Ok(ListPage {
            items,
            total: users_total + groups_total,
            start_index: Some(start_index),
            next_cursor: None,
        })
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
