//! Recorded provisioning cycles of Microsoft Entra ID and Okta, replayed end to end on both
//! backends: the requests each client sends, in the shapes their own documentation shows,
//! from the first lookup to the last delete.
//!
//! A recording (`tests/fixtures/scim/*_cycle.json`) is an array of steps:
//!
//! ```json
//! { "name": "...", "note": "where the client sends this",
//!   "method": "PATCH", "path": "/scim/v2/Groups/{{group}}", "body": { ... },
//!   "expect": { "status": 200, "json": { ... } },
//!   "capture": { "group": "/id" },
//!   "events": ["scim_group.update"] }
//! ```
//!
//! `{{name}}` in paths, bodies and expectations stands for a value an earlier step captured
//! (a JSON pointer into its response). Expected JSON is a subset: an object's listed keys must
//! match, recursively; an array must match element by element, unless written as
//! `{"$unordered": [...]}` (the same elements in any order) or `{"$contains": [...]}` (at least
//! these, in any order); `{"$absent": true}` as a key's value means the key must be missing.
//! `events` names the outbox events the step writes, in order; a step without it writes none.
//!
//! Every step runs even after one fails, so a run reports all the server's departures from
//! what the clients need at once.

use std::collections::HashMap;

use crate::common::{self, Backend, RequestExt, TestServer};
use gatehouse::domain::AccountId;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

const ENTRA_CYCLE: &str = include_str!("../fixtures/scim/entra_cycle.json");
const OKTA_CYCLE: &str = include_str!("../fixtures/scim/okta_cycle.json");
const GATEHOUSE_GROUP: &str = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    note: String,
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
    expect: Expect,
    #[serde(default)]
    capture: HashMap<String, String>,
    #[serde(default)]
    events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    #[serde(default)]
    json: Option<Value>,
}

/// A provisioning client's connection: the server, the account's SCIM provisioning credential
/// (what README's Entra ID and Okta set-up gives the identity provider) and the ids captured.
struct Client {
    server: TestServer,
    token: String,
    account: AccountId,
    vars: HashMap<String, String>,
}

impl Client {
    async fn connect(backend: Backend) -> Self {
        let (server, admin) =
            common::provisioning(backend, "account_administrator", &["account:write"]).await;
        let response = server
            .post("/v1/scim_token", &admin)
            .expect_status(StatusCode::CREATED)
            .await;
        let credential = common::json_body(response).await;
        let token = credential["secret"].as_str().expect("secret").to_owned();
        assert!(token.starts_with("gth_scim_"));
        Self {
            server,
            token,
            account: AccountId::parse("acme").expect("slug"),
            vars: HashMap::new(),
        }
    }

    async fn last_event_id(&self) -> i64 {
        self.events_after(0).await.last().map_or(0, |(id, _)| *id)
    }

    async fn events_after(&self, after: i64) -> Vec<(i64, String)> {
        self.server
            .services
            .store
            .events_after(&self.account, after, 1000)
            .await
            .expect("events")
            .into_iter()
            .map(|event| (event.id, event.name))
            .collect()
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut request = self
            .server
            .client
            .request(method, self.server.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(serde_json::to_vec(body).expect("JSON"));
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    fn var(&self, name: &str) -> &str {
        self.vars
            .get(name)
            .unwrap_or_else(|| panic!("nothing captured as {name}"))
    }

    /// Replays a recording, every step of it, and tells which steps went otherwise.
    async fn replay(&mut self, recording: &str) -> Outcome {
        let steps: Vec<Step> = serde_json::from_str(recording).expect("a recording");
        let mut failures = Vec::new();
        let mut last_event = self.last_event_id().await;
        for (number, step) in steps.iter().enumerate() {
            let step_failures = self.run(step, &mut last_event).await;
            if !step_failures.is_empty() {
                failures.push(format!(
                    "step {} \"{}\": {} {}\n  client: {}\n  {}",
                    number + 1,
                    step.name,
                    step.method,
                    substitute(&step.path, &self.vars),
                    step.note,
                    step_failures.join("\n  ")
                ));
            }
        }
        let outcome = Outcome {
            steps: steps.len(),
            failures,
        };
        if !outcome.failures.is_empty() {
            // Shown before the final-state checks, which may fail for the same reason.
            eprintln!("{}", outcome.report());
        }
        outcome
    }

    async fn run(&mut self, step: &Step, last_event: &mut i64) -> Vec<String> {
        let method = Method::from_bytes(step.method.as_bytes()).expect("an HTTP method");
        let path = substitute(&step.path, &self.vars);
        let body = step
            .body
            .as_ref()
            .map(|body| substitute_value(body, &self.vars));
        let (status, actual) = self.send(method, &path, body.as_ref()).await;
        let mut failures = Vec::new();
        if status.as_u16() != step.expect.status {
            failures.push(format!("status {status}, recorded {}", step.expect.status));
        }
        if let Some(expected) = &step.expect.json {
            let expected = substitute_value(expected, &self.vars);
            let mut mismatches = Vec::new();
            compare(&expected, &actual, "", &mut mismatches);
            failures.extend(mismatches);
        }
        if !failures.is_empty() {
            failures.push(format!("response body: {actual}"));
        }
        for (name, pointer) in &step.capture {
            match actual.pointer(pointer).and_then(Value::as_str) {
                Some(value) => {
                    self.vars.insert(name.clone(), value.to_owned());
                }
                None => panic!(
                    "step \"{}\" has no {pointer} to capture as {name}, so the replay cannot go on:\n  {}",
                    step.name,
                    failures.join("\n  ")
                ),
            }
        }
        let written = self.events_after(*last_event).await;
        if let Some((id, _)) = written.last() {
            *last_event = *id;
        }
        let names: Vec<&str> = written.iter().map(|(_, name)| name.as_str()).collect();
        if names != step.events {
            failures.push(format!(
                "events written {names:?}, recorded {:?}",
                step.events
            ));
        }
        failures
    }
}

/// What a replay found: one report per step that went otherwise than recorded.
struct Outcome {
    steps: usize,
    failures: Vec<String>,
}

impl Outcome {
    fn report(&self) -> String {
        format!(
            "{} of {} steps went otherwise than recorded:\n{}",
            self.failures.len(),
            self.steps,
            self.failures.join("\n\n")
        )
    }

    fn assert_as_recorded(&self) {
        assert!(self.failures.is_empty(), "{}", self.report());
    }
}

/// `{{name}}` replaced by what was captured as `name`.
fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed {{{{ in {text}"));
        let name = &after[..end];
        out.push_str(
            vars.get(name)
                .unwrap_or_else(|| panic!("{text} names {name}, which no step captured")),
        );
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn substitute_value(value: &Value, vars: &HashMap<String, String>) -> Value {
    match value {
        Value::String(text) => Value::String(substitute(text, vars)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| substitute_value(item, vars))
                .collect(),
        ),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, item)| (substitute(key, vars), substitute_value(item, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The one `$form` of a `{"$form": ...}` object, if that is what `value` is.
fn form(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Object(object) if object.len() == 1 => object
            .iter()
            .next()
            .filter(|(key, _)| key.starts_with('$') && key.as_str() != "$ref")
            .map(|(key, value)| (key.as_str(), value)),
        _ => None,
    }
}

/// Records in `mismatches` where `actual` departs from `expected` (see the module docs).
fn compare(expected: &Value, actual: &Value, at: &str, mismatches: &mut Vec<String>) {
    let here = if at.is_empty() { "/" } else { at };
    if let Some((name, inner)) = form(expected) {
        let (Some(wanted), Some(items)) = (inner.as_array(), actual.as_array()) else {
            mismatches.push(format!("{here}: {actual}, recorded {name} {inner}"));
            return;
        };
        let exact = match name {
            "$unordered" => true,
            "$contains" => false,
            _ => panic!("unknown form {name} at {here}"),
        };
        if (exact && wanted.len() != items.len())
            || !assign(wanted, items, &mut vec![false; items.len()])
        {
            mismatches.push(format!("{here}: {actual}, recorded {name} {inner}"));
        }
        return;
    }
    match (expected, actual) {
        (Value::Object(wanted), Value::Object(object)) => {
            for (key, value) in wanted {
                let path = format!("{at}/{key}");
                match (form(value), object.get(key)) {
                    (Some(("$absent", _)), None) => {}
                    (Some(("$absent", _)), Some(found)) => {
                        mismatches.push(format!("{path}: {found}, recorded absent"));
                    }
                    (_, None) => mismatches.push(format!("{path}: missing, recorded {value}")),
                    (_, Some(found)) => compare(value, found, &path, mismatches),
                }
            }
        }
        (Value::Array(wanted), Value::Array(items)) if wanted.len() == items.len() => {
            for (index, (value, item)) in wanted.iter().zip(items).enumerate() {
                compare(value, item, &format!("{at}/{index}"), mismatches);
            }
        }
        _ if expected == actual => {}
        _ => mismatches.push(format!("{here}: {actual}, recorded {expected}")),
    }
}

fn matches(expected: &Value, actual: &Value) -> bool {
    let mut mismatches = Vec::new();
    compare(expected, actual, "", &mut mismatches);
    mismatches.is_empty()
}

/// Whether each of `wanted` matches a distinct one of `items` not yet `used`.
fn assign(wanted: &[Value], items: &[Value], used: &mut Vec<bool>) -> bool {
    let Some((first, rest)) = wanted.split_first() else {
        return true;
    };
    for index in 0..items.len() {
        if !used[index] && matches(first, &items[index]) {
            used[index] = true;
            if assign(rest, items, used) {
                return true;
            }
            used[index] = false;
        }
    }
    false
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .unwrap_or_else(|| panic!("members in {group}"))
        .iter()
        .map(|member| member["value"].as_str().expect("value").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

fn object(value: &Value) -> &Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
}

async fn entra_id_cycle(backend: Backend) {
    let mut entra = Client::connect(backend).await;
    let outcome = entra.replay(ENTRA_CYCLE).await;

    // The users as the SCIM endpoint now has them.
    let (status, ada) = entra
        .get(&format!("/scim/v2/Users/{}", entra.var("ada")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            ada["active"].as_bool(),
            ada["displayName"].as_str(),
            ada["nickName"].as_str(),
            ada["name"]["givenName"].as_str(),
            ada["name"]["familyName"].as_str(),
            ada[ENTERPRISE]["employeeNumber"].as_str(),
        ),
        (
            Some(true),
            Some("Ada King"),
            Some("Ada"),
            Some("Augusta Ada"),
            Some("King"),
            Some("1843")
        ),
        "{ada}"
    );
    assert!(
        !object(&ada)
            .keys()
            .any(|key| key.contains('.') && !key.starts_with("urn:")),
        "dotted PATCH keys land in their attributes: {ada}"
    );
    let (_, alan) = entra
        .get(&format!("/scim/v2/Users/{}", entra.var("alan")))
        .await;
    assert_eq!(alan["active"], false, "{alan}");
    let (status, _) = entra
        .get(&format!("/scim/v2/Users/{}", entra.var("grace")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, users) = entra.get("/scim/v2/Users?count=100").await;
    assert_eq!(users["totalResults"], 2, "{users}");

    // The group: renamed, retyped, and exactly the members the churn left.
    let (_, guides) = entra
        .get(&format!("/scim/v2/Groups/{}", entra.var("guides")))
        .await;
    assert_eq!(guides["displayName"], "Tour Guides EMEA");
    assert_eq!(guides[GATEHOUSE_GROUP]["groupType"], "site", "{guides}");
    assert_eq!(
        member_ids(&guides),
        sorted(&[entra.var("ada"), entra.var("alan")])
    );
    let (status, _) = entra
        .get(&format!("/scim/v2/Groups/{}", entra.var("night")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, alans_groups) = entra
        .get(&format!(
            "/scim/v2/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D",
            entra.var("alan")
        ))
        .await;
    assert_eq!(alans_groups["totalResults"], 1, "{alans_groups}");
    let (_, site_groups) = entra
        .get(&format!(
            "/scim/v2/Groups?filter={GATEHOUSE_GROUP}:groupType%20eq%20%22site%22"
        ))
        .await;
    assert_eq!(site_groups["Resources"][0]["id"], entra.var("guides"));

    // The people the users provisioned: active, deactivated, and kept (disabled) after delete.
    let services = &entra.server.services;
    let ada_person = services
        .person_by_email(&entra.account, "countess.lovelace@contoso.example")
        .await
        .expect("Ada's person follows her work email");
    assert_eq!(
        (ada_person.name.as_str(), ada_person.disabled),
        ("Ada King", false)
    );
    assert_eq!(ada_person.job_title.as_deref(), Some("Analyst"));
    assert_eq!(ada_person.employee_number.as_deref(), Some("1843"));
    let alan_person = services
        .person_by_email(&entra.account, "alan.turing@contoso.example")
        .await
        .expect("Alan's person");
    assert!(
        alan_person.disabled,
        "a deactivated User disables its person"
    );
    let grace_person = services
        .person_by_email(&entra.account, "grace.hopper@contoso.example")
        .await
        .expect("people are never deleted");
    assert!(
        grace_person.disabled,
        "a deleted User leaves its person disabled"
    );
    outcome.assert_as_recorded();
}

async fn okta_cycle(backend: Backend) {
    let mut okta = Client::connect(backend).await;
    let outcome = okta.replay(OKTA_CYCLE).await;

    let (_, jane) = okta
        .get(&format!("/scim/v2/Users/{}", okta.var("jane")))
        .await;
    assert_eq!(
        (
            jane["active"].as_bool(),
            jane["displayName"].as_str(),
            jane["name"]["middleName"].as_str(),
            jane["externalId"].as_str(),
        ),
        (
            Some(true),
            Some("Jane Doe-Smith"),
            Some("Q"),
            Some("00ujl29u0le5T6Aj10h7")
        ),
        "{jane}"
    );
    assert!(
        jane.get("password").is_none(),
        "passwords are never returned"
    );
    let (_, john) = okta
        .get(&format!("/scim/v2/Users/{}", okta.var("john")))
        .await;
    assert_eq!(john["active"], false, "{john}");
    let (_, kim) = okta
        .get(&format!("/scim/v2/Users/{}", okta.var("kim")))
        .await;
    assert_eq!(kim["active"], true, "{kim}");

    let (_, support) = okta
        .get(&format!("/scim/v2/Groups/{}", okta.var("support")))
        .await;
    assert_eq!(support["displayName"], "Support Engineers EMEA");
    assert_eq!(
        member_ids(&support),
        sorted(&[okta.var("jane"), okta.var("kim")])
    );
    assert_eq!(
        support["id"],
        okta.var("support"),
        "the id Okta echoes in its name updates changes nothing"
    );
    let (_, teams) = okta
        .get(&format!(
            "/scim/v2/Groups?filter={GATEHOUSE_GROUP}:groupType%20eq%20%22team%22"
        ))
        .await;
    assert_eq!(
        (
            teams["totalResults"].as_u64(),
            teams["Resources"][0]["id"].as_str()
        ),
        (Some(1), Some(okta.var("support"))),
        "Group Push sends no group type: the default, team"
    );
    let (status, _) = okta
        .get(&format!("/scim/v2/Groups/{}", okta.var("contractors")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let services = &okta.server.services;
    let jane_person = services
        .person_by_email(&okta.account, "jane.doe@okta.local")
        .await
        .expect("Jane's person");
    assert_eq!(
        (jane_person.name.as_str(), jane_person.disabled),
        ("Jane Doe-Smith", false)
    );
    let john_person = services
        .person_by_email(&okta.account, "john.smith@okta.local")
        .await
        .expect("John's person");
    assert!(john_person.disabled, "deactivation disables the person");
    outcome.assert_as_recorded();
}

both_backends!(entra_id_cycle, okta_cycle);
