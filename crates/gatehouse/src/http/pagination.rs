//! Xurrent-style list parameters: `page`/`per_page` with `Link` and `X-Pagination-*` headers,
//! `sort=name,-created_at` and `fields=id,name`. Parameters arrive as strings and are checked
//! here so every list gives the same clear 400 naming the parameter and what it accepts,
//! instead of serde's generic deserialization message.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult};

pub const DEFAULT_PER_PAGE: u32 = 25;
pub const MAX_PER_PAGE: u32 = 100;

const PAGE_PARAMETER: &str = "page";
const PER_PAGE_PARAMETER: &str = "per_page";

/// `?page=&per_page=` as sent; strings so a bad value gets our message, not serde's.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// A validated page request: `page` from 1, `per_page` from 1 to `MAX_PER_PAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Page {
    /// Validates the raw `page` and `per_page` parameters; absent ones take their defaults
    /// (page 1, 25 per page). Takes the two fields rather than a `PageQuery` so handlers can
    /// keep them in their own flat, documented parameter structs.
    pub fn from_query(page: &Option<String>, per_page: &Option<String>) -> ApiResult<Self> {
        let page = match page.as_deref() {
            None => 1,
            Some(raw) => parse_in_range(raw, 1, u32::MAX).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{PAGE_PARAMETER} must be a whole number of at least 1"
                ))
            })?,
        };
        let per_page = match per_page.as_deref() {
            None => DEFAULT_PER_PAGE,
            Some(raw) => parse_in_range(raw, 1, MAX_PER_PAGE).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{PER_PAGE_PARAMETER} must be a whole number from 1 to {MAX_PER_PAGE}"
                ))
            })?,
        };
        Ok(Self { page, per_page })
    }

    /// How many records come before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// How many records this page holds at most.
    pub fn limit(&self) -> u32 {
        self.per_page
    }
}

impl TryFrom<&PageQuery> for Page {
    type Error = ApiError;

    fn try_from(query: &PageQuery) -> ApiResult<Self> {
        Self::from_query(&query.page, &query.per_page)
    }
}

/// Digits only (no sign, no spaces), within `minimum..=maximum`.
fn parse_in_range(raw: &str, minimum: u32, maximum: u32) -> Option<u32> {
    if raw.is_empty() || !raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u32>()
        .ok()
        .filter(|value| (minimum..=maximum).contains(value))
}

/// One page of records and how many there are in all, for the pagination headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// `Link` (rel first, prev, next, last) and `X-Pagination-*` headers for `page` of a list of
/// `total_entries`. Links are absolute (`base_url` + the request's path) and keep every other
/// query parameter of the request, in order, changing only `page` and `per_page`.
///
/// There is always at least one page, even an empty one, so `last` and
/// `X-Pagination-Total-Pages` are never 0. A page past the end still links `prev`, but to the
/// last page, where the records are.
pub fn pagination_headers(base_url: &str, uri: &Uri, page: Page, total_entries: u64) -> HeaderMap {
    let last_page = total_entries.div_ceil(u64::from(page.per_page)).max(1);
    let current_page = u64::from(page.page);
    let template = LinkTemplate::new(base_url, uri);

    let mut links = vec![(1, "first")];
    if current_page > 1 {
        links.push(((current_page - 1).min(last_page), "prev"));
    }
    if current_page < last_page {
        links.push((current_page + 1, "next"));
    }
    links.push((last_page, "last"));
    let link = links
        .iter()
        .map(|(number, rel)| format!("<{}>; rel=\"{rel}\"", template.url(*number, page.per_page)))
        .collect::<Vec<_>>()
        .join(", ");

    let mut headers = HeaderMap::new();
    match HeaderValue::from_str(&link) {
        Ok(value) => {
            headers.insert(header::LINK, value);
        }
        // Only a base URL with characters a header cannot carry gets here: a configuration
        // mistake, worth a log line but not a failed list.
        Err(error) => tracing::warn!(%error, base_url, "cannot build the Link header"),
    }
    let numbers = [
        ("x-pagination-per-page", u64::from(page.per_page)),
        ("x-pagination-current-page", current_page),
        ("x-pagination-total-pages", last_page),
        ("x-pagination-total-entries", total_entries),
    ];
    for (name, number) in numbers {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(number));
    }
    headers
}

/// One query parameter of the request, decoded, in the order it came.
enum QueryPart {
    Page,
    PerPage,
    Other { name: String, value: Option<String> },
}

/// The request's URL with `page` and `per_page` left blank, to fill in per link.
struct LinkTemplate {
    prefix: String,
    parts: Vec<QueryPart>,
}

impl LinkTemplate {
    fn new(base_url: &str, uri: &Uri) -> Self {
        let prefix = format!(
            "{}{}",
            base_url.trim_end_matches('/'),
            encode_path(uri.path())
        );
        let mut parts = Vec::new();
        let (mut seen_page, mut seen_per_page) = (false, false);
        for pair in uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (raw_name, raw_value) = match pair.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (pair, None),
            };
            let name = decode_component(raw_name);
            // The first `page`/`per_page` keeps its place; repeats are dropped, since we set them.
            if name == PAGE_PARAMETER {
                if !seen_page {
                    parts.push(QueryPart::Page);
                }
                seen_page = true;
            } else if name == PER_PAGE_PARAMETER {
                if !seen_per_page {
                    parts.push(QueryPart::PerPage);
                }
                seen_per_page = true;
            } else {
                parts.push(QueryPart::Other {
                    name,
                    value: raw_value.map(decode_component),
                });
            }
        }
        if !seen_page {
            parts.push(QueryPart::Page);
        }
        if !seen_per_page {
            parts.push(QueryPart::PerPage);
        }
        Self { prefix, parts }
    }

    fn url(&self, page: u64, per_page: u32) -> String {
        let query = self
            .parts
            .iter()
            .map(|part| match part {
                QueryPart::Page => format!("{PAGE_PARAMETER}={page}"),
                QueryPart::PerPage => format!("{PER_PAGE_PARAMETER}={per_page}"),
                QueryPart::Other { name, value: None } => encode_component(name),
                QueryPart::Other {
                    name,
                    value: Some(value),
                } => {
                    format!("{}={}", encode_component(name), encode_component(value))
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{query}", self.prefix)
    }
}

/// Decodes a query-string name or value the way browsers encode forms: `+` is a space and
/// `%XX` a byte; a `%` not followed by two hex digits is kept as is.
fn decode_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let digit = |offset: usize| bytes.get(index + offset).copied().and_then(hex_value);
                match (digit(1), digit(2)) {
                    (Some(high), Some(low)) => {
                        decoded.push(high * 16 + low);
                        index += 2;
                    }
                    _ => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

/// Percent-encodes a query name or value: everything but RFC 3986 unreserved characters and
/// the harmless `,:@/` (kept so `fields=id,name` stays readable). `&`, `=`, `+`, `#`, `<`,
/// `>`, spaces and non-ASCII are encoded, so the URL is unambiguous and safe inside `<...>`.
fn encode_component(text: &str) -> String {
    percent_encode(text, |byte| {
        byte.is_ascii_alphanumeric() || b"-._~,:@/".contains(&byte)
    })
}

/// Re-encodes what a path should not carry raw (spaces, quotes, `<`, `>`, non-ASCII), keeping
/// existing `%XX` escapes and every character RFC 3986 allows in a path.
fn encode_path(path: &str) -> String {
    percent_encode(path, |byte| {
        byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&byte)
    })
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if keep(byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

/// Parses `?sort=name,-created_at` (a leading `-` means descending) against the fields a list
/// allows. Absent or blank means `default`, which is written the same way.
pub fn parse_sort(
    raw: Option<&str>,
    allowed: &[&str],
    default: &str,
) -> ApiResult<Vec<(String, SortDirection)>> {
    let raw = match raw {
        Some(raw) if !raw.trim().is_empty() => raw,
        _ => default,
    };
    let mut sort: Vec<(String, SortDirection)> = Vec::new();
    for segment in raw.split(',') {
        // A `+name` in a URL arrives as " name": treat it as ascending, like Xurrent.
        let segment = segment.trim();
        let (name, direction) = match segment.strip_prefix('-') {
            Some(name) => (name, SortDirection::Descending),
            None => (segment, SortDirection::Ascending),
        };
        if !allowed.contains(&name) {
            let shown = if name.is_empty() {
                "an empty field".to_owned()
            } else {
                format!("`{name}`")
            };
            return Err(ApiError::bad_request(format!(
                "sort cannot use {shown}: sort by {} (prefix - for descending)",
                allowed.join(", ")
            )));
        }
        if sort.iter().any(|(seen, _)| seen == name) {
            return Err(ApiError::bad_request(format!(
                "sort names `{name}` more than once"
            )));
        }
        sort.push((name.to_owned(), direction));
    }
    Ok(sort)
}

/// Applies `?fields=id,name`: keeps only the named top-level keys of an object, or of each
/// object in an array; `id` is always kept. Absent or blank `fields` returns `value` unchanged.
///
/// Names are checked against the keys actually present (on any object of an array), so a
/// field serialized only when set can be named only when some record has it; an empty array
/// accepts any names, since there is nothing to check against.
pub fn select_fields(value: Value, fields: Option<&str>) -> ApiResult<Value> {
    let Some(fields) = fields else {
        return Ok(value);
    };
    let mut wanted: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(value);
    }
    if !wanted.contains(&"id") {
        wanted.push("id");
    }

    let objects: Vec<&serde_json::Map<String, Value>> = match &value {
        Value::Object(object) => vec![object],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    if !objects.is_empty() {
        let mut known: Vec<&str> = objects
            .iter()
            .flat_map(|object| object.keys().map(String::as_str))
            .collect();
        known.sort_unstable();
        known.dedup();
        let unknown: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|name| *name != "id" && !known.contains(name))
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::bad_request(format!(
                "fields has unknown {}: {}. Known fields: {}",
                if unknown.len() == 1 {
                    "field"
                } else {
                    "fields"
                },
                unknown.join(", "),
                known.join(", ")
            )));
        }
    }

    let keep = |object: &mut serde_json::Map<String, Value>| {
        object.retain(|key, _| wanted.contains(&key.as_str()))
    };
    Ok(match value {
        Value::Object(mut object) => {
            keep(&mut object);
            Value::Object(object)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(mut object) => {
                        keep(&mut object);
                        Value::Object(object)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use super::*;

    const BASE: &str = "https://gatehouse.example";

    fn page(page: u32, per_page: u32) -> Page {
        Page { page, per_page }
    }

    fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get(name)
            .map(|value| value.to_str().expect("ascii"))
    }

    fn links(uri: &str, current: Page, total: u64) -> Vec<(String, String)> {
        let uri: Uri = uri.parse().expect("uri");
        let headers = pagination_headers(BASE, &uri, current, total);
        text(&headers, "link")
            .expect("Link header")
            .split(", ")
            .map(|link| {
                let (url, rel) = link.split_once(">; rel=\"").expect("link shape");
                (
                    rel.trim_end_matches('"').to_owned(),
                    url.trim_start_matches('<').to_owned(),
                )
            })
            .collect()
    }

    fn from(page_raw: Option<&str>, per_page_raw: Option<&str>) -> ApiResult<Page> {
        Page::from_query(
            &page_raw.map(str::to_owned),
            &per_page_raw.map(str::to_owned),
        )
    }

    #[test]
    fn absent_parameters_default_to_page_one_of_twenty_five() {
        assert_eq!(from(None, None).expect("valid"), page(1, 25));
        let query = PageQuery {
            page: Some("3".to_owned()),
            per_page: Some("100".to_owned()),
        };
        assert_eq!(Page::try_from(&query).expect("valid"), page(3, 100));
    }

    #[test]
    fn bad_page_values_are_400_naming_the_parameter_and_range() {
        for bad in ["0", "-1", "abc", "", "1.5", " 2", "+2", "99999999999"] {
            let error = from(Some(bad), None).expect_err(bad);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(
                error.message(),
                "page must be a whole number of at least 1",
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_per_page_values_are_400_naming_the_parameter_and_range() {
        for bad in ["0", "-1", "abc", "101", ""] {
            let error = from(None, Some(bad)).expect_err(bad);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(
                error.message(),
                "per_page must be a whole number from 1 to 100",
                "{bad}"
            );
        }
        assert_eq!(from(None, Some("100")).expect("valid").per_page, 100);
        assert_eq!(from(None, Some("1")).expect("valid").per_page, 1);
    }

    #[test]
    fn offset_and_limit_follow_page_and_per_page() {
        assert_eq!(page(1, 25).offset(), 0);
        assert_eq!(page(3, 10).offset(), 20);
        assert_eq!(page(3, 10).limit(), 10);
        assert_eq!(page(u32::MAX, 100).offset(), u64::from(u32::MAX - 1) * 100);
    }

    #[test]
    fn first_page_links_first_next_and_last_but_no_prev() {
        let found = links("/v1/people?per_page=2", page(1, 2), 5);
        assert_eq!(
            found,
            [
                (
                    "first".to_owned(),
                    format!("{BASE}/v1/people?per_page=2&page=1")
                ),
                (
                    "next".to_owned(),
                    format!("{BASE}/v1/people?per_page=2&page=2")
                ),
                (
                    "last".to_owned(),
                    format!("{BASE}/v1/people?per_page=2&page=3")
                ),
            ]
        );
    }

    #[test]
    fn middle_page_links_all_four_and_sets_the_counts() {
        let uri: Uri = "/v1/people?per_page=2&page=2&sort=-name"
            .parse()
            .expect("uri");
        let headers = pagination_headers(BASE, &uri, page(2, 2), 5);
        assert_eq!(
            text(&headers, "link"),
            Some(
                "<https://gatehouse.example/v1/people?per_page=2&page=1&sort=-name>; rel=\"first\", \
                 <https://gatehouse.example/v1/people?per_page=2&page=1&sort=-name>; rel=\"prev\", \
                 <https://gatehouse.example/v1/people?per_page=2&page=3&sort=-name>; rel=\"next\", \
                 <https://gatehouse.example/v1/people?per_page=2&page=3&sort=-name>; rel=\"last\""
            )
        );
        assert_eq!(text(&headers, "x-pagination-per-page"), Some("2"));
        assert_eq!(text(&headers, "x-pagination-current-page"), Some("2"));
        assert_eq!(text(&headers, "x-pagination-total-pages"), Some("3"));
        assert_eq!(text(&headers, "x-pagination-total-entries"), Some("5"));
    }

    #[test]
    fn last_page_has_no_next() {
        let rels: Vec<String> = links("/v1/people?page=3&per_page=2", page(3, 2), 6)
            .into_iter()
            .map(|(rel, _)| rel)
            .collect();
        assert_eq!(rels, ["first", "prev", "last"]);
    }

    #[test]
    fn empty_list_has_one_page() {
        let uri: Uri = "/v1/people".parse().expect("uri");
        let headers = pagination_headers(BASE, &uri, page(1, 25), 0);
        assert_eq!(text(&headers, "x-pagination-total-pages"), Some("1"));
        assert_eq!(text(&headers, "x-pagination-total-entries"), Some("0"));
        assert_eq!(
            links("/v1/people", page(1, 25), 0),
            [
                (
                    "first".to_owned(),
                    format!("{BASE}/v1/people?page=1&per_page=25")
                ),
                (
                    "last".to_owned(),
                    format!("{BASE}/v1/people?page=1&per_page=25")
                ),
            ]
        );
    }

    #[test]
    fn page_past_the_end_points_prev_at_the_last_page() {
        let found = links("/v1/people?page=9&per_page=2", page(9, 2), 5);
        assert_eq!(
            found,
            [
                (
                    "first".to_owned(),
                    format!("{BASE}/v1/people?page=1&per_page=2")
                ),
                (
                    "prev".to_owned(),
                    format!("{BASE}/v1/people?page=3&per_page=2")
                ),
                (
                    "last".to_owned(),
                    format!("{BASE}/v1/people?page=3&per_page=2")
                ),
            ]
        );
        let uri: Uri = "/v1/people?page=9&per_page=2".parse().expect("uri");
        assert_eq!(
            text(
                &pagination_headers(BASE, &uri, page(9, 2), 5),
                "x-pagination-current-page"
            ),
            Some("9")
        );
    }

    #[test]
    fn other_parameters_keep_their_order_and_repeats_of_page_are_dropped() {
        let found = links(
            "/v1/tokens?person_id=all&page=2&fields=id,name&page=7&sort=name",
            page(2, 10),
            30,
        );
        assert_eq!(
            found[0].1,
            format!("{BASE}/v1/tokens?person_id=all&page=1&fields=id,name&sort=name&per_page=10")
        );
    }

    #[test]
    fn preserved_parameters_are_percent_encoded() {
        let found = links(
            "/v1/people?q=a+b%26c%3Dd&name=Jos%C3%A9%3E&flag&empty=",
            page(1, 25),
            1,
        );
        assert_eq!(
            found[0].1,
            format!(
                "{BASE}/v1/people?q=a%20b%26c%3Dd&name=Jos%C3%A9%3E&flag&empty=&page=1&per_page=25"
            )
        );
    }

    #[test]
    fn base_url_trailing_slash_is_not_doubled() {
        let uri: Uri = "/v1/people".parse().expect("uri");
        let headers = pagination_headers("https://gatehouse.example/", &uri, page(1, 25), 0);
        assert!(
            text(&headers, "link")
                .expect("link")
                .starts_with("<https://gatehouse.example/v1/people?")
        );
    }

    #[test]
    fn decoding_keeps_malformed_escapes() {
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
        assert_eq!(decode_component("%41%62"), "Ab");
    }

    #[test]
    fn sort_parses_fields_and_directions() {
        let allowed = ["name", "created_at", "updated_at"];
        assert_eq!(
            parse_sort(Some("name,-created_at"), &allowed, "created_at").expect("valid"),
            [
                ("name".to_owned(), SortDirection::Ascending),
                ("created_at".to_owned(), SortDirection::Descending)
            ]
        );
        assert_eq!(
            parse_sort(Some(" name"), &allowed, "created_at").expect("valid")[0].1,
            SortDirection::Ascending
        );
    }

    #[test]
    fn sort_falls_back_to_the_default() {
        let allowed = ["name", "created_at"];
        for raw in [None, Some(""), Some("  ")] {
            assert_eq!(
                parse_sort(raw, &allowed, "-created_at").expect("valid"),
                [("created_at".to_owned(), SortDirection::Descending)]
            );
        }
    }

    #[test]
    fn sort_rejects_unknown_empty_and_repeated_fields() {
        let allowed = ["name", "created_at"];
        let error = parse_sort(Some("password"), &allowed, "name").expect_err("unknown");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error.message().contains("`password`") && error.message().contains("name, created_at"),
            "{}",
            error.message()
        );
        assert!(parse_sort(Some("name,"), &allowed, "name").is_err());
        assert!(parse_sort(Some("-"), &allowed, "name").is_err());
        assert!(parse_sort(Some("name,-name"), &allowed, "name").is_err());
    }

    #[test]
    fn fields_keep_named_keys_and_always_id() {
        let record = json!({ "id": 1, "name": "Ada", "email": "ada@example.org" });
        assert_eq!(
            select_fields(record.clone(), Some("name")).expect("valid"),
            json!({ "id": 1, "name": "Ada" })
        );
        assert_eq!(select_fields(record.clone(), None).expect("valid"), record);
        assert_eq!(
            select_fields(record.clone(), Some("")).expect("valid"),
            record
        );
        assert_eq!(
            select_fields(record, Some("id, email,")).expect("valid"),
            json!({ "id": 1, "email": "ada@example.org" })
        );
    }

    #[test]
    fn fields_apply_to_each_object_of_an_array() {
        let list = json!([{ "id": 1, "name": "Ada", "job": "x" }, { "id": 2, "name": "Bob" }]);
        assert_eq!(
            select_fields(list, Some("job")).expect("valid"),
            json!([{ "id": 1, "job": "x" }, { "id": 2 }])
        );
    }

    #[test]
    fn unknown_fields_are_400_listing_them() {
        let record = json!({ "id": 1, "name": "Ada" });
        let error = select_fields(record, Some("name,nonsense,secret")).expect_err("unknown");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            error.message(),
            "fields has unknown fields: nonsense, secret. Known fields: id, name"
        );
        assert!(select_fields(json!([{ "id": 1 }]), Some("nonsense")).is_err());
    }

    #[test]
    fn empty_arrays_accept_any_fields() {
        assert_eq!(
            select_fields(json!([]), Some("nonsense")).expect("valid"),
            json!([])
        );
    }
}
