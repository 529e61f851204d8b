//! The API reference page (`GET /v1/docs`): public like the document it shows, under the
//! console's content security policy (plus the two relaxations Redoc needs, and no others), and
//! built only from assets this server serves. That Redoc really renders the document under that
//! policy is checked in headless Chromium by scripts/console-browser-test.

use std::collections::BTreeMap;

use crate::common::{Backend, RequestExt, TestServer, header};
use reqwest::StatusCode;

/// Every value of `attribute="…"` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let marker = format!(" {attribute}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            &rest[..rest.find('"').expect("closing quote")]
        })
        .collect()
}

/// A content security policy as directive → its sources.
fn directives(policy: &str) -> BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_reference_page_is_public_and_loads_only_its_own_assets_under_the_consoles_policy() {
    let server = TestServer::start(Backend::Sqlite).await;
    let page = server
        .client
        .get(server.url("/v1/docs"))
        .expect_status(StatusCode::OK)
        .await;
    assert!(
        header(&page, "content-type").starts_with("text/html"),
        "{}",
        header(&page, "content-type")
    );
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    let policy = header(&page, "content-security-policy");

    // The console's policy, but for what Redoc cannot do without: run-time styles and the
    // search index's worker from a blob: URL.
    let sign_in = server
        .client
        .get(server.url("/console/sign-in"))
        .expect_status(StatusCode::OK)
        .await;
    let mut expected = directives(&header(&sign_in, "content-security-policy"));
    assert_eq!(expected["script-src"], ["'self'"], "the console's policy");
    expected
        .get_mut("style-src")
        .expect("style-src")
        .push("'unsafe-inline'".to_owned());
    expected.insert("worker-src".to_owned(), vec!["blob:".to_owned()]);
    assert_eq!(directives(&policy), expected, "{policy}");

    let html = page.text().await.expect("text");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page names another host: {html}"
    );
    assert!(!html.contains("<style"), "{html}");
    let scripts = attribute_values(&html, "src");
    assert_eq!(
        scripts.len(),
        2,
        "the bundle and the script that starts it: {html}"
    );
    assert!(
        html.matches("<script").count() == scripts.len(),
        "no inline script: {html}"
    );
    for reference in scripts
        .iter()
        .chain(&attribute_values(&html, "href"))
        .chain(&attribute_values(&html, "data-spec-url"))
    {
        assert!(
            (reference.starts_with('/') && !reference.starts_with("//"))
                || reference.starts_with("data:"),
            "{reference} is not a path of this server"
        );
    }
    for script in &scripts {
        let answer = server
            .client
            .get(server.url(script))
            .expect_status(StatusCode::OK)
            .await;
        assert_eq!(
            header(&answer, "content-type"),
            "text/javascript; charset=utf-8",
            "{script}"
        );
        assert_eq!(header(&answer, "cache-control"), "public, max-age=86400");
        assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
        let text = answer.text().await.expect("text");
        assert!(
            !text.contains("cdn.redoc.ly"),
            "{script} loads from Redocly's CDN"
        );
    }
    let bundle = scripts
        .iter()
        .find(|script| script.contains("/redoc-"))
        .expect("the Redoc bundle");
    let size = server
        .client
        .get(server.url(bundle))
        .send()
        .await
        .expect("request")
        .bytes()
        .await
        .expect("body")
        .len();
    assert!(size > 500_000, "{bundle}: {size} bytes");

    // What the page renders, without a token too.
    let [document] = attribute_values(&html, "data-spec-url")[..] else {
        panic!("one data-spec-url: {html}");
    };
    assert_eq!(document, "/v1/openapi.json");
    let openapi = server.client.get(server.url(document)).json_answer().await;
    assert_eq!(openapi["info"]["title"], "Gatehouse REST API");
}
