//! Accounts, people and tokens made through the library, not over HTTP: the arrange steps of
//! the test harness, of the tests that start their own processes, and of the benches (which
//! include this file with `#[path]`).

use gatehouse::auth::{RoleSet, Scope, ScopeSet};
use gatehouse::domain::{Account, Person};
use gatehouse::service::{NewAccount, NewPerson, NewToken, Services, TokenExpiry};

/// Creates the account `id`, named `name`.
pub async fn account(services: &Services, id: &str, name: &str) -> Account {
    services
        .create_account(NewAccount {
            id: id.to_owned(),
            name: name.to_owned(),
        })
        .await
        .expect("create account")
}

/// Creates an enabled person in `account` with `roles`, as no one in particular (an operator).
pub async fn person(
    services: &Services,
    account: &Account,
    name: &str,
    email: &str,
    roles: &[&str],
) -> Person {
    let new = NewPerson {
        name: name.to_owned(),
        primary_email: email.to_owned(),
        job_title: None,
        employee_number: None,
        disabled: false,
        roles: RoleSet::parse(roles).expect("roles"),
    };
    services
        .create_person(account, None, new)
        .await
        .expect("create person")
}

/// Creates a token named `name` for `person` with `scopes`, valid for `days` (7, 30, 60, 90,
/// 180 or 365); returns its secret.
pub async fn token<S: AsRef<str>>(
    services: &Services,
    account: &Account,
    person: &Person,
    name: &str,
    scopes: impl IntoIterator<Item = S>,
    days: u32,
) -> String {
    let new = NewToken {
        name: name.to_owned(),
        description: None,
        scopes: ScopeSet::parse(scopes).expect("scopes"),
        expiry: TokenExpiry::InDays(days),
    };
    let created = services
        .create_token(account, None, person, new)
        .await
        .expect("create token");
    created.secret.expose().to_owned()
}

/// Every scope there is, for tokens that should be stopped only by roles.
pub fn every_scope() -> Vec<String> {
    Scope::ALL.iter().map(Scope::to_string).collect()
}
