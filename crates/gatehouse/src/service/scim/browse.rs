//! Read access to SCIM records for people and scripts (REST `/v1/scim_users`,
//! `/v1/scim_groups`, and the console): the same filtered, indexed queries the provisioning
//! client's lists use, plus a plain-text search and member pages, so a group of 100,000 members
//! is read a page at a time.

use super::groups::Members;
use super::users::ScimListQuery;
use crate::domain::{GroupMember, ScimGroupId, ScimGroupRecord, ScimUserRecord};
use crate::service::{Principal, ScimPrincipal, ServiceResult, Services};
use crate::store::Listing;

/// A page request over SCIM records: a SCIM filter, a plain search text, one sort attribute.
#[derive(Clone, Debug, Default)]
pub struct BrowseQuery {
    /// An RFC 7644 filter (`userName sw "a"`), for scripts.
    pub filter: Option<String>,
    /// Words to look for in the names (`co`, case-insensitive), for people.
    pub search: Option<String>,
    /// A SCIM attribute path, with whether to sort descending.
    pub sort: Option<(String, bool)>,
    pub offset: u64,
    pub limit: u32,
}

/// A group with its member count, for lists that don't show the members themselves.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSummary {
    pub group: ScimGroupRecord,
    pub member_count: u64,
}

/// The attributes a plain-text search looks in, per resource type.
const USER_SEARCH_ATTRIBUTES: &[&str] = &["userName", "displayName", "name.familyName", "emails"];
const GROUP_SEARCH_ATTRIBUTES: &[&str] = &["displayName", "externalId"];

/// `filter` and `search` as one SCIM filter: the search becomes
/// `(a co "text" or b co "text" …)`, quoted as a JSON string so any text is safe.
fn combined_filter(query: &BrowseQuery, search_attributes: &[&str]) -> Option<String> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            let literal = serde_json::Value::from(text).to_string();
            let terms: Vec<String> = search_attributes
                .iter()
                .map(|attribute| format!("{attribute} co {literal}"))
                .collect();
            format!("({})", terms.join(" or "))
        });
    let filter = query
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| format!("({text})"));
    match (search, filter) {
        (Some(search), Some(filter)) => Some(format!("{search} and {filter}")),
        (search, filter) => search.or(filter),
    }
}

fn list_query(query: &BrowseQuery, search_attributes: &[&str]) -> ScimListQuery {
    let to_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    ScimListQuery {
        cursor: None,
        filter: combined_filter(query, search_attributes),
        sort_by: query.sort.as_ref().map(|(path, _)| path.clone()),
        sort_order: query.sort.as_ref().map(|(_, descending)| {
            if *descending {
                super::SortOrder::Descending
            } else {
                super::SortOrder::Ascending
            }
        }),
        start_index: Some(to_i64(query.offset.saturating_add(1))),
        count: Some(i64::from(query.limit)),
    }
}

impl Services {
    pub async fn browse_scim_users(
        &self,
        principal: &Principal,
        query: &BrowseQuery,
    ) -> ServiceResult<Listing<ScimUserRecord>> {
        let principal = ScimPrincipal::from(principal.clone());
        let page = self
            .scim_users(&principal, &list_query(query, USER_SEARCH_ATTRIBUTES))
            .await?;
        Ok(Listing {
            items: page.items,
            total: page.total,
        })
    }

    pub async fn browse_scim_groups(
        &self,
        principal: &Principal,
        query: &BrowseQuery,
    ) -> ServiceResult<Listing<GroupSummary>> {
        let principal = ScimPrincipal::from(principal.clone());
        let listing = self
            .scim_groups(
                &principal,
                &list_query(query, GROUP_SEARCH_ATTRIBUTES),
                Members::Skip,
            )
            .await?;
        let ids: Vec<ScimGroupId> = listing.items.iter().map(|group| group.group.id).collect();
        let counts = self
            .store
            .scim_group_member_counts(&principal.account_id, &ids)
            .await?;
        let items = listing
            .items
            .into_iter()
            .map(|group| {
                let member_count = counts
                    .iter()
                    .find(|(id, _)| *id == group.group.id)
                    .map_or(0, |(_, count)| *count);
                GroupSummary {
                    group: group.group,
                    member_count,
                }
            })
            .collect();
        Ok(Listing {
            items,
            total: listing.total,
        })
    }

    /// One SCIM User, as a person reading the directory sees it.
    pub async fn browse_scim_user(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ServiceResult<ScimUserRecord> {
        self.scim_user(&ScimPrincipal::from(principal.clone()), id)
            .await
    }

    /// One group with its member count.
    pub async fn browse_scim_group(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ServiceResult<GroupSummary> {
        let principal = ScimPrincipal::from(principal.clone());
        let group = self.scim_group(&principal, id, Members::Skip).await?.group;
        let member_count = self
            .store
            .scim_group_member_counts(&principal.account_id, &[group.id])
            .await?
            .first()
            .map_or(0, |(_, count)| *count);
        Ok(GroupSummary {
            group,
            member_count,
        })
    }

    /// A page of a group's members, in member id order.
    pub async fn browse_scim_group_members(
        &self,
        principal: &Principal,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> ServiceResult<Listing<GroupMember>> {
        let principal = ScimPrincipal::from(principal.clone());
        let group = self.scim_group(&principal, id, Members::Skip).await?.group;
        Ok(self
            .store
            .scim_group_member_page(&principal.account_id, group.id, offset, limit)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(filter: Option<&str>, search: Option<&str>) -> BrowseQuery {
        BrowseQuery {
            filter: filter.map(str::to_owned),
            search: search.map(str::to_owned),
            ..BrowseQuery::default()
        }
    }

    #[test]
    fn search_text_becomes_a_quoted_co_term_per_attribute() {
        assert_eq!(
            combined_filter(&query(None, Some(" Ada \"L\" ")), &["userName", "emails"]),
            Some(r#"(userName co "Ada \"L\"" or emails co "Ada \"L\"")"#.to_owned())
        );
    }

    #[test]
    fn search_and_filter_must_both_hold() {
        assert_eq!(
            combined_filter(&query(Some("active eq true"), Some("ada")), &["userName"]),
            Some(r#"(userName co "ada") and (active eq true)"#.to_owned())
        );
        assert_eq!(
            combined_filter(&query(Some("active eq true"), Some("  ")), &["userName"]),
            Some("(active eq true)".to_owned())
        );
        assert_eq!(combined_filter(&query(None, None), &["userName"]), None);
    }
}
