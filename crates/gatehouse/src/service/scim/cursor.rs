//! Cursor-based pagination (RFC 9865) beside `startIndex`. A cursor is opaque to clients but
//! says where the next page starts: after a `(created, id)` pair in the default order, so
//! pages stay exact while the provisioning client adds and removes records and a deep page
//! costs an index seek, not an OFFSET scan; or, under a `sortBy`, at an offset. It also
//! carries when it was issued (cursors expire after `cursorTimeout`) and a fingerprint of the
//! query it belongs to, so it cannot be replayed against another filter or resource type.

use chrono::{DateTime, Utc};
use scim::error::{ScimError, ScimType};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::users::ScimListQuery;

/// How long a cursor stays valid, as the ServiceProviderConfig advertises.
pub const CURSOR_TIMEOUT_SECONDS: i64 = 3600;

const VERSION: &str = "c1";

/// Where a cursor page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The first page (`cursor` given empty).
    Start,
    /// After this record, in creation order.
    After { created_at: DateTime<Utc>, id: Uuid },
    /// After this many records, in `sortBy` order.
    Offset(u64),
}

/// What a cursor is bound to: the resource type and the filter and sort of the query.
pub fn fingerprint(resource_type: &str, query: &ScimListQuery) -> String {
    let mut digest = Sha256::new();
    for part in [
        resource_type,
        query.filter.as_deref().unwrap_or_default(),
        query.sort_by.as_deref().unwrap_or_default(),
        match query.sort_order {
            Some(super::SortOrder::Descending) => "descending",
            _ => "ascending",
        },
    ] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..8])
}

/// The cursor for the page after `position`, issued `now`.
pub fn encode(position: Position, fingerprint: &str, now: DateTime<Utc>) -> String {
    let issued = now.timestamp();
    match position {
        Position::Start => format!("{VERSION}.{issued}.{fingerprint}.s"),
        Position::After { created_at, id } => format!(
            "{VERSION}.{issued}.{fingerprint}.k.{}.{}",
            created_at.timestamp_micros(),
            id.simple()
        ),
        Position::Offset(offset) => format!("{VERSION}.{issued}.{fingerprint}.o.{offset}"),
    }
}

/// Reads a cursor the client sent back for a query with `fingerprint`; an empty cursor asks
/// for the first page.
pub fn decode(text: &str, fingerprint: &str, now: DateTime<Utc>) -> Result<Position, ScimError> {
    if text.trim().is_empty() {
        return Ok(Position::Start);
    }
    let invalid = || {
        ScimError::with_type(
            ScimType::InvalidCursor,
            "the cursor is not one this server issued for this query: start again with an empty cursor",
        )
    };
    let parts: Vec<&str> = text.split('.').collect();
    let (version, issued, bound, rest) = match parts.as_slice() {
        [version, issued, bound, rest @ ..] => (*version, *issued, *bound, rest),
        _ => return Err(invalid()),
    };
    if version != VERSION || bound != fingerprint {
        return Err(invalid());
    }
    let issued: i64 = issued.parse().map_err(|_| invalid())?;
    if now.timestamp().saturating_sub(issued) > CURSOR_TIMEOUT_SECONDS {
        return Err(ScimError::with_type(
            ScimType::ExpiredCursor,
            format!(
                "the cursor is older than cursorTimeout ({CURSOR_TIMEOUT_SECONDS} s): start again with an empty cursor"
            ),
        ));
    }
    match rest {
        ["s"] => Ok(Position::Start),
        ["k", micros, id] => {
            let micros: i64 = micros.parse().map_err(|_| invalid())?;
            let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
            let id = Uuid::try_parse(id).map_err(|_| invalid())?;
            Ok(Position::After { created_at, id })
        }
        ["o", offset] => Ok(Position::Offset(offset.parse().map_err(|_| invalid())?)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0)
            .single()
            .expect("time")
    }

    fn query(filter: &str) -> ScimListQuery {
        ScimListQuery {
            filter: Some(filter.to_owned()),
            ..ScimListQuery::default()
        }
    }

    #[test]
    fn cursors_round_trip_their_position() {
        let bound = fingerprint("User", &query("active eq true"));
        let created_at = now() - chrono::Duration::microseconds(1_234_567);
        for position in [
            Position::Start,
            Position::Offset(4200),
            Position::After {
                created_at,
                id: Uuid::now_v7(),
            },
        ] {
            let cursor = encode(position, &bound, now());
            assert!(
                cursor
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.'),
                "URL-safe: {cursor}"
            );
            assert_eq!(decode(&cursor, &bound, now()).expect("valid"), position);
        }
        assert_eq!(
            decode("", &bound, now()).expect("first page"),
            Position::Start
        );
    }

    #[test]
    fn a_cursor_is_bound_to_its_query_and_resource_type() {
        let users = fingerprint("User", &query("active eq true"));
        assert_ne!(users, fingerprint("Group", &query("active eq true")));
        assert_ne!(users, fingerprint("User", &query("active eq false")));
        let cursor = encode(Position::Offset(10), &users, now());
        let other = fingerprint("User", &query("active eq false"));
        let error = decode(&cursor, &other, now()).expect_err("other query");
        assert_eq!(error.scim_type, Some(ScimType::InvalidCursor));
        assert_eq!(error.status, 400);
    }

    #[test]
    fn malformed_cursors_are_invalid_and_old_ones_expired() {
        let bound = fingerprint("User", &query("x pr"));
        for bad in [
            "nonsense",
            "c1.1.2",
            "c2.0.ab.s",
            &format!("c1.x.{bound}.s"),
            &format!("c1.{}.{bound}.k.1.zz", now().timestamp()),
        ] {
            let error = decode(bad, &bound, now()).expect_err(bad);
            assert_eq!(error.scim_type, Some(ScimType::InvalidCursor), "{bad}");
        }
        let old = encode(Position::Start, &bound, now());
        let later = now() + chrono::Duration::seconds(CURSOR_TIMEOUT_SECONDS + 1);
        let error = decode(&old, &bound, later).expect_err("expired");
        assert_eq!(error.scim_type, Some(ScimType::ExpiredCursor));
    }
}
