//! The web console end to end on both backends, through HTTP as a browser speaks it (cookies,
//! forms, redirects), against the real router: sign-in and its cookie, idle and absolute
//! session ends, CSRF and origin checks, the one-time secrets, role rules as in the API, and
//! the webhook → policy → delivery → redeliver path with a real receiver. The same flows run in
//! headless Chromium in scripts/console-browser-test.

use std::collections::BTreeMap;

use crate::common::receiver::Receiver;
use crate::common::{Backend, RequestExt, TestServer, TestServerOptions};
use chrono::Duration;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A cookie-keeping client that does not follow redirects, like a browser tab we can inspect.
struct Browser {
    client: reqwest::Client,
    base_url: String,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token the page's forms carry.
    fn csrf(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.body.find(marker).expect("a form with a CSRF token") + marker.len();
        let end = self.body[start..].find('"').expect("end of the value") + start;
        self.body[start..end].to_owned()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The text of the element with `id`, up to its first tag.
    fn text_of(&self, id: &str) -> Option<String> {
        let marker = format!(r#"id="{id}""#);
        let start = self.body.find(&marker)?;
        let open_end = self.body[start..].find('>')? + start + 1;
        let close = self.body[open_end..].find('<')? + open_end;
        Some(self.body[open_end..close].to_owned())
    }
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base_url: server.base_url.clone(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep(response).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header("cookie", self.cookie_header())
            .header("origin", &self.base_url)
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.keep(response).await
    }

    async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "/console/sign-in",
            &[("csrf_token", csrf.as_str()), ("token", token)],
        )
        .await
    }

    /// Submits a form of `page_path` (its CSRF token read from that page) to `action`.
    async fn submit(&mut self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(page_path).await.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}

/// Sends a REST or SCIM request and reads its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON answer")
}

async fn admin_server(backend: Backend, deliver: bool) -> (TestServer, String) {
    let server = TestServer::start_with(
        backend,
        TestServerOptions {
            deliver,
            ..TestServerOptions::default()
        },
    )
    .await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    let token = server.token_with_every_scope(&acme, &ada).await;
    (server, token)
}

/// A second person of `acme` (named after `email`) holding `roles`, signed in to the console
/// with a token of theirs carrying `scopes`: the browser, and the token.
async fn signed_in_member(
    server: &TestServer,
    email: &str,
    roles: &[&str],
    scopes: &[&str],
) -> (Browser, String) {
    let acme = server
        .services
        .account(&gatehouse::domain::AccountId::parse("acme").expect("slug"))
        .await
        .expect("acme");
    let person = server.person(&acme, email, roles).await;
    let token = server.token(&acme, &person, scopes).await;
    let mut browser = Browser::new(server);
    browser.sign_in(&token).await;
    (browser, token)
}

async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);

    let start = browser.get("/console").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert_eq!(start.location(), "/console/sign-in");
    let asked = browser.get("/console/webhooks?page=1").await;
    assert_eq!(
        asked.location(),
        "/console/sign-in?next=%2Fconsole%2Fwebhooks%3Fpage%3D1"
    );

    let wrong = browser.sign_in("gth_pat_not-a-real-token").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains(r#"role="alert""#), "{}", wrong.body);
    assert!(!wrong.body.contains("gth_pat_not-a-real-token"));
    assert!(!browser.cookies.contains_key("gatehouse_session"));

    let form = browser.get("/console/sign-in").await;
    let forged = browser
        .post(
            "/console/sign-in",
            &[("csrf_token", "forged"), ("token", token.as_str())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let signed_in = browser
        .post(
            "/console/sign-in",
            &[
                ("csrf_token", form.csrf().as_str()),
                ("token", token.as_str()),
                ("next", "/console/webhooks"),
            ],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), "/console/webhooks");
    let cookie = signed_in
        .set_cookie("gatehouse_session")
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/console"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
    assert!(
        !cookie.contains(&token),
        "the token itself never goes into the cookie"
    );

    let tokens = browser.get("/console/tokens").await;
    assert_eq!(tokens.status, StatusCode::OK);
    assert!(tokens.body.contains("Personal access tokens"));
    assert!(tokens.body.contains("ada"), "the person's name is shown");
    assert_eq!(tokens.headers["cache-control"], "no-store");
    assert!(
        tokens.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );

    let session = browser.cookies["gatehouse_session"].clone();
    let out = browser
        .submit("/console/tokens", "/console/sign-out", &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/console/sign-in?signed_out=1");
    assert!(!browser.cookies.contains_key("gatehouse_session"));
    // The old cookie, replayed, is a session that no longer exists.
    browser
        .cookies
        .insert("gatehouse_session".to_owned(), session);
    let replayed = browser.get("/console/tokens").await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    assert!(
        replayed.location().starts_with("/console/sign-in?ended=1"),
        "{}",
        replayed.location()
    );
}

async fn sessions_end_when_idle_too_long_at_twelve_hours_or_when_the_token_is_revoked(
    backend: Backend,
) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    assert_eq!(browser.sign_in(&token).await.status, StatusCode::SEE_OTHER);

    server.clock.advance(Duration::minutes(29));
    assert_eq!(
        browser.get("/console/tokens").await.status,
        StatusCode::OK,
        "activity keeps it open"
    );
    server.clock.advance(Duration::minutes(31));
    let idle = browser.get("/console/tokens").await;
    assert_eq!(idle.status, StatusCode::SEE_OTHER);
    assert!(idle.location().contains("ended=1"));

    assert_eq!(browser.sign_in(&token).await.status, StatusCode::SEE_OTHER);
    for _ in 0..(12 * 60 / 25) {
        server.clock.advance(Duration::minutes(25));
        assert_eq!(browser.get("/console/tokens").await.status, StatusCode::OK);
    }
    server.clock.advance(Duration::minutes(25));
    assert_eq!(
        browser.get("/console/tokens").await.status,
        StatusCode::SEE_OTHER,
        "12 hours after sign-in the session ends however active"
    );

    assert_eq!(browser.sign_in(&token).await.status, StatusCode::SEE_OTHER);
    let me: Value = json_of(server.get("/v1/personal_access_tokens", &token)).await;
    let id = me[0]["id"].as_str().unwrap().to_owned();
    let revoked = server
        .post(&format!("/v1/personal_access_tokens/{id}/revoke"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = browser.get("/console/tokens").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "a revoked token's session ends at once"
    );
    let again = browser.sign_in(&token).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("revoked"), "{}", again.body);
}

async fn forms_without_the_csrf_token_or_from_another_origin_change_nothing(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let count = |server: &TestServer, token: String| {
        let request = server.get("/v1/personal_access_tokens", &token);
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = count(&server, token.clone()).await;

    let missing = browser
        .post(
            "/console/tokens",
            &[("name", "sneaky"), ("scopes", "people:read")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.body.contains("nothing was changed"),
        "{}",
        missing.body
    );

    let csrf = browser.get("/console/tokens").await.csrf();
    let foreign = browser
        .client
        .post(format!("{}/console/tokens", server.base_url))
        .header("cookie", browser.cookie_header())
        .header("origin", "https://evil.example")
        .form(&[("csrf_token", csrf.as_str()), ("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&server, token.clone()).await, before);

    // A CSRF token of another session is no good either.
    let mut other = Browser::new(&server);
    other.sign_in(&token).await;
    let others = other.get("/console/tokens").await.csrf();
    assert_ne!(others, csrf);
    let crossed = browser
        .post(
            "/console/tokens",
            &[("csrf_token", others.as_str()), ("name", "sneaky")],
        )
        .await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&server, token).await, before);
}

async fn a_token_made_in_the_console_is_shown_once_works_and_can_be_revoked(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;

    let refused = browser
        .submit(
            "/console/tokens",
            "/console/tokens",
            &[("name", " "), ("expires_in", "30")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"role="alert""#));

    let created = browser
        .submit(
            "/console/tokens",
            "/console/tokens",
            &[
                ("name", "ci token"),
                ("expires_in", "7"),
                ("scopes", "people:read"),
                ("scopes", "webhooks:read"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("only once"));
    let secret = created
        .text_of("new-secret")
        .expect("the secret on the page");
    assert!(secret.starts_with("gth_pat_"), "{secret}");
    let me = server.get("/v1/me", &secret).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    let list = browser.get("/console/tokens").await;
    assert!(list.body.contains("ci token"));
    assert!(list.body.contains("people:read webhooks:read"));
    assert!(
        !list.body.contains(&secret),
        "the list never shows a secret"
    );
    let tokens: Value = json_of(server.get("/v1/personal_access_tokens", &token)).await;
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci token")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let expires = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci token")
        .unwrap()["expires_at"]
        .clone();
    assert!(
        expires.as_str().unwrap().starts_with("2026-11-08"),
        "7 days from the test clock: {expires}"
    );

    let revoked = browser
        .submit(
            "/console/tokens",
            &format!("/console/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(revoked.location(), "/console/tokens?done=revoked");
    assert_eq!(
        server.get("/v1/me", &secret).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let list = browser.get("/console/tokens?done=revoked").await;
    assert!(list.body.contains("revoked"));
    let missing = browser
        .submit("/console/tokens", "/console/tokens/not-an-id/revoke", &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// The owner edits a token's name and description and narrows its scopes on its page; a
/// wider scope isn't offered and is refused when sent anyway; revoking is a button there too.
async fn a_token_is_renamed_narrowed_and_revoked_on_its_page(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let created = browser
        .submit(
            "/console/tokens",
            "/console/tokens",
            &[
                ("name", "deploy"),
                ("expires_in", "30"),
                ("scopes", "people:write"),
                ("scopes", "webhooks:read"),
            ],
        )
        .await;
    let secret = created.text_of("new-secret").expect("secret");
    let tokens: Value = json_of(server.get("/v1/personal_access_tokens", &token)).await;
    let id = tokens
        .as_array()
        .expect("array")
        .iter()
        .find(|listed| listed["name"] == "deploy")
        .expect("the new token")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let list = browser.get("/console/tokens").await;
    assert!(
        list.body
            .contains(&format!(r#"href="/console/tokens/{id}""#))
    );

    let path = format!("/console/tokens/{id}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"value="people:read""#),
        "write offers its read"
    );
    assert!(
        !page.body.contains(r#"value="webhooks:write""#),
        "nothing wider is offered"
    );
    let saved = browser
        .submit(
            &path,
            &path,
            &[
                ("name", "deploy (read-only)"),
                ("description", "reads people"),
                ("scopes", "people:read"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let shown: Value =
        json_of(server.get(&format!("/v1/personal_access_tokens/{id}"), &token)).await;
    assert_eq!(shown["name"], "deploy (read-only)");
    assert_eq!(shown["description"], "reads people");
    assert_eq!(shown["scopes"], json!(["people:read"]));
    assert_eq!(
        server
            .get("/v1/webhooks", &secret)
            .send()
            .await
            .expect("response")
            .status(),
        StatusCode::FORBIDDEN,
        "the dropped scope stops working at once"
    );

    let refused = browser
        .submit(
            &path,
            &path,
            &[("name", "deploy"), ("scopes", "people:write")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"role="alert""#));
    let shown: Value =
        json_of(server.get(&format!("/v1/personal_access_tokens/{id}"), &token)).await;
    assert_eq!(
        shown["scopes"],
        json!(["people:read"]),
        "a refusal changes nothing"
    );

    let revoked = browser.submit(&path, &format!("{path}/revoke"), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        server
            .get("/v1/me", &secret)
            .send()
            .await
            .expect("response")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let page = browser.get(&path).await;
    assert!(
        !page.body.contains("Save token"),
        "a revoked token is not edited"
    );
}

/// People are listed and searched; a directory administrator disables and enables a
/// specialist and changes their roles, but neither changes an account administrator nor gives
/// that role, as in the API.
async fn people_are_searched_and_managed_within_the_actors_rank(backend: Backend) {
    let (server, admin_token) = admin_server(backend, false).await;
    let acme = server
        .services
        .account(&gatehouse::domain::AccountId::parse("acme").expect("slug"))
        .await
        .expect("acme");
    let dora = server
        .person(&acme, "dora@example.org", &["directory_administrator"])
        .await;
    let sam = server
        .person(&acme, "sam@example.org", &["specialist"])
        .await;
    let ada_id = json_of(server.get("/v1/me", &admin_token)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let dora_token = server
        .token(&acme, &dora, &["people:read", "people:write"])
        .await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&dora_token).await;

    let list = browser.get("/console/people").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("3 people"), "{}", list.body);
    let found = browser.get("/console/people?search=SAM%40EXAMPLE").await;
    assert!(found.body.contains("1 person") && found.body.contains("sam@example.org"));
    let found = browser.get("/console/people?search=dor").await;
    assert!(found.body.contains("1 person") && found.body.contains("dora@example.org"));
    let none = browser.get("/console/people?search=%25").await;
    assert!(
        none.body.contains("No one matches"),
        "a LIKE wildcard is text"
    );
    let rest: Value = json_of(server.get("/v1/people?q=Sam", &dora_token)).await;
    assert_eq!(
        rest.as_array().expect("array").len(),
        1,
        "REST searches too"
    );

    let sam_page = format!("/console/people/{}", sam.id.0);
    let disabled = browser
        .submit(
            &sam_page,
            &format!("{sam_page}/status"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let shown: Value = json_of(server.get(&format!("/v1/people/{}", sam.id.0), &admin_token)).await;
    assert_eq!(shown["disabled"], true);
    browser
        .submit(
            &sam_page,
            &format!("{sam_page}/status"),
            &[("disabled", "false")],
        )
        .await;
    let roles = browser
        .submit(
            &sam_page,
            &format!("{sam_page}/roles"),
            &[
                ("roles", "specialist"),
                ("roles", "directory_administrator"),
            ],
        )
        .await;
    assert_eq!(roles.status, StatusCode::SEE_OTHER, "{}", roles.body);
    let shown: Value = json_of(server.get(&format!("/v1/people/{}", sam.id.0), &admin_token)).await;
    assert_eq!(shown["disabled"], false);
    assert_eq!(
        shown["roles"],
        json!(["directory_administrator", "specialist"])
    );

    // Giving account_administrator is an account administrator's to do.
    let refused = browser
        .submit(
            &sam_page,
            &format!("{sam_page}/roles"),
            &[("roles", "account_administrator")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains(r#"role="alert""#));
    // The account administrator outranks Dora: no form on her page, and a forged one fails.
    let ada_page = format!("/console/people/{ada_id}");
    let page = browser.get(&ada_page).await;
    assert!(!page.body.contains("Disable person") && !page.body.contains("Save roles"));
    let csrf = browser.get(&sam_page).await.csrf();
    let forged = browser
        .post(
            &format!("{ada_page}/status"),
            &[("csrf_token", csrf.as_str()), ("disabled", "true")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("outranks"), "{}", forged.body);
    assert_eq!(
        server
            .get("/v1/me", &admin_token)
            .send()
            .await
            .expect("response")
            .status(),
        StatusCode::OK,
        "the account administrator still works"
    );
}

/// The `<tr>` of a chart's table view for `period`, as the page renders it.
fn chart_row(page: &Page, chart: &str, period: &str) -> String {
    let start = page
        .body
        .find(&format!(r#"id="{chart}""#))
        .unwrap_or_else(|| panic!("no chart {chart}"));
    let figure = &page.body[start..];
    let figure = &figure[..figure.find("</figure>").expect("the chart's end")];
    let row_start = figure
        .find(&format!(r#"<th scope="row">{period}</th>"#))
        .unwrap_or_else(|| panic!("no row {period} in {chart}"));
    let row = &figure[row_start..];
    row[..row.find("</tr>").expect("the row's end")].to_owned()
}

/// The overview charts what the API reports: attempts per hour and day by outcome, the queue,
/// the webhook in trouble with its last error, the credential's use and SCIM changes; a
/// webhook's page charts its own attempts and lists its last deliveries. Specialists are sent
/// to their tokens instead.
async fn the_overview_charts_what_the_api_reports(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    let good = crate::webhooks::verified_webhook(&server, &token, &receiver, "app.good").await;
    let bad = crate::webhooks::verified_webhook(&server, &token, &receiver, "app.bad").await;
    receiver.answer_event("app.bad", crate::common::receiver::Reply::Status(500));
    for object in ["1", "2", "3"] {
        crate::webhooks::publish(&server, &token, "app.good", object).await;
    }
    crate::webhooks::publish(&server, &token, "app.bad", "4").await;
    receiver.wait_for_messages(4).await;
    let credential: Value = json_of(server.post("/v1/scim_token", &token)).await;
    let secret = credential["secret"].as_str().expect("secret");
    let user: Value = json_of(server.post("/scim/v2/Users", secret).json(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "charted@example.org"
    })))
    .await;
    server
        .patch(
            &format!("/scim/v2/Users/{}", user["id"].as_str().expect("id")),
            secret,
        )
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": "active", "value": false }]
        }))
        .expect_status(StatusCode::OK)
        .await;

    let mut browser = Browser::new(&server);
    let signed_in = browser.sign_in(&token).await;
    assert_eq!(signed_in.location(), "/console/tokens");
    let home = browser.get("/console").await;
    assert_eq!(
        home.location(),
        "/console/overview",
        "administrators start here"
    );
    // Every attempt counts, the webhooks' verification messages included: the chart shows
    // as many successes as REST lists succeeded deliveries (one attempt each), and the one
    // retrying attempt of the failing webhook.
    let now = gatehouse::service::Clock::now(server.clock.as_ref());
    let hour = now.format("%H:00").to_string();
    let day = now.format("%m-%d").to_string();
    let mut page = browser.get("/console/overview").await;
    let mut expected = String::new();
    for _ in 0..100 {
        let succeeded: Value =
            json_of(server.get("/v1/webhook_deliveries?status=succeeded", &token)).await;
        expected = format!(
            "<td>{}</td><td>1</td><td>0</td>",
            succeeded.as_array().expect("array").len()
        );
        if chart_row(&page, "chart-hourly", &hour).ends_with(&expected) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = browser.get("/console/overview").await;
    }
    assert_eq!(page.status, StatusCode::OK);
    assert!(chart_row(&page, "chart-hourly", &hour).ends_with(&expected));
    assert!(chart_row(&page, "chart-daily", &day).ends_with(&expected));
    assert!(page.body.contains("<svg") && page.body.contains("<desc"));
    let status: Value = json_of(server.get("/v1/status", &token)).await;
    assert_eq!(
        page.text_of("queue-depth").expect("queue depth"),
        status["queue"]["pending"].to_string()
    );
    let troubled = &page.body[page.body.find(r#"id="troubled-webhooks""#).expect("table")..];
    assert!(troubled.contains("HTTP 500"), "{troubled}");
    assert!(
        page.text_of("credential-use")
            .expect("credential")
            .contains("last used")
    );
    assert!(chart_row(&page, "chart-scim", &day).ends_with("<td>1</td><td>1</td><td>1</td>"));

    let good_id = good["id"].as_str().expect("id");
    let webhook_page = browser.get(&format!("/console/webhooks/{good_id}")).await;
    let its_successes: Value = json_of(server.get(
        &format!("/v1/webhooks/{good_id}/deliveries?status=succeeded"),
        &token,
    ))
    .await;
    assert_eq!(
        its_successes.as_array().expect("array").len(),
        4,
        "three events and the verification message"
    );
    assert!(
        chart_row(&webhook_page, "chart-webhook", &hour)
            .ends_with("<td>4</td><td>0</td><td>0</td>")
    );
    let recent = &webhook_page.body[webhook_page
        .body
        .find(r#"id="recent-deliveries""#)
        .expect("recent deliveries")..];
    let recent = &recent[..recent.find("</table>").expect("the table's end")];
    assert_eq!(
        recent.matches("<code>app.good</code>").count(),
        3,
        "{recent}"
    );
    assert_eq!(
        recent.matches("<tr>").count(),
        5,
        "a header and 4 deliveries: {recent}"
    );

    let (mut specialist, _) = signed_in_member(
        &server,
        "sam@example.org",
        &["specialist"],
        &["account:read", "personal_access_tokens:read"],
    )
    .await;
    assert_eq!(
        specialist.get("/console").await.location(),
        "/console/tokens"
    );
    assert_eq!(
        specialist.get("/console/overview").await.status,
        StatusCode::FORBIDDEN
    );

    // The aggregates live 31 days: a purge after that forgets them.
    let acme = gatehouse::domain::AccountId::parse("acme").expect("slug");
    let long_ago = now - chrono::Duration::days(1);
    let store = &server.services.store;
    assert!(
        !store
            .hourly_attempts(&acme, long_ago, None)
            .await
            .expect("hours")
            .is_empty()
    );
    assert!(
        !store
            .scim_changes(&acme, long_ago)
            .await
            .expect("days")
            .is_empty()
    );
    // Its retry would fall due in the 32 days and be counted anew, after the purge or not.
    server
        .delete(
            &format!("/v1/webhooks/{}", bad["id"].as_str().expect("id")),
            &token,
        )
        .expect_status(StatusCode::NO_CONTENT)
        .await;
    server.clock.advance(Duration::days(32));
    server
        .services
        .purge(
            &gatehouse::service::PurgeScope::default(),
            gatehouse::service::Pacing::AT_ONCE,
        )
        .await
        .expect("purged");
    assert!(
        store
            .hourly_attempts(&acme, long_ago, None)
            .await
            .expect("hours")
            .is_empty()
    );
    assert!(
        store
            .scim_changes(&acme, long_ago)
            .await
            .expect("days")
            .is_empty()
    );
}

/// The account page shows the settings; an account administrator changes them there (a
/// refusal shows the reason and changes nothing); others see no form and can't post one.
async fn account_settings_are_read_and_changed_on_the_account_page(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let page = browser.get("/console/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("90 days"), "the default retention");
    assert!(
        page.body.contains(r#"href="/console/account""#),
        "in the navigation"
    );

    let refused = browser
        .submit(
            "/console/account",
            "/console/account",
            &[
                ("name", "Acme"),
                ("delivery_retention_days", "0"),
                ("scim_patch_response", "no_content"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("from 1 to 3650"), "{}", refused.body);
    let account: Value = json_of(server.get("/v1/account", &token)).await;
    assert_eq!(
        account["settings"]["scim_patch_response"], "resource",
        "unchanged"
    );

    let saved = browser
        .submit(
            "/console/account",
            "/console/account",
            &[
                ("name", "Acme Corporation"),
                ("delivery_retention_days", "7"),
                ("scim_patch_response", "no_content"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/console/account?done=saved");
    let account: Value = json_of(server.get("/v1/account", &token)).await;
    assert_eq!(account["name"], "Acme Corporation");
    assert_eq!(account["settings"]["delivery_retention_days"], 7);
    assert_eq!(account["settings"]["scim_patch_response"], "no_content");

    let (mut other, _) = signed_in_member(
        &server,
        "dora@example.org",
        &["directory_administrator"],
        &["account:read", "personal_access_tokens:read"],
    )
    .await;
    let page = other.get("/console/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("7 days") && !page.body.contains("Save account"));
    let refused = other
        .submit(
            "/console/account",
            "/console/account",
            &[("name", "Mine"), ("delivery_retention_days", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// The events page lists the catalogue for anyone and publishes a custom event, which is
/// delivered to the webhook listening to it; a name from the catalogue is refused.
async fn a_custom_event_is_published_from_the_events_page(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    crate::webhooks::verified_webhook(&server, &token, &receiver, "app.invoice.paid").await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let page = browser.get("/console/events").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("person.create") && page.body.contains("scim_token.rotate"));

    let refused = browser
        .submit(
            "/console/events",
            "/console/events",
            &[
                ("event", "person.create"),
                ("object_id", "1"),
                ("payload", "{}"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"role="alert""#));
    let refused = browser
        .submit(
            "/console/events",
            "/console/events",
            &[
                ("event", "app.invoice.paid"),
                ("object_id", "1"),
                ("payload", "{oops"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("payload is not JSON"),
        "{}",
        refused.body
    );

    let published = browser
        .submit(
            "/console/events",
            "/console/events",
            &[
                ("event", "app.invoice.paid"),
                ("object_id", "INV-7"),
                ("payload", r#"{"amount": 42}"#),
            ],
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert!(
        published.body.contains("queued for 1 webhook."),
        "{}",
        published.body
    );
    let message = receiver.wait_for_messages(1).await[0].message();
    assert_eq!(message["event"], "app.invoice.paid");
    assert_eq!(message["object_id"], "INV-7");
    assert_eq!(message["payload"]["amount"], 42);
}

/// The account's SCIM provisioning credential: created with its secret shown once, rotated
/// with an overlap, revoked; people who may not change the account see no buttons.
async fn the_scim_credential_is_managed_from_its_page(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let page = browser.get("/console/scim-token").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("has no provisioning credential"));
    let created = browser
        .submit("/console/scim-token", "/console/scim-token", &[])
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let first = created.text_of("new-secret").expect("secret");
    assert!(first.starts_with("gth_scim_"), "{first}");
    assert_eq!(
        server
            .get("/scim/v2/Users", &first)
            .send()
            .await
            .expect("response")
            .status(),
        StatusCode::OK
    );
    let page = browser.get("/console/scim-token").await;
    assert!(!page.body.contains(&first), "shown once");
    assert!(page.body.contains("Rotate secret"));

    let rotated = browser
        .submit(
            "/console/scim-token",
            "/console/scim-token/rotate",
            &[("overlap_days", "7")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second = rotated.text_of("new-secret").expect("secret");
    assert_ne!(first, second);
    assert!(rotated.body.contains("keeps working until"));
    let page = browser.get("/console/scim-token").await;
    assert!(page.body.contains("Previous secret"));
    for secret in [&first, &second] {
        assert_eq!(
            server
                .get("/scim/v2/Users", secret)
                .send()
                .await
                .expect("response")
                .status(),
            StatusCode::OK
        );
    }

    let revoked = browser
        .submit("/console/scim-token", "/console/scim-token/revoke", &[])
        .await;
    assert_eq!(revoked.location(), "/console/scim-token?done=revoked");
    for secret in [&first, &second] {
        assert_eq!(
            server
                .get("/scim/v2/Users", secret)
                .send()
                .await
                .expect("response")
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }

    // A directory administrator reads the account but may not change it: no buttons, and a
    // forged form is refused.
    let (mut other, _) = signed_in_member(
        &server,
        "dora@example.org",
        &["directory_administrator"],
        &["account:read", "personal_access_tokens:read"],
    )
    .await;
    let page = other.get("/console/scim-token").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Create credential"));
    let refused = other
        .submit("/console/scim-token", "/console/scim-token", &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        server
            .services
            .provisioning_credential(
                &gatehouse::domain::AccountId::parse("acme").expect("slug"),
                None
            )
            .await
            .is_err(),
        "nothing was created"
    );
}

/// A session acts as the token it was opened with: it creates only tokens within that token's
/// scopes and lifetime, and its form offers nothing else.
async fn a_session_creates_only_tokens_within_the_token_it_acts_as(backend: Backend) {
    let server = TestServer::start(backend).await;
    let acme = server.account("acme").await;
    let ada = server
        .person(&acme, "ada@example.org", &["account_administrator"])
        .await;
    // Ten days of personal_access_tokens:write (which implies :read) and nothing else.
    let token = server
        .token(&acme, &ada, &["personal_access_tokens:write"])
        .await;
    server.clock.advance(Duration::days(20));
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;

    let form = browser.get("/console/tokens").await;
    for (scope, offered) in [
        ("webhooks:write", false),
        ("people:write", false),
        ("personal_access_tokens:read", true),
        ("personal_access_tokens:write", true),
    ] {
        let input = format!(r#"id="scope-{scope}""#);
        let at = form.body.find(&input).expect("a checkbox per scope");
        let tag = &form.body[at..at + form.body[at..].find('>').expect("end of the tag")];
        assert_eq!(!tag.contains("disabled"), offered, "{scope}: {tag}");
    }
    assert!(
        form.body.contains(r#"<option value="30" disabled>"#),
        "30 days would outlive the session's token"
    );
    assert!(form.body.contains(r#"<option value="7">"#));

    for (fields, what) in [
        (
            vec![
                ("name", "wider"),
                ("expires_in", "7"),
                ("scopes", "webhooks:write"),
            ],
            "a scope the token lacks",
        ),
        (
            vec![
                ("name", "longer"),
                ("expires_in", "30"),
                ("scopes", "personal_access_tokens:read"),
            ],
            "a lifetime beyond the token's",
        ),
    ] {
        let refused = browser
            .submit("/console/tokens", "/console/tokens", &fields)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what}");
        assert!(refused.body.contains(r#"role="alert""#), "{what}");
    }
    let listed: Value = json_of(server.get("/v1/personal_access_tokens", &token)).await;
    assert_eq!(
        listed.as_array().expect("list").len(),
        1,
        "nothing was created"
    );

    let created = browser
        .submit(
            "/console/tokens",
            "/console/tokens",
            &[
                ("name", "as long as mine"),
                ("expires_in", "session"),
                ("scopes", "personal_access_tokens:read"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let listed: Value = json_of(server.get("/v1/personal_access_tokens", &token)).await;
    let expiries: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|token| token["expires_at"].as_str().expect("expiry"))
        .collect();
    assert_eq!(expiries.len(), 2);
    assert_eq!(
        expiries[0], expiries[1],
        "the same end as the session's token"
    );
}

async fn role_rules_are_those_of_the_api(backend: Backend) {
    let (server, admin_token) = admin_server(backend, false).await;
    let acme = server.find_account("acme").await;
    let sam = server
        .person(&acme, "sam@example.org", &["specialist"])
        .await;
    // Everything a specialist's roles permit; the webhook and SCIM scopes they can't hold.
    let sam_token = server
        .token(
            &acme,
            &sam,
            &[
                "people:read",
                "personal_access_tokens:read",
                "personal_access_tokens:write",
            ],
        )
        .await;
    let mut admin = Browser::new(&server);
    admin.sign_in(&admin_token).await;
    let mut specialist = Browser::new(&server);
    assert_eq!(
        specialist.sign_in(&sam_token).await.status,
        StatusCode::SEE_OTHER
    );

    for path in [
        "/console/webhooks",
        "/console/webhook-policies",
        "/console/deliveries",
        "/console/scim/users",
        "/console/scim/groups",
        "/console/notifications",
        "/console/tokens?owner=all",
    ] {
        let page = specialist.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("Not allowed"), "{path}");
    }
    let own = specialist.get("/console/tokens").await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        !own.body.contains("href=\"/console/webhooks\""),
        "no links to administrators' pages"
    );
    assert!(
        admin
            .get("/console/tokens")
            .await
            .body
            .contains("href=\"/console/webhooks\"")
    );
    let unknown = specialist.get("/console/no-such-page").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.starts_with("<!DOCTYPE html>"),
        "an HTML page, not the API's JSON"
    );
    assert!(
        !own.body.contains("Show every token"),
        "no link to what is not allowed"
    );
    let everyone = admin.get("/console/tokens?owner=all").await;
    assert_eq!(everyone.status, StatusCode::OK);
    assert!(
        everyone.body.contains(&sam.id.0.to_string()),
        "administrators see everyone's tokens"
    );

    // A token without webhook scopes can't use the webhook pages, whatever the roles.
    let narrow = server
        .token_of(&acme, "ada@example.org", &["personal_access_tokens:read"])
        .await;
    let mut narrow_browser = Browser::new(&server);
    narrow_browser.sign_in(&narrow).await;
    let start = narrow_browser.get("/console/tokens").await;
    assert!(
        !start.body.contains("href=\"/console/webhooks\""),
        "no link to a page the token can't open"
    );
    let page = narrow_browser.get("/console/webhooks").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("webhooks:read"), "{}", page.body);

    // Deliveries need their own scope only: without webhooks:read the list still opens, the
    // webhook picker empty and webhooks named by id.
    let deliveries_only = server
        .token_of(&acme, "ada@example.org", &["webhook_deliveries:read"])
        .await;
    let mut deliveries_browser = Browser::new(&server);
    deliveries_browser.sign_in(&deliveries_only).await;
    assert_eq!(
        deliveries_browser.get("/console/deliveries").await.status,
        StatusCode::OK
    );

    // Another account's administrator finds nothing of acme's.
    let created = server
        .post("/v1/webhooks", &admin_token)
        .json(&json!({"event": "person.create", "uri": "http://127.0.0.1:9/hook"}))
        .send()
        .await
        .unwrap();
    let webhook: Value = created.json().await.unwrap();
    let globex = server.account("globex").await;
    let gus = server
        .person(&globex, "gus@example.org", &["account_administrator"])
        .await;
    let gus_token = server.token_with_every_scope(&globex, &gus).await;
    let mut stranger = Browser::new(&server);
    stranger.sign_in(&gus_token).await;
    let foreign = stranger
        .get(&format!(
            "/console/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(
        !stranger
            .get("/console/webhooks")
            .await
            .body
            .contains("127.0.0.1:9")
    );
}

async fn scim_records_are_searchable_read_only_and_link_members(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let scim = |path: &str, body: Value| {
        server
            .post(path, &token)
            .header("content-type", "application/scim+json")
            .json(&body)
    };
    let grace: Value = scim(
        "/scim/v2/Users",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": "grace@example.org", "externalId": "ext-42", "title": "Rear Admiral",
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "emails": [{"value": "grace@example.org", "type": "work", "primary": true}],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Navy", "costCenter": "CC-7"},
            "active": true
        }),
    )
    .json_answer()
    .await;
    let grace_id = grace["id"].as_str().unwrap().to_owned();
    scim("/scim/v2/Users", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alan@example.org"}))
        .send()
        .await
        .unwrap();
    let group: Value = scim(
        "/scim/v2/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineers", "members": [{"value": grace_id}]}),
    )
    .json_answer()
    .await;

    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let users = browser.get("/console/scim/users").await;
    assert!(users.body.contains("provisioning client"), "the banner");
    assert!(users.body.contains("grace@example.org") && users.body.contains("alan@example.org"));
    let found = browser.get("/console/scim/users?search=hopp").await;
    assert!(found.body.contains("grace@example.org") && !found.body.contains("alan@example.org"));
    let none = browser.get("/console/scim/users?search=zzz").await;
    assert!(none.body.contains("No SCIM user matches"));

    let detail = browser
        .get(&format!("/console/scim/users/{grace_id}"))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    for expected in [
        "ext-42",
        "Rear Admiral",
        "Hopper",
        "+1 555 0100 (work)",
        "Navy",
        "CC-7",
        "provisioning client",
    ] {
        assert!(
            detail.body.contains(expected),
            "{expected} on the user page"
        );
    }
    assert!(
        !detail
            .body
            .contains("<form method=\"post\" action=\"/console/scim"),
        "read-only: no forms"
    );

    let groups = browser.get("/console/scim/groups").await;
    assert!(groups.body.contains("Engineers"));
    let group_page = browser
        .get(&format!(
            "/console/scim/groups/{}",
            group["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        group_page
            .body
            .contains(&format!("href=\"/console/scim/users/{grace_id}\"")),
        "members link to their users"
    );
    assert_eq!(
        browser.get("/console/scim/users/not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser
            .get(&format!("/console/scim/users/{}", uuid::Uuid::nil()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn webhook_policy_delivery_and_redelivery_through_the_console(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;

    let created = browser
        .submit(
            "/console/webhooks/new",
            "/console/webhooks",
            &[
                ("name", "people hook"),
                ("event", "scim_user.create"),
                ("uri", receiver.url.as_str()),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.text_of("new-secret").unwrap().starts_with("whsec_"));
    receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let list = browser.get("/console/webhooks").await;
    let table = list
        .body
        .split("id=\"webhooks\"")
        .nth(1)
        .expect("the webhook table");
    let webhook_path = format!(
        "/console/webhooks/{}",
        table
            .split("href=\"/console/webhooks/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    );
    let mut active = false;
    for _ in 0..100 {
        if browser.get(&webhook_path).await.body.contains(">Active<") {
            active = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        active,
        "the receiver called the callback: the webhook is active"
    );
    let webhook_id = webhook_path.rsplit('/').next().unwrap().to_owned();

    let invalid = browser
        .submit(
            "/console/webhook-policies/new",
            "/console/webhook-policies",
            &[("name", "bad"), ("jwt_alg", "none")],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let policy = browser
        .submit(
            "/console/webhook-policies/new",
            "/console/webhook-policies",
            &[
                ("name", "ci"),
                ("jwt_alg", "es256"),
                ("jwt_claim_expires_in", "5"),
                ("jwt_audience", "ci-receiver"),
                ("jwt_format", "jwt"),
                ("webhook_ids", webhook_id.as_str()),
            ],
        )
        .await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.body);
    let pem = policy
        .text_of("public-key-pem")
        .expect("the public key on the page");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(policy.body.contains("download=\"ci-"));
    assert!(policy.body.contains("shown only once"));
    let policies = browser.get("/console/webhook-policies").await;
    let table = policies
        .body
        .split("id=\"webhook-policies\"")
        .nth(1)
        .expect("the policy table");
    let policy_path = table
        .split("href=\"/console/webhook-policies/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(policy_path, "new");
    let policy_page = browser
        .get(&format!("/console/webhook-policies/{policy_path}"))
        .await;
    assert!(
        !policy_page.body.contains("BEGIN PUBLIC KEY"),
        "the key is shown once only"
    );
    assert!(
        policy_page.body.contains("people hook"),
        "the linked webhook"
    );

    let user = server
        .post("/scim/v2/Users", &token)
        .header("content-type", "application/scim+json")
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "grace@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::CREATED);
    receiver.wait_for_messages(1).await;

    let mut delivery_path = None;
    for _ in 0..100 {
        let page = browser.get(&format!("/console/deliveries?webhook_id={webhook_id}&status=succeeded&event=scim_user.create")).await;
        if let Some(rest) = page.body.split("href=\"/console/deliveries/").nth(1) {
            delivery_path = Some(format!(
                "/console/deliveries/{}",
                rest.split('"').next().unwrap()
            ));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let delivery_path = delivery_path.expect("the delivery is listed as succeeded");
    let failed = browser
        .get(&format!(
            "/console/deliveries?webhook_id={webhook_id}&status=failed"
        ))
        .await;
    assert!(failed.body.contains("No deliveries match"));
    let bad_filter = browser
        .get("/console/deliveries?created_after=yesterday")
        .await;
    assert!(bad_filter.body.contains("Created after must be"));

    let detail = browser.get(&delivery_path).await;
    assert_eq!(detail.status, StatusCode::OK);
    let claims = detail
        .body
        .split("id=\"jwt-claims\">")
        .nth(1)
        .expect("decoded claims")
        .split("</pre>")
        .next()
        .unwrap()
        .to_owned();
    assert!(
        claims.contains("&quot;aud&quot;: &quot;ci-receiver&quot;"),
        "{claims}"
    );
    assert!(claims.contains("scim_user.create"));
    assert!(detail.body.contains("id=\"attempts\""));
    assert!(detail.body.contains("<td>200</td>"));

    let redelivered = browser
        .submit(&delivery_path, &format!("{delivery_path}/redeliver"), &[])
        .await;
    assert_eq!(redelivered.status, StatusCode::SEE_OTHER);
    assert!(redelivered.location().ends_with("?done=redelivered"));
    assert_ne!(
        redelivered.location().split('?').next().unwrap(),
        delivery_path
    );
    let new_page = browser.get(redelivered.location()).await;
    assert!(new_page.body.contains("Redelivered"));
    assert!(new_page.body.contains("Redelivery of"));
    receiver.wait_for_messages(2).await;
    let again = browser
        .submit(&delivery_path, &format!("{delivery_path}/redeliver"), &[])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "already redelivered");

    let notifications = browser.get("/console/notifications").await;
    assert_eq!(notifications.status, StatusCode::OK);
    assert!(notifications.body.contains("No notifications"));

    let policy_page = format!("/console/webhook-policies/{policy_path}");
    let linked = browser
        .submit(&policy_page, &format!("{policy_page}/delete"), &[])
        .await;
    assert_eq!(linked.status, StatusCode::CONFLICT, "a linked policy stays");
    let deleted = browser
        .submit(&webhook_path, &format!("{webhook_path}/delete"), &[])
        .await;
    assert_eq!(deleted.location(), "/console/webhooks?done=deleted");
    assert_eq!(
        browser.get(&webhook_path).await.status,
        StatusCode::NOT_FOUND
    );
    let gone = browser
        .submit(&policy_page, &format!("{policy_page}/delete"), &[])
        .await;
    assert_eq!(gone.location(), "/console/webhook-policies?done=deleted");
}

async fn a_signed_verification_message_never_shows_its_callback(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    receiver.complete_verifications(false);
    let policy: Value = json_of(
        server
            .post("/v1/webhook_policies", &token)
            .json(&json!({"name": "p", "jwt_alg": "es256"})),
    )
    .await;
    let webhook: Value = json_of(server.post("/v1/webhooks", &token).json(
        &json!({"event": "person.create", "uri": receiver.url, "webhook_policy_id": policy["id"]}),
    ))
    .await;
    let verify = receiver
        .wait_for(1, |request| request.event() == "webhook.verify")
        .await;
    let callback = verify[0].message()["payload"]["callback"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = callback.rsplit('/').next().unwrap().to_owned();
    let mut deliveries = Value::Null;
    for _ in 0..100 {
        deliveries = server
            .get(
                &format!(
                    "/v1/webhooks/{}/deliveries",
                    webhook["id"].as_str().unwrap()
                ),
                &token,
            )
            .json_answer()
            .await;
        if deliveries[0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let id = deliveries[0]["id"].as_str().unwrap().to_owned();
    let detail = server
        .get(&format!("/v1/webhook_deliveries/{id}"), &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!detail.contains(&secret), "REST: {detail}");
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let page = browser.get(&format!("/console/deliveries/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(&secret), "console: {}", page.body);
    assert!(page.body.contains("[redacted]"));
}

async fn delivery_pages_go_back_by_keyset_and_count_what_matches(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    let webhook: Value = json_of(
        server
            .post("/v1/webhooks", &token)
            .json(&json!({"event": "app.thing.done", "uri": receiver.url})),
    )
    .await;
    let path = format!("/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    for _ in 0..200 {
        let now: Value = json_of(server.get(&path, &token)).await;
        if now["verified"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for index in 0..30 {
        if index == 10 {
            server.clock.advance(Duration::seconds(1));
        }
        let published = server
            .post("/v1/events", &token)
            .json(&json!({"event": "app.thing.done", "object_id": format!("thing-{index}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(published.status(), StatusCode::ACCEPTED);
    }
    receiver.wait_for_messages(30).await;
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let ids = |page: &Page| -> Vec<String> {
        page.body
            .split("href=\"/console/deliveries/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned())
            .collect()
    };
    let first = browser
        .get("/console/deliveries?event=app.thing.done")
        .await;
    assert!(first.body.contains("25 shown · 30 match"), "{}", first.body);
    let older_href = first
        .body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .expect("an Older link")
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        first.body.contains("hx-trigger=\"every 5s\""),
        "the newest page refreshes itself"
    );
    let second = browser.get(&older_href).await;
    assert!(
        !second.body.contains("every 5s"),
        "an older page stays still"
    );
    assert!(
        second.body.contains("5 shown · 30 match"),
        "{}",
        second.body
    );
    assert!(second.body.contains("← Newest"));
    assert!(!second.body.contains("rel=\"next\""), "nothing older");
    let mut all = ids(&first);
    all.extend(ids(&second));
    let distinct: std::collections::BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        30,
        "every delivery once, across the two pages"
    );
    let mut newest_first = all.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, newest_first, "newest first: ids sort as created_at");
    // A link made before schema 23 read `{created_at in µs}.{id}`: it opens the same page.
    let cursor = older_href.split("before=").nth(1).expect("a cursor");
    let legacy = browser
        .get(&older_href.replace(cursor, &format!("1765000000000000.{cursor}")))
        .await;
    assert_eq!(ids(&legacy), ids(&second));

    let everything = browser
        .get(&format!(
            "/console/deliveries?webhook_id={}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        everything.body.contains("31 match"),
        "30 events and the verification message"
    );
    let malformed = browser.get("/console/deliveries?before=yesterday").await;
    assert!(malformed.body.contains("That page link is malformed"));
}

async fn a_webhook_signing_secret_rotates_and_failed_deliveries_are_redelivered_from_its_page(
    backend: Backend,
) {
    let (server, token) = admin_server(backend, false).await;
    let webhook = json_of(
        server
            .post("/v1/webhooks", &token)
            .json(&json!({"event": "person.create", "uri": "http://127.0.0.1:9/hook"})),
    )
    .await;
    let old = webhook["signing_secret"].as_str().unwrap().to_owned();
    let path = format!("/console/webhooks/{}", webhook["id"].as_str().unwrap());
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;

    let rotated = browser
        .submit(
            &path,
            &format!("{path}/signing-secret/rotate"),
            &[("overlap_seconds", "0")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new = rotated.text_of("new-secret").expect("the new secret, once");
    assert!(new.starts_with("whsec_") && new != old);
    let live = server
        .get(
            &format!(
                "/v1/webhooks/{}/signing_secret",
                webhook["id"].as_str().unwrap()
            ),
            &token,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(live.contains(&new), "{live}");
    assert!(
        !browser.get(&path).await.body.contains(&new),
        "shown once only"
    );

    let redelivered = browser
        .submit(
            &path,
            &format!("{path}/redeliver-failed"),
            &[("since_hours", "24")],
        )
        .await;
    assert_eq!(redelivered.status, StatusCode::SEE_OTHER);
    assert!(
        redelivered
            .location()
            .ends_with("?done=redelivered&count=0"),
        "{}",
        redelivered.location()
    );
    assert!(
        browser
            .get(redelivered.location())
            .await
            .body
            .contains("0 failed deliveries queued again")
    );
    let refused = browser
        .submit(
            &path,
            &format!("{path}/redeliver-failed"),
            &[("since_hours", "9999")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A verified webhook's page sends a test (also while it is disabled); the deliveries page
/// marks that delivery and filters by it.
/// A part of a webhook's page the database could not give says so (the failure is logged); it is
/// not shown as "no activity", nor does it take the rest of the page with it.
async fn a_webhook_page_says_when_a_part_could_not_be_read(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let webhook = json_of(
        server
            .post("/v1/webhooks", &token)
            .json(&json!({"event": "app.invoice.paid", "uri": "http://127.0.0.1:9/hook"})),
    )
    .await;
    let path = format!("/console/webhooks/{}", webhook["id"].as_str().unwrap());
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let page = browser.get(&path).await;
    assert_eq!(
        page.text_of("webhook-latency").as_deref(),
        Some("0 attempts; latency p50 –, p95 –.")
    );
    assert!(
        page.body.contains(r#"id="recent-deliveries""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("could not be completed"),
        "{}",
        page.body
    );

    server
        .database()
        .execute("ALTER TABLE delivery_stats RENAME TO delivery_stats_away")
        .await;
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let activity = page
        .body
        .split(r#"aria-labelledby="activity-heading""#)
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the activity section");
    assert!(
        activity.contains("The request could not be completed; it was logged."),
        "{activity}"
    );
    assert!(page.text_of("webhook-latency").is_none(), "{}", page.body);
    assert!(
        page.body.contains(r#"id="recent-deliveries""#),
        "the deliveries are still listed: {}",
        page.body
    );
}

async fn a_webhook_page_sends_a_test_marked_as_such(backend: Backend) {
    let (server, token) = admin_server(backend, true).await;
    let receiver = Receiver::start().await;
    let webhook = json_of(
        server
            .post("/v1/webhooks", &token)
            .json(&json!({"event": "app.invoice.paid", "uri": receiver.url, "disabled": true})),
    )
    .await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    let path = format!("/console/webhooks/{id}");
    let mut browser = Browser::new(&server);
    browser.sign_in(&token).await;
    let mut page = browser.get(&path).await;
    for _ in 0..100 {
        if !page.body.contains("Send verification again") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = browser.get(&path).await;
    }
    assert!(page.body.contains("Send test"), "{}", page.body);

    let tested = browser.submit(&path, &format!("{path}/test"), &[]).await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER, "{}", tested.body);
    assert!(
        tested.location().ends_with("?done=test"),
        "{}",
        tested.location()
    );
    assert!(
        browser
            .get(tested.location())
            .await
            .body
            .contains("A test message is on its way")
    );
    let sent = receiver
        .wait_for(1, |request| request.event() == "app.invoice.paid")
        .await;
    assert_eq!(sent[0].json()["object_id"], "12345");

    let tests = browser.get("/console/deliveries?test_mode=true").await;
    assert!(
        tests.body.contains("<code>app.invoice.paid</code>"),
        "{}",
        tests.body
    );
    assert!(
        tests.body.contains(">test<"),
        "the test badge: {}",
        tests.body
    );
    assert!(tests.body.contains("Test sends only"));
    let without = browser.get("/console/deliveries?test_mode=false").await;
    assert!(
        !without.body.contains("<code>app.invoice.paid</code>"),
        "{}",
        without.body
    );
}

/// Saves the form at `path` (also its action) as a member whose token holds only `scopes`,
/// after checking that the page offers no `field` and says why (`kept`, the part's id, naming
/// `needed`); returns the record at `rest_path` as the administrator's `token` reads it.
async fn save_as_a_member_who_cannot_read_the_choices(
    server: &TestServer,
    token: &str,
    (path, rest_path): (&str, &str),
    scopes: &[&str],
    (field, kept, needed): (&str, &str, &str),
    fields: &[(&str, &str)],
) -> Value {
    let (mut member, _) = signed_in_member(
        server,
        "bo@example.org",
        &["directory_administrator"],
        scopes,
    )
    .await;
    let page = member.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains(field), "{}", page.body);
    let part = page
        .body
        .split(&format!(r#"id="{kept}""#))
        .nth(1)
        .expect("the part says why the form leaves it");
    assert!(part.contains(needed), "{part}");
    save_and_read_back(server, token, &mut member, (path, rest_path), fields).await
}

/// Submits `fields` to the form at `path` (also its action) in `browser`, and returns the record
/// at `rest_path` as the administrator's `token` reads it after the save.
async fn save_and_read_back(
    server: &TestServer,
    token: &str,
    browser: &mut Browser,
    (path, rest_path): (&str, &str),
    fields: &[(&str, &str)],
) -> Value {
    let saved = browser.submit(path, path, fields).await;
    assert!(saved.status.is_redirection(), "{}", saved.body);
    server.get(rest_path, token).json_answer().await
}

/// Creates a picker's worth (100) of records through `collection` with the bodies `body` makes
/// of 0 to 99, all named to sort before the test's own.
async fn fill_the_picker(
    server: &TestServer,
    token: &str,
    collection: &str,
    body: impl Fn(u32) -> Value,
) {
    for number in 0..100 {
        let made = server
            .post(collection, token)
            .json(&body(number))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), StatusCode::CREATED);
    }
}

/// With `table` renamed for a moment (`rename` and back), the page at `path` says in its part
/// `kept` that the choices `could_not` be listed, and offers no `field`.
async fn unreadable_choices_are_said_and_not_offered(
    server: &TestServer,
    browser: &mut Browser,
    path: &str,
    (rename, back): (&str, &str),
    (field, kept, could_not): (&str, &str, &str),
) {
    server.database().execute(rename).await;
    let page = browser.get(path).await;
    server.database().execute(back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let part = page
        .body
        .split(&format!(r#"id="{kept}""#))
        .nth(1)
        .expect("the part says why the form leaves it");
    assert!(
        part.starts_with(&format!(r#" role="alert"><p>{could_not}"#)),
        "{part}"
    );
    assert!(!page.body.contains(field), "{}", page.body);
}

/// The webhook form never unlinks a policy it could not offer: not for a session that can't
/// read policies, not when they could not be listed, not beyond the picker's first policies by
/// name. Choosing "None" still unlinks.
async fn a_webhook_form_keeps_a_policy_it_cannot_offer(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let policy: Value = json_of(
        server
            .post("/v1/webhook_policies", &token)
            .json(&json!({"name": "zz signing", "jwt_alg": "es256"})),
    )
    .await;
    let policy_id = policy["id"].as_str().unwrap().to_owned();
    let webhook: Value = json_of(server.post("/v1/webhooks", &token).json(&json!({
        "event": "app.invoice.paid",
        "uri": "http://127.0.0.1:9/hook",
        "webhook_policy_id": policy_id,
    })))
    .await;
    let path = format!("/console/webhooks/{}", webhook["id"].as_str().unwrap());
    let rest_path = format!("/v1/webhooks/{}", webhook["id"].as_str().unwrap());
    let mut fields = vec![
        ("name", "renamed"),
        ("event", "app.invoice.paid"),
        ("uri", "http://127.0.0.1:9/hook"),
    ];
    let field = r#"name="webhook_policy_id""#;

    let shown = save_as_a_member_who_cannot_read_the_choices(
        &server,
        &token,
        (&path, &rest_path),
        &["webhooks:read", "webhooks:write"],
        (field, "webhook-policy-kept", "webhook_policies:read"),
        &fields,
    )
    .await;
    assert_eq!(shown["name"], "renamed");
    assert_eq!(
        shown["webhook_policy_id"],
        policy_id.as_str(),
        "the policy stays"
    );

    // The linked policy beyond the first 100 by name is offered as it is.
    fill_the_picker(
        &server,
        &token,
        "/v1/webhook_policies",
        |number| json!({"name": format!("a {number:03}"), "jwt_alg": "hs256"}),
    )
    .await;
    let mut admin = Browser::new(&server);
    admin.sign_in(&token).await;
    let page = admin.get(&path).await;
    assert!(
        !page.body.contains(">zz signing ("),
        "past the picker's limit"
    );
    assert!(
        page.body.contains(&format!(
            r#"<option value="{policy_id}" selected>The current policy"#
        )),
        "{}",
        page.body
    );

    unreadable_choices_are_said_and_not_offered(
        &server,
        &mut admin,
        &path,
        (
            "ALTER TABLE webhook_policy_keys RENAME TO webhook_policy_keys_away",
            "ALTER TABLE webhook_policy_keys_away RENAME TO webhook_policy_keys",
        ),
        (
            field,
            "webhook-policy-kept",
            "The webhook policies could not be listed",
        ),
    )
    .await;

    // "None", chosen, unlinks.
    fields.push(("webhook_policy_id", ""));
    let shown = save_and_read_back(&server, &token, &mut admin, (&path, &rest_path), &fields).await;
    assert_eq!(shown["webhook_policy_id"], Value::Null);
}

/// The policy form never unlinks webhooks it could not offer: not for a session that can't
/// read webhooks, not when they could not be listed, not beyond the picker's first webhooks by
/// name. Unchecking every offered webhook still unlinks them.
async fn a_policy_form_keeps_links_it_cannot_offer(backend: Backend) {
    let (server, token) = admin_server(backend, false).await;
    let webhook: Value = json_of(server.post("/v1/webhooks", &token).json(&json!({
        "name": "zz last",
        "event": "app.invoice.paid",
        "uri": "http://127.0.0.1:9/hook",
    })))
    .await;
    let webhook_id = webhook["id"].as_str().unwrap().to_owned();
    let policy: Value = json_of(server.post("/v1/webhook_policies", &token).json(&json!({
        "name": "signing",
        "jwt_alg": "es256",
        "webhook_ids": [webhook_id],
    })))
    .await;
    let path = format!(
        "/console/webhook-policies/{}",
        policy["id"].as_str().unwrap()
    );
    let rest_path = format!("/v1/webhook_policies/{}", policy["id"].as_str().unwrap());
    let mut fields = vec![
        ("name", "renamed"),
        ("jwt_alg", "es256"),
        ("jwt_format", "xurrent"),
    ];

    let shown = save_as_a_member_who_cannot_read_the_choices(
        &server,
        &token,
        (&path, &rest_path),
        &["webhook_policies:read", "webhook_policies:write"],
        ("webhook_ids", "policy-links-kept", "webhooks:read"),
        &fields,
    )
    .await;
    assert_eq!(shown["name"], "renamed");
    assert_eq!(shown["webhook_ids"], json!([webhook_id]), "the link stays");

    // A linked webhook beyond the first 100 by name is offered, checked.
    fill_the_picker(&server, &token, "/v1/webhooks", |number| {
        json!({
            "name": format!("a {number:03}"),
            "event": "app.invoice.paid",
            "uri": "http://127.0.0.1:9/hook",
        })
    })
    .await;
    let mut admin = Browser::new(&server);
    admin.sign_in(&token).await;
    let page = admin.get(&path).await;
    assert!(!page.body.contains(">zz last<"), "past the picker's limit");
    assert!(
        page.body.contains(&format!(
            r#"name="webhook_ids" value="{webhook_id}" checked>Webhook {webhook_id}"#
        )),
        "{}",
        page.body
    );

    unreadable_choices_are_said_and_not_offered(
        &server,
        &mut admin,
        &path,
        (
            "ALTER TABLE webhooks RENAME COLUMN description TO description_away",
            "ALTER TABLE webhooks RENAME COLUMN description_away TO description",
        ),
        (
            "webhook_ids",
            "policy-links-kept",
            "The webhooks could not be listed",
        ),
    )
    .await;

    // Offered and none checked: every link goes.
    fields.push(("webhook_ids_offered", "true"));
    let shown = save_and_read_back(&server, &token, &mut admin, (&path, &rest_path), &fields).await;
    assert_eq!(shown["webhook_ids"], json!([]));
}

both_backends!(
    a_webhook_form_keeps_a_policy_it_cannot_offer,
    a_policy_form_keeps_links_it_cannot_offer,
    the_overview_charts_what_the_api_reports,
    people_are_searched_and_managed_within_the_actors_rank,
    account_settings_are_read_and_changed_on_the_account_page,
    a_custom_event_is_published_from_the_events_page,
    a_token_is_renamed_narrowed_and_revoked_on_its_page,
    the_scim_credential_is_managed_from_its_page,
    a_webhook_page_sends_a_test_marked_as_such,
    a_webhook_page_says_when_a_part_could_not_be_read,
    sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session,
    sessions_end_when_idle_too_long_at_twelve_hours_or_when_the_token_is_revoked,
    forms_without_the_csrf_token_or_from_another_origin_change_nothing,
    a_token_made_in_the_console_is_shown_once_works_and_can_be_revoked,
    a_session_creates_only_tokens_within_the_token_it_acts_as,
    role_rules_are_those_of_the_api,
    scim_records_are_searchable_read_only_and_link_members,
    webhook_policy_delivery_and_redelivery_through_the_console,
    a_signed_verification_message_never_shows_its_callback,
    delivery_pages_go_back_by_keyset_and_count_what_matches,
    a_webhook_signing_secret_rotates_and_failed_deliveries_are_redelivered_from_its_page,
);
