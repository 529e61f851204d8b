//! SCIM User storage on SQLite and PostgreSQL: writes with their person and events, optimistic
//! versions, and filters compiled by `scim_sql` running as SQL on both backends.

use std::sync::Arc;

use crate::common;
use crate::common::{Backend, event_names, start_time, store};
use chrono::{Duration, TimeZone};
use gatehouse::domain::{
    Account, AccountId, NewEvent, Person, PersonId, PersonSource, ScimUserId, ScimUserRecord,
    ScimValue,
};
use gatehouse::store::{
    Listing, PersonWrite, ScimPage, ScimUserColumns, Store, StoreError, StoreResult,
};
use scim::filter::{AttributePath, parse_filter};
use scim_sql::{compile_filter, compile_sort};
use serde_json::json;
use uuid::Uuid;

fn person(account: &AccountId, email: &str) -> Person {
    common::scim_person(account, email, email)
}

fn email(position: i32, value: &str, kind: &str, primary: bool) -> ScimValue {
    ScimValue {
        attribute: "emails".to_owned(),
        position,
        value: Some(value.to_owned()),
        value_type: Some(kind.to_owned()),
        primary,
        display: None,
    }
}

fn user(owner: &Person, user_name: &str, minutes: i64) -> ScimUserRecord {
    ScimUserRecord {
        id: ScimUserId(Uuid::now_v7()),
        account_id: owner.account_id.clone(),
        person_id: owner.id,
        user_name: user_name.to_owned(),
        external_id: Some(format!("ext-{user_name}")),
        display_name: Some(user_name.to_uppercase()),
        given_name: None,
        family_name: None,
        title: None,
        user_type: Some("Employee".to_owned()),
        active: true,
        employee_number: None,
        department: None,
        organization: None,
        site: None,
        location: None,
        support_id: None,
        manager_id: None,
        password_hash: None,
        resource: json!({ "userName": user_name }),
        custom_fields: Vec::new(),
        groups: Vec::new(),
        values: vec![email(
            0,
            owner.primary_email.as_deref().unwrap_or_default(),
            "work",
            true,
        )],
        version: 1,
        created_at: start_time() + Duration::minutes(minutes),
        updated_at: start_time() + Duration::minutes(minutes),
    }
}

fn event(account: &AccountId, name: &str) -> NewEvent {
    NewEvent::new(account, name, "x", None, json!({}), start_time())
}

/// The `userName`s of `users`, in their order.
fn user_names(users: &[ScimUserRecord]) -> Vec<&str> {
    users.iter().map(|user| user.user_name.as_str()).collect()
}

/// The Users of `account` (10 at most) that the SCIM filter `text` selects.
async fn filtered(
    store: &dyn Store,
    account: &AccountId,
    text: &str,
) -> StoreResult<Listing<ScimUserRecord>> {
    let filter = parse_filter(text).expect("filter");
    let fragment = compile_filter(&filter, &ScimUserColumns, store.dialect(), 2).expect("compile");
    let page = ScimPage {
        filter: Some(&fragment),
        limit: 10,
        ..ScimPage::default()
    };
    store.scim_users(account, &page).await
}

/// The stored User `id` of `account`, which must be there.
async fn stored_user(store: &dyn Store, account: &AccountId, id: ScimUserId) -> ScimUserRecord {
    let found = store.scim_user(account, id).await.expect("read");
    found.unwrap_or_else(|| panic!("no User {id:?}"))
}

/// The stored person `id` of `account`, which must be there.
async fn stored_person(store: &dyn Store, account: &AccountId, id: PersonId) -> Person {
    let found = store.person(account, id).await.expect("read");
    found.unwrap_or_else(|| panic!("no person {id:?}"))
}

async fn seeded(backend: Backend) -> (Arc<dyn Store>, common::DatabaseGuard, AccountId) {
    let (store, guard) = store(backend).await;
    let id = AccountId::parse("acme").expect("slug");
    let account = Account {
        id: id.clone(),
        name: "Acme".to_owned(),
        scim_patch_response: Default::default(),
        delivery_retention_days: Default::default(),
        created_at: start_time(),
        updated_at: start_time(),
    };
    store.insert_account(&account).await.expect("account");
    (store, guard, id)
}

async fn provision(
    store: &dyn Store,
    account: &AccountId,
    email: &str,
    user_name: &str,
    minutes: i64,
) -> ScimUserRecord {
    let owner = person(account, email);
    let record = user(&owner, user_name, minutes);
    store
        .insert_scim_user(
            &record,
            PersonWrite::Insert(&owner),
            &[
                event(account, "scim_user.create"),
                event(account, "person.create"),
            ],
        )
        .await
        .expect("insert");
    record
}

/// `seeded`, with one User provisioned in it: `bjensen` (bjensen@example.com), made at the
/// start time.
async fn seeded_with_bjensen(
    backend: Backend,
) -> (
    Arc<dyn Store>,
    common::DatabaseGuard,
    AccountId,
    ScimUserRecord,
) {
    let (store, guard, account) = seeded(backend).await;
    let record = provision(
        store.as_ref(),
        &account,
        "bjensen@example.com",
        "bjensen",
        0,
    )
    .await;
    (store, guard, account, record)
}

async fn scim_user_round_trips_with_its_person_and_events(backend: Backend) {
    let (store, _guard, account, record) = seeded_with_bjensen(backend).await;
    let mut stored = stored_user(store.as_ref(), &account, record.id).await;
    stored.values = record.values.clone();
    assert_eq!(stored, record);
    let owner = stored_person(store.as_ref(), &account, record.person_id).await;
    assert_eq!(owner.source, PersonSource::Scim);
    assert_eq!(
        event_names(store.as_ref(), &account).await,
        ["scim_user.create", "person.create"]
    );
}

async fn user_name_is_unique_case_insensitively_and_a_clash_writes_nothing(backend: Backend) {
    let (store, _guard, account, _) = seeded_with_bjensen(backend).await;
    let twin = person(&account, "other@example.com");
    let clash = user(&twin, "BJensen", 1);
    let result = store
        .insert_scim_user(
            &clash,
            PersonWrite::Insert(&twin),
            &[event(&account, "scim_user.create")],
        )
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        store.person(&account, twin.id).await.expect("read"),
        None,
        "the person was rolled back too"
    );
    assert_eq!(event_names(store.as_ref(), &account).await.len(), 2);
}

async fn replace_and_delete_honour_the_version(backend: Backend) {
    let (store, _guard, account, record) = seeded_with_bjensen(backend).await;
    let mut owner = stored_person(store.as_ref(), &account, record.person_id).await;
    let mut changed = record.clone();
    changed.title = Some("Tour Guide".to_owned());
    changed.version = 2;
    changed.values = vec![email(0, "babs@example.org", "home", false)];
    owner.job_title = Some("Tour Guide".to_owned());
    assert!(
        !store
            .replace_scim_user(&changed, 7, &owner, &[])
            .await
            .expect("stale"),
        "wrong version"
    );
    assert!(
        store
            .replace_scim_user(&changed, 1, &owner, &[event(&account, "scim_user.update")])
            .await
            .expect("replace")
    );
    let stored = stored_user(store.as_ref(), &account, record.id).await;
    assert_eq!(
        (stored.version, stored.title.as_deref()),
        (2, Some("Tour Guide"))
    );
    let by_old_email = filtered(store.as_ref(), &account, r#"emails co "example.com""#).await;
    assert_eq!(by_old_email.expect("list").total, 0, "old values replaced");

    owner.disabled = true;
    assert!(
        !store
            .delete_scim_user(&account, record.id, 1, &owner, &[])
            .await
            .expect("stale delete")
    );
    assert!(
        store
            .delete_scim_user(
                &account,
                record.id,
                2,
                &owner,
                &[event(&account, "scim_user.delete")]
            )
            .await
            .expect("delete")
    );
    assert_eq!(
        store.scim_user(&account, record.id).await.expect("read"),
        None
    );
    let kept = store
        .person(&account, owner.id)
        .await
        .expect("read")
        .expect("people are never deleted");
    assert!(kept.disabled);
}

async fn compiled_filters_select_the_right_users(backend: Backend) {
    let (store, _guard, account, babs) = seeded_with_bjensen(backend).await;
    let mut jim = user(&person(&account, "jim@example.org"), "jsmith", 10);
    jim.title = Some("Engineer".to_owned());
    jim.active = false;
    jim.values = vec![
        email(0, "jim@example.org", "work", true),
        email(1, "jim@home.example", "home", false),
    ];
    let jim_person = person(&account, "jim@example.org");
    jim.person_id = jim_person.id;
    store
        .insert_scim_user(&jim, PersonWrite::Insert(&jim_person), &[])
        .await
        .expect("insert");
    let _ana = provision(store.as_ref(), &account, "ana@example.org", "Ána.Ñúñez", 20).await;

    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "BJENSEN""#, &["bjensen"]),
        (r#"userName eq "ána.ñúñez""#, &["Ána.Ñúñez"]),
        (r#"userName sw "j""#, &["jsmith"]),
        (r#"title pr"#, &["jsmith"]),
        (r#"active eq false"#, &["jsmith"]),
        (
            r#"emails[type eq "work" and value co "@example.org"]"#,
            &["jsmith", "Ána.Ñúñez"],
        ),
        (r#"emails[type eq "home" and value co "@example.com"]"#, &[]),
        (r#"emails.type eq "home""#, &["jsmith"]),
        (
            r#"not (userName eq "bjensen") and userType eq "employee""#,
            &["jsmith", "Ána.Ñúñez"],
        ),
        (r#"title ne "Engineer""#, &["bjensen", "Ána.Ñúñez"]),
        (
            r#"meta.lastModified gt "2026-11-01T09:05:00Z""#,
            &["jsmith", "Ána.Ñúñez"],
        ),
        (
            r#"meta.lastModified le "2026-11-01T09:10:00+00:00""#,
            &["bjensen", "jsmith"],
        ),
        (r#"externalId eq "ext-bjensen""#, &["bjensen"]),
        (r#"externalId eq "EXT-BJENSEN""#, &[]),
        (r#"userName co "50%_""#, &[]),
    ];
    for (text, expected) in cases {
        let listing = filtered(store.as_ref(), &account, text)
            .await
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(user_names(&listing.items), *expected, "{text}");
        assert_eq!(listing.total, expected.len() as u64, "{text}");
    }
    let path = AttributePath::parse("userName").expect("path");
    let order = compile_sort(&path, true, &ScimUserColumns, store.dialect()).expect("sort");
    let sorted = store
        .scim_users(
            &account,
            &ScimPage {
                order_by: Some(&order),
                limit: 2,
                ..ScimPage::default()
            },
        )
        .await
        .expect("list");
    // Code point order on both backends: "ána…" sorts after "jsmith".
    assert_eq!(user_names(&sorted.items), ["Ána.Ñúñez", "jsmith"]);
    assert_eq!(sorted.total, 3);
    assert_eq!(babs.user_name, "bjensen");
}

/// `meta.created`/`meta.lastModified` filters compare instants on both backends, whatever
/// fraction digits a timestamp has (SQLite keeps them as text in the shape sqlx writes:
/// `…:00+00:00`, `…:00.500+00:00`, `…:00.000100+00:00`).
async fn date_time_filters_compare_instants_at_every_precision(backend: Backend) {
    let (store, _guard, account) = seeded(backend).await;
    let base = chrono::Utc
        .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .expect("time");
    let offsets_us = [0, 100, 123_456, 500_000];
    for (index, offset) in offsets_us.iter().enumerate() {
        let owner = person(&account, &format!("u{index}@example.org"));
        let mut record = user(&owner, &format!("u{index}"), 0);
        record.created_at = base + Duration::microseconds(*offset);
        record.updated_at = record.created_at;
        store
            .insert_scim_user(&record, PersonWrite::Insert(&owner), &[])
            .await
            .expect("insert");
    }
    let count = |filter: String| {
        let (store, account) = (store.clone(), account.clone());
        async move {
            let listing = filtered(store.as_ref(), &account, &filter).await;
            listing.expect("list").total
        }
    };
    for instant in [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.0001Z",
        "2026-01-02T05:04:05.123456+02:00",
        "2026-01-02T03:04:05.5Z",
    ] {
        assert_eq!(
            count(format!(r#"meta.created eq "{instant}""#)).await,
            1,
            "{instant}"
        );
    }
    assert_eq!(
        count(r#"meta.created gt "2026-01-02T03:04:05.0001Z""#.to_owned()).await,
        2
    );
    assert_eq!(
        count(r#"meta.created ge "2026-01-02T03:04:05.0001Z""#.to_owned()).await,
        3
    );
    assert_eq!(
        count(r#"meta.lastModified lt "2026-01-02T03:04:05.5Z""#.to_owned()).await,
        3
    );
    assert_eq!(
        count(r#"meta.created le "2026-01-02T03:04:05Z""#.to_owned()).await,
        1
    );
    assert_eq!(
        count(r#"meta.created gt "2026-01-02T03:04:04.999999Z""#.to_owned()).await,
        4
    );
}

both_backends!(
    date_time_filters_compare_instants_at_every_precision,
    scim_user_round_trips_with_its_person_and_events,
    user_name_is_unique_case_insensitively_and_a_clash_writes_nothing,
    replace_and_delete_honour_the_version,
    compiled_filters_select_the_right_users,
);
