//! Every storage function, on SQLite and on PostgreSQL, through the `Store` trait.

use crate::common;
use crate::common::{Backend, event_names, start_time, store};
use chrono::Duration;
use gatehouse::auth::{Role, RoleSet, ScopeSet, TokenSecret};
use gatehouse::domain::{
    Account, AccountId, Actor, NewEvent, Person, PersonId, PersonSource, PersonalAccessToken,
    TokenId,
};
use gatehouse::store::{ListQuery, SortDirection, SortField, Store, StoreError, TokenOwnerFilter};
use serde_json::json;
use uuid::Uuid;

fn account(id: &str) -> Account {
    Account {
        id: AccountId::parse(id).expect("slug"),
        name: format!("{id} Inc."),
        scim_patch_response: Default::default(),
        delivery_retention_days: Default::default(),
        created_at: start_time(),
        updated_at: start_time(),
    }
}

fn person(account: &Account, email: &str, name: &str, minutes: i64) -> Person {
    Person {
        id: PersonId(Uuid::now_v7()),
        account_id: account.id.clone(),
        name: name.to_owned(),
        primary_email: Some(email.to_owned()),
        job_title: Some("Engineer".to_owned()),
        employee_number: None,
        work_phone: None,
        mobile_phone: None,
        vip: false,
        disabled: false,
        source: PersonSource::Manual,
        roles: RoleSet::parse(["specialist"]).expect("roles"),
        created_at: start_time() + Duration::minutes(minutes),
        updated_at: start_time() + Duration::minutes(minutes),
    }
}

fn token(account: &Account, owner: &Person, name: &str, minutes: i64) -> PersonalAccessToken {
    PersonalAccessToken {
        id: TokenId(Uuid::now_v7()),
        account_id: account.id.clone(),
        person_id: owner.id,
        name: name.to_owned(),
        description: None,
        scopes: ScopeSet::parse(["people:read"]).expect("scopes"),
        expires_at: start_time() + Duration::days(30),
        created_at: start_time() + Duration::minutes(minutes),
        last_used_at: None,
        revoked_at: None,
    }
}

fn event(account: &Account, name: &str, object_id: impl ToString) -> NewEvent {
    NewEvent::new(
        &account.id,
        name,
        object_id,
        None,
        json!({ "marker": name }),
        start_time(),
    )
}

/// The `limit` items from `offset` on, in `sort` order (the store's own order when empty).
fn page(offset: u64, limit: u32, sort: &[(SortField, SortDirection)]) -> ListQuery {
    ListQuery {
        offset,
        limit,
        sort: sort.to_vec(),
    }
}

/// Writes `person` to the store with the `person.create` event of `account`.
async fn insert_person(store: &dyn Store, account: &Account, person: &Person) {
    store
        .insert_person(person, &event(account, "person.create", person.id))
        .await
        .expect("insert");
}

/// Writes `token`, whose secret is `secret`, to the store with the
/// `personal_access_token.create` event of `account`.
async fn insert_token(
    store: &dyn Store,
    account: &Account,
    token: &PersonalAccessToken,
    secret: &TokenSecret,
) {
    store
        .insert_token(
            token,
            &secret.hash(),
            &event(account, "personal_access_token.create", token.id),
        )
        .await
        .expect("insert");
}

async fn seeded(backend: Backend) -> (std::sync::Arc<dyn Store>, common::DatabaseGuard, Account) {
    let (store, guard) = store(backend).await;
    let acme = account("acme");
    store.insert_account(&acme).await.expect("insert account");
    (store, guard, acme)
}

async fn migrate_twice_and_ping(backend: Backend) {
    let (store, _guard) = store(backend).await;
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.expect("ping");
}

async fn accounts_round_trip_and_refuse_duplicates(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let globex = account("globex");
    store.insert_account(&globex).await.expect("insert");
    assert_eq!(
        store.account(&acme.id).await.expect("read"),
        Some(acme.clone())
    );
    assert_eq!(
        store
            .account(&AccountId::parse("nobody").expect("slug"))
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store.accounts().await.expect("list"),
        vec![acme.clone(), globex]
    );
    assert!(matches!(
        store.insert_account(&acme).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn person_round_trips_with_roles_and_event(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let mut ada = person(&acme, "Ada@Example.org", "Ada", 0);
    ada.roles = RoleSet::parse(["account_administrator", "specialist"]).expect("roles");
    insert_person(store.as_ref(), &acme, &ada).await;
    assert_eq!(
        store.person(&acme.id, ada.id).await.expect("read"),
        Some(ada.clone())
    );
    assert_eq!(
        store
            .person_by_email(&acme.id, "ada@EXAMPLE.org")
            .await
            .expect("by email"),
        Some(ada.clone())
    );
    assert_eq!(
        event_names(store.as_ref(), &acme.id).await,
        vec!["person.create"]
    );
}

async fn duplicate_email_conflicts_case_insensitively_and_appends_nothing(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    insert_person(store.as_ref(), &acme, &ada).await;
    let twin = person(&acme, "ADA@example.org", "Twin", 1);
    let result = store
        .insert_person(&twin, &event(&acme, "person.create", twin.id))
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        event_names(store.as_ref(), &acme.id).await,
        vec!["person.create"],
        "the failed insert left no event"
    );
    assert_eq!(store.person(&acme.id, twin.id).await.expect("read"), None);
}

async fn same_email_in_another_account_is_allowed(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let globex = account("globex");
    store.insert_account(&globex).await.expect("insert");
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    let other = person(&globex, "ada@example.org", "Ada", 0);
    insert_person(store.as_ref(), &acme, &ada).await;
    store
        .insert_person(&other, &event(&globex, "person.create", other.id))
        .await
        .expect("insert in other account");
    assert_eq!(
        store.person(&acme.id, other.id).await.expect("read"),
        None,
        "scoped by account"
    );
}

async fn person_in_unknown_account_is_a_missing_reference(backend: Backend) {
    let (store, _guard) = store(backend).await;
    let ghost = account("ghost");
    let ada = person(&ghost, "ada@example.org", "Ada", 0);
    let result = store
        .insert_person(&ada, &event(&ghost, "person.create", ada.id))
        .await;
    assert!(
        matches!(result, Err(StoreError::MissingReference(_))),
        "{result:?}"
    );
}

async fn update_person_replaces_fields_and_roles(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    insert_person(store.as_ref(), &acme, &ada).await;
    let mut changed = ada.clone();
    changed.name = "Ada Lovelace".to_owned();
    changed.job_title = None;
    changed.disabled = true;
    changed.roles = RoleSet::parse(["directory_administrator"]).expect("roles");
    changed.updated_at = start_time() + Duration::hours(1);
    store
        .update_person(&changed, &event(&acme, "person.update", ada.id))
        .await
        .expect("update");
    assert_eq!(
        store.person(&acme.id, ada.id).await.expect("read"),
        Some(changed)
    );
    assert_eq!(
        event_names(store.as_ref(), &acme.id).await,
        vec!["person.create", "person.update"]
    );
}

async fn people_paginate_in_stable_order(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    // Same created_at for all: the id breaks ties, so pages never overlap or skip.
    let mut people = Vec::new();
    for index in 0..7 {
        let mut someone = person(
            &acme,
            &format!("p{index}@example.org"),
            &format!("Person {}", 6 - index),
            0,
        );
        someone.roles = RoleSet::parse(["specialist", "directory_administrator"]).expect("roles");
        insert_person(store.as_ref(), &acme, &someone).await;
        people.push(someone);
    }
    let mut seen = Vec::new();
    for number in 0..3 {
        let listing = store
            .people(&acme.id, None, &page(number * 3, 3, &[]))
            .await
            .expect("page");
        assert_eq!(listing.total, 7);
        assert!(
            listing
                .items
                .iter()
                .all(|person| person.roles.iter().count() == 2),
            "roles joined without duplicating people"
        );
        seen.extend(listing.items.into_iter().map(|person| person.id));
    }
    let mut expected: Vec<PersonId> = people.iter().map(|person| person.id).collect();
    expected.sort();
    assert_eq!(seen, expected);
    let by_name = store
        .people(
            &acme.id,
            None,
            &page(0, 2, &[(SortField::Name, SortDirection::Ascending)]),
        )
        .await
        .expect("sorted");
    assert_eq!(
        by_name
            .items
            .iter()
            .map(|person| person.name.as_str())
            .collect::<Vec<_>>(),
        ["Person 0", "Person 1"]
    );
    let descending = store
        .people(
            &acme.id,
            None,
            &page(0, 1, &[(SortField::Name, SortDirection::Descending)]),
        )
        .await
        .expect("sorted");
    assert_eq!(descending.items[0].name, "Person 6");
    let beyond = store
        .people(&acme.id, None, &page(70, 3, &[]))
        .await
        .expect("beyond");
    assert_eq!((beyond.items.len(), beyond.total), (0, 7));
    // A search narrows the page and its total; LIKE's own characters are text.
    let found = store
        .people(&acme.id, Some("PERSON 6"), &page(0, 10, &[]))
        .await
        .expect("searched");
    assert_eq!(
        (found.items.len(), found.total, found.items[0].name.as_str()),
        (1, 1, "Person 6")
    );
    let wildcard = store
        .people(&acme.id, Some("_"), &page(0, 10, &[]))
        .await
        .expect("searched");
    assert_eq!(wildcard.total, 0);
}

async fn tokens_round_trip_list_and_filter_by_owner(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    let bob = person(&acme, "bob@example.org", "Bob", 0);
    for someone in [&ada, &bob] {
        insert_person(store.as_ref(), &acme, someone).await;
    }
    let first = token(&acme, &ada, "first", 1);
    let second = token(&acme, &ada, "second", 2);
    let bobs = token(&acme, &bob, "bobs", 3);
    for each in [&first, &second, &bobs] {
        let secret = TokenSecret::generate();
        insert_token(store.as_ref(), &acme, each, &secret).await;
    }
    assert_eq!(
        store.token(&acme.id, first.id).await.expect("read"),
        Some(first.clone())
    );
    let everyone = store
        .tokens(&acme.id, TokenOwnerFilter::Everyone, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(
        everyone.items,
        vec![first.clone(), second.clone(), bobs.clone()]
    );
    let adas = store
        .tokens(&acme.id, TokenOwnerFilter::Person(ada.id), &page(1, 5, &[]))
        .await
        .expect("list");
    assert_eq!((adas.items, adas.total), (vec![second], 2));
    let newest_first = store
        .tokens(
            &acme.id,
            TokenOwnerFilter::Everyone,
            &page(0, 1, &[(SortField::CreatedAt, SortDirection::Descending)]),
        )
        .await
        .expect("list");
    assert_eq!(newest_first.items, vec![bobs]);
}

async fn credential_reads_token_owner_and_current_roles(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let mut ada = person(&acme, "ada@example.org", "Ada", 0);
    ada.roles = RoleSet::parse(["account_administrator", "specialist"]).expect("roles");
    insert_person(store.as_ref(), &acme, &ada).await;
    let record = token(&acme, &ada, "cli", 0);
    let secret = TokenSecret::generate();
    insert_token(store.as_ref(), &acme, &record, &secret).await;

    let credential = store
        .credential(&secret.hash())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(credential.token_id, record.id);
    assert_eq!(credential.account_id, acme.id);
    assert_eq!(credential.person_name, "Ada");
    assert!(credential.roles.contains(Role::AccountAdministrator));
    assert_eq!(credential.scopes, record.scopes);
    assert!(credential.secret_hash.ct_eq(&secret.hash()));

    let mut downgraded = ada.clone();
    downgraded.roles = RoleSet::default();
    store
        .update_person(&downgraded, &event(&acme, "person.update", ada.id))
        .await
        .expect("update");
    let credential = store
        .credential(&secret.hash())
        .await
        .expect("lookup")
        .expect("found");
    assert!(credential.roles.is_empty(), "roles are read fresh");
    assert_eq!(
        store
            .credential(&TokenSecret::generate().hash())
            .await
            .expect("lookup"),
        None
    );
}

async fn revoke_token_is_idempotent_and_appends_one_event(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    insert_person(store.as_ref(), &acme, &ada).await;
    let record = token(&acme, &ada, "cli", 0);
    insert_token(store.as_ref(), &acme, &record, &TokenSecret::generate()).await;
    let at = start_time() + Duration::hours(2);
    let revoke = event(&acme, "personal_access_token.revoke", record.id);
    assert!(
        store
            .revoke_token(&acme.id, record.id, at, &revoke)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_token(&acme.id, record.id, at + Duration::hours(1), &revoke)
            .await
            .expect("again")
    );
    let stored = store
        .token(&acme.id, record.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        stored.revoked_at,
        Some(at),
        "the first revocation time stays"
    );
    assert_eq!(
        event_names(store.as_ref(), &acme.id).await,
        vec![
            "person.create",
            "personal_access_token.create",
            "personal_access_token.revoke"
        ]
    );
    let other = account("globex");
    store.insert_account(&other).await.expect("insert");
    assert!(
        !store
            .revoke_token(&other.id, record.id, at, &event(&other, "x", record.id))
            .await
            .expect("other account")
    );
}

async fn touch_token_writes_at_most_once_per_resolution(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    insert_person(store.as_ref(), &acme, &ada).await;
    let record = token(&acme, &ada, "cli", 0);
    insert_token(store.as_ref(), &acme, &record, &TokenSecret::generate()).await;
    // A touch at `at` for a resolution made a minute before.
    let touch = |at: chrono::DateTime<chrono::Utc>| {
        store.touch_token(record.id, at, at - Duration::minutes(1))
    };
    let first_use = start_time() + Duration::minutes(5);
    touch(first_use).await.expect("touch");
    let later = first_use + Duration::seconds(61);
    for (at, last_used_at) in [
        (first_use + Duration::seconds(30), first_use),
        (later, later),
    ] {
        touch(at).await.expect("touch");
        assert_eq!(
            store
                .token(&acme.id, record.id)
                .await
                .expect("read")
                .expect("found")
                .last_used_at,
            Some(last_used_at),
            "touched at {at}"
        );
    }
}

async fn events_are_ordered_scoped_and_carry_the_actor(backend: Backend) {
    let (store, _guard, acme) = seeded(backend).await;
    let globex = account("globex");
    store.insert_account(&globex).await.expect("insert");
    let ada = person(&acme, "ada@example.org", "Ada", 0);
    let mut create = event(&acme, "person.create", ada.id);
    create.actor = Some(Actor {
        person_id: ada.id,
        person_name: "Ada".to_owned(),
    });
    store.insert_person(&ada, &create).await.expect("insert");
    let gus = person(&globex, "gus@example.org", "Gus", 0);
    insert_person(store.as_ref(), &globex, &gus).await;
    let mut updated = ada.clone();
    updated.name = "Ada L".to_owned();
    store
        .update_person(&updated, &event(&acme, "person.update", ada.id))
        .await
        .expect("update");

    let events = store.events_after(&acme.id, 0, 10).await.expect("events");
    assert_eq!(events.len(), 2, "only acme's");
    assert!(events[0].id < events[1].id);
    assert_eq!(
        events[0].actor,
        Some(Actor {
            person_id: ada.id,
            person_name: "Ada".to_owned()
        })
    );
    assert_eq!(events[0].payload, json!({ "marker": "person.create" }));
    assert_eq!(events[0].object_id, ada.id.to_string());
    let after_first = store
        .events_after(&acme.id, events[0].id, 10)
        .await
        .expect("events");
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].name, "person.update");
}

/// Reservations of a shared limit are granted what the ones before them left, per key and
/// window, however many processes ask; past windows are forgotten.
async fn quota_reservations_never_grant_more_than_the_limit(backend: Backend) {
    let (store, _guard) = store(backend).await;
    assert_eq!(store.quotas_shared(), backend == Backend::Postgres);
    // 40 reservations of 3 against a limit of 100, all at once: 33 whole, one of 1, the rest 0.
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let store = store.clone();
        asks.spawn(async move { store.reserve_quota("token:a", 600, 3, 100).await });
    }
    let mut grants: Vec<u32> = asks
        .join_all()
        .await
        .into_iter()
        .map(|grant| grant.expect("reserve").granted)
        .collect();
    grants.sort_unstable();
    assert_eq!(grants.iter().sum::<u32>(), 100);
    assert_eq!(grants.iter().filter(|granted| **granted == 3).count(), 33);
    assert_eq!(grants[6], 1, "{grants:?}");
    let spent = store
        .reserve_quota("token:a", 600, 3, 100)
        .await
        .expect("reserve");
    assert_eq!((spent.granted, spent.taken_before), (0, 100));
    // Another window, another key: their own limits.
    let next = store
        .reserve_quota("token:a", 660, 3, 100)
        .await
        .expect("reserve");
    assert_eq!((next.granted, next.taken_before), (3, 0));
    let other = store
        .reserve_quota("token:b", 600, 5, 100)
        .await
        .expect("reserve");
    assert_eq!((other.granted, other.taken_before), (5, 0));
    assert_eq!(store.forget_quota_windows(660).await.expect("forget"), 2);
    let again = store
        .reserve_quota("token:a", 600, 3, 100)
        .await
        .expect("reserve");
    assert_eq!(again.granted, 3, "a forgotten window starts afresh");
}

both_backends!(
    quota_reservations_never_grant_more_than_the_limit,
    migrate_twice_and_ping,
    accounts_round_trip_and_refuse_duplicates,
    person_round_trips_with_roles_and_event,
    duplicate_email_conflicts_case_insensitively_and_appends_nothing,
    same_email_in_another_account_is_allowed,
    person_in_unknown_account_is_a_missing_reference,
    update_person_replaces_fields_and_roles,
    people_paginate_in_stable_order,
    tokens_round_trip_list_and_filter_by_owner,
    credential_reads_token_owner_and_current_roles,
    revoke_token_is_idempotent_and_appends_one_event,
    touch_token_writes_at_most_once_per_resolution,
    events_are_ordered_scoped_and_carry_the_actor,
);
