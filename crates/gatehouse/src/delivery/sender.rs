//! One webhook attempt over HTTP: the shared `reqwest` client, the checks on a target URI, and
//! the outcome of sending to it. It exists so that the delivery worker and the webhook API see
//! one definition of "a URI we may deliver to" and "what happened when we tried".
//!
//! The SSRF rules of [`super::ssrf`] are applied to the address actually connected to, not to a
//! name checked earlier: the client resolves names through its own resolver, which drops
//! forbidden addresses before the connector sees them, so a DNS answer that changes between the
//! check and the connection (rebinding) cannot slip through. IP-literal hosts never reach a
//! resolver, so [`Sender::send`] checks them itself. Creation-time checks ([`Sender::check_uri`])
//! are stricter — every resolved address must be allowed — to give the user an early answer;
//! the send-time guard is the one that protects. Either way a refusal names the address and
//! why only when the user wrote that address; for a host name it says no more than "not
//! reachable", so the guard cannot be used to probe internal DNS, and the server log has the
//! rest ([`RefusedTarget`]).
//!
//! An attempt never fails as a Rust error: every way it can go wrong (refused, timed out, reset,
//! cut short, a 3xx, a 5xx) is an [`AttemptOutcome`] the worker records and schedules from.
//! Nothing in an outcome's `error` text comes from the request's headers or body, nor from the
//! URI, so secrets in signatures or query strings are not copied into attempt records.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Url};

use super::retry::parse_retry_after;
use super::ssrf::{Forbidden, Network, Transition, check_address};

/// How much of a receiver's response body is kept; the rest is not read.
pub const MAX_RESPONSE_BODY_BYTES: usize = 64 * 1024;
/// How long one attempt may take, from connecting to the end of the response body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest target URI accepted, in bytes.
pub const MAX_URI_LENGTH: usize = 2048;

const DEFAULT_USER_AGENT: &str = concat!("Gatehouse-Webhooks/", env!("CARGO_PKG_VERSION"));

/// Which targets may be reached.
#[derive(Clone, Debug, Default)]
pub struct TargetPolicy {
    /// Allow every address, internal ones included (`GATEHOUSE_ALLOW_PRIVATE_TARGETS`).
    pub allow_private: bool,
    /// Networks allowed even though the SSRF rules would refuse them.
    pub allowed_networks: Vec<Network>,
}

impl TargetPolicy {
    /// Whether a delivery may connect to `address` under this policy.
    pub fn check(&self, address: IpAddr) -> Result<(), Forbidden> {
        if self.allow_private {
            return Ok(());
        }
        check_address(address, &self.allowed_networks)
    }
}

/// How the [`Sender`] behaves; built once from the configuration.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    /// The whole attempt's limit: connect, request, response headers and body.
    pub timeout: Duration,
    pub targets: TargetPolicy,
    pub user_agent: String,
    /// Idle keep-alive connections kept per receiver host. Below the attempts in flight to one
    /// host, connections are closed after each burst and opened again for the next (the
    /// benchmark saw 14,479 new connections for 20,000 deliveries with 8 kept for 32 in flight).
    pub max_idle_per_host: usize,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            targets: TargetPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_idle_per_host: 64,
        }
    }
}

/// One request to send: always a `POST` of `body` with `headers` to `uri`.
#[derive(Clone, Copy, Debug)]
pub struct OutgoingRequest<'a> {
    /// As shown: its user name, if any, is sent as basic authentication with `password`.
    pub uri: &'a str,
    /// The URI's password, opened (the URI shows `***` in its place).
    pub password: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What one attempt came to.
///
/// A response whose headers arrived but whose body was cut short keeps its `status` and sets
/// `error`, so it does not count as [`succeeded`](Self::succeeded): the receiver may not have
/// finished handling the message.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptOutcome {
    /// The response status; `None` when no response arrived.
    pub status: Option<u16>,
    /// Response headers in arrival order, names lower-case, values lossy UTF-8.
    pub response_headers: Vec<(String, String)>,
    /// Lossy UTF-8 of at most `MAX_RESPONSE_BODY_BYTES` bytes of the response body.
    pub response_body: String,
    /// Whether the body went on past `MAX_RESPONSE_BODY_BYTES` (the rest was not read).
    pub response_body_truncated: bool,
    pub duration: Duration,
    /// Why the attempt failed below HTTP: short, human, free of request headers, body and URI.
    pub error: Option<String>,
    /// The receiver's `Retry-After`, when it sent a valid one.
    pub retry_after: Option<Duration>,
}

impl AttemptOutcome {
    /// A 2xx response received in full.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, Some(200..=299)) && self.error.is_none()
    }

    /// An attempt that failed before a request could be made, for `reason`.
    pub fn not_sent(reason: String) -> Self {
        Self {
            error: Some(reason),
            ..Self::empty()
        }
    }

    fn empty() -> Self {
        Self {
            status: None,
            response_headers: Vec::new(),
            response_body: String::new(),
            response_body_truncated: false,
            duration: Duration::ZERO,
            error: None,
            retry_after: None,
        }
    }
}

/// An address the target policy refuses, with the name that led to it.
///
/// Its text names the address and the reason only when the host is that address, as the user
/// typed it. For a host name it says neither: a user could otherwise learn what a company's
/// internal names resolve to (and whether they exist) from the refusals, one name at a time.
/// [`RefusedTarget::log`] keeps the whole story for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedTarget {
    /// The URI's host as written (a name or an IP literal).
    pub host: String,
    pub address: IpAddr,
    pub reason: Forbidden,
}

impl RefusedTarget {
    /// Whether the host is the refused address itself rather than a name resolving to it.
    fn is_literal(&self) -> bool {
        let literal: Option<IpAddr> = self.host.trim_matches(['[', ']']).parse().ok();
        literal == Some(self.address)
    }

    /// Records the refusal, with the address and reason the user-facing text leaves out. The
    /// host is a URI's host only: no user name, password, path or query reaches the log.
    fn log(&self) {
        tracing::warn!(
            host = self.host,
            address = %self.address,
            reason = %self.reason,
            "refused a webhook target address"
        );
    }
}

impl fmt::Display for RefusedTarget {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            host,
            address,
            reason,
        } = self;
        if !self.is_literal() {
            return write!(
                formatter,
                "{host} resolves to an address webhooks may not reach (loopback, private, \
                 link-local or another non-public range)"
            );
        }
        match Transition::behind(*address, *reason) {
            Some(transition) => write!(formatter, "{address} is {transition} carrying {reason}"),
            None => write!(formatter, "{address} is {reason}"),
        }
    }
}

impl StdError for RefusedTarget {}

/// Why a target URI is not accepted. The message is meant for the user who gave the URI.
#[derive(Debug, thiserror::Error)]
pub enum UriProblem {
    #[error("the URI is {length} bytes long; the limit is {MAX_URI_LENGTH}")]
    TooLong { length: usize },
    #[error("not a valid URI: {reason}")]
    Malformed { reason: String },
    #[error("the scheme {scheme:?} is not supported; use http or https")]
    UnsupportedScheme { scheme: String },
    #[error("the URI has no host")]
    MissingHost,
    #[error("the URI has a fragment (#…), which is never sent to the receiver; remove it")]
    Fragment,
    #[error("{host} could not be resolved: {reason}")]
    Unresolvable { host: String, reason: String },
    #[error(
        "{0}; set GATEHOUSE_ALLOW_PRIVATE_TARGETS=true, or add its network to \
         GATEHOUSE_ALLOWED_TARGET_NETWORKS, to deliver webhooks there"
    )]
    Forbidden(RefusedTarget),
}

/// The syntax rules for a target URI, without any network access: `http` or `https`, a host,
/// no credentials, no fragment, at most `MAX_URI_LENGTH` bytes.
pub fn check_uri_syntax(uri: &str) -> Result<Url, UriProblem> {
    if uri.len() > MAX_URI_LENGTH {
        return Err(UriProblem::TooLong { length: uri.len() });
    }
    let url = Url::parse(uri).map_err(|error| UriProblem::Malformed {
        reason: error.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UriProblem::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UriProblem::MissingHost);
    }
    if url.fragment().is_some() {
        return Err(UriProblem::Fragment);
    }
    Ok(url)
}

/// The IP address a URI's host spells, if it is a literal (`10.0.0.5`, `[::1]`). The `url`
/// crate has already normalised odd IPv4 spellings (`127.1`, `0x7f000001`) to dotted form.
fn literal_address(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Sends webhook attempts. One `reqwest::Client`, so connections to a receiver are kept alive
/// and reused across attempts; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sender {
    client: Client,
    timeout: Duration,
    targets: Arc<TargetPolicy>,
}

impl Sender {
    pub fn new(settings: SenderSettings) -> Self {
        let targets = Arc::new(settings.targets);
        let user_agent = HeaderValue::from_str(&settings.user_agent).unwrap_or_else(|_| {
            tracing::warn!(
                user_agent = settings.user_agent,
                "the webhook user agent is not a valid header value; using the default"
            );
            HeaderValue::from_static(DEFAULT_USER_AGENT)
        });
        let client = Client::builder()
            .tls_backend_preconfigured(tls_config())
            .dns_resolver(GuardedResolver {
                targets: Arc::clone(&targets),
            })
            .http1_only()
            .user_agent(user_agent)
            .timeout(settings.timeout)
            .pool_max_idle_per_host(settings.max_idle_per_host)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .no_proxy()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .build()
            .expect("the client's TLS configuration is built in code and valid");
        Self {
            client,
            timeout: settings.timeout,
            targets,
        }
    }

    /// The creation-time check of a target URI: its syntax, then its host resolved and every
    /// address allowed. A name that resolves to one public and one private address is refused
    /// here even though a send would only use the public one: such a name is a rebinding risk
    /// or a mistake, and either way the user should hear of it now.
    pub async fn check_uri(&self, uri: &str) -> Result<(), UriProblem> {
        let url = check_uri_syntax(uri)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let addresses = match literal_address(&url) {
            Some(address) => vec![address],
            None => self.resolve_all(&host, &url).await?,
        };
        for address in addresses {
            if let Err(reason) = self.targets.check(address) {
                let refused = RefusedTarget {
                    host,
                    address,
                    reason,
                };
                refused.log();
                return Err(UriProblem::Forbidden(refused));
            }
        }
        Ok(())
    }

    async fn resolve_all(&self, host: &str, url: &Url) -> Result<Vec<IpAddr>, UriProblem> {
        let port = url.port_or_known_default().unwrap_or(443);
        let unresolvable = |reason: String| UriProblem::Unresolvable {
            host: host.to_owned(),
            reason,
        };
        let addresses = tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| unresolvable(format!("timed out after {}", seconds(self.timeout))))?
            .map_err(|error| unresolvable(error.to_string()))?
            .map(|socket_address| socket_address.ip())
            .collect::<Vec<_>>();
        if addresses.is_empty() {
            return Err(unresolvable("no addresses".to_owned()));
        }
        Ok(addresses)
    }

    /// One attempt: `POST` the body to the URI. Never fails as a Rust error; see
    /// [`AttemptOutcome`]. The response body is read up to `MAX_RESPONSE_BODY_BYTES` and the
    /// connection dropped if more follows.
    pub async fn send(&self, request: &OutgoingRequest<'_>) -> AttemptOutcome {
        let started = Instant::now();
        let mut outcome = AttemptOutcome::empty();
        match self.prepare(request) {
            Err(error) => outcome.error = Some(error),
            Ok(prepared) => match prepared.send().await {
                Err(error) => {
                    outcome.error = Some(describe_failure(&error, Phase::Exchange, self.timeout));
                }
                Ok(response) => self.read_response(response, &mut outcome).await,
            },
        }
        outcome.duration = started.elapsed();
        outcome
    }

    fn prepare(&self, request: &OutgoingRequest<'_>) -> Result<reqwest::RequestBuilder, String> {
        let url = check_uri_syntax(request.uri).map_err(|problem| problem.to_string())?;
        if let Some(address) = literal_address(&url) {
            // Literal hosts bypass the resolver, so the guard is applied here.
            self.targets.check(address).map_err(|reason| {
                let host = url.host_str().unwrap_or_default().to_owned();
                format!(
                    "refused: {}",
                    RefusedTarget {
                        host,
                        address,
                        reason
                    }
                )
            })?;
        }
        let mut headers = HeaderMap::with_capacity(request.headers.len());
        for (name, value) in request.headers {
            // The value is never quoted in the error: it may be a signature or a secret.
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid request header name {name:?}"))?;
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value for request header {name:?}"))?;
            headers.append(header_name, header_value);
        }
        let mut url = url;
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        // Credentials go in the Authorization header (RFC 7617), never in the request line.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let builder = self.client.post(url).headers(headers);
        let builder = if user.is_empty() && request.password.is_none() {
            builder
        } else {
            builder.basic_auth(user, request.password)
        };
        Ok(builder.body(request.body.to_vec()))
    }

    async fn read_response(&self, mut response: reqwest::Response, outcome: &mut AttemptOutcome) {
        outcome.status = Some(response.status().as_u16());
        outcome.response_headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        outcome.retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(None) => break,
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BODY_BYTES - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        outcome.response_body_truncated = true;
                        // Dropping the response closes the connection instead of reading on.
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Err(error) => {
                    outcome.error = Some(describe_failure(&error, Phase::Body, self.timeout));
                    break;
                }
            }
        }
        outcome.response_body = String::from_utf8_lossy(&body).into_owned();
    }
}

/// Where in an attempt a failure happened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Resolving, connecting, sending, waiting for the response headers.
    Exchange,
    /// Reading the response body, after the status and headers arrived.
    Body,
}

/// A failed request as a short human text. The chain of causes is searched for what matters
/// (the guard's refusal, a timeout, the OS's verdict); `reqwest::Error`'s own text is never used
/// because it quotes the URI.
fn describe_failure(error: &reqwest::Error, phase: Phase, timeout: Duration) -> String {
    let causes = || std::iter::successors(error.source(), |&cause| next_cause(cause));
    for cause in causes() {
        if let Some(refused) = cause.downcast_ref::<RefusedTarget>() {
            return format!("refused: {refused}");
        }
        if let Some(unresolved) = cause.downcast_ref::<Unresolved>() {
            return unresolved.to_string();
        }
    }
    if error.is_timeout() {
        return format!("timed out after {}", seconds(timeout));
    }
    for cause in causes() {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return format!("TLS handshake failed: {tls}");
        }
        if let Some(io_error) = cause.downcast_ref::<io::Error>() {
            match io_error.kind() {
                io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                io::ErrorKind::ConnectionReset => {
                    return "connection reset by the receiver".to_owned();
                }
                io::ErrorKind::UnexpectedEof if phase == Phase::Body => {
                    return "connection closed before the response body was complete".to_owned();
                }
                io::ErrorKind::HostUnreachable => return "host unreachable".to_owned(),
                io::ErrorKind::NetworkUnreachable => return "network unreachable".to_owned(),
                _ => {}
            }
        }
    }
    // The innermost cause is the most specific (hyper's "connection closed before message
    // completed", an OS error); none of hyper's or the OS's texts include the request.
    let innermost = causes()
        .filter(|cause| !cause.is::<reqwest::Error>())
        .last()
        .map(ToString::to_string);
    match (phase, innermost) {
        (Phase::Exchange, Some(cause)) => cause,
        (Phase::Exchange, None) => "the request failed".to_owned(),
        (Phase::Body, Some(cause)) => format!("the response body could not be read: {cause}"),
        (Phase::Body, None) => "the response body could not be read".to_owned(),
    }
}

/// The error beneath `error`. `io::Error::source` skips the error an `io::Error` wraps (where
/// rustls's and hyper's errors hide, often two `io::Error`s deep), so step into it instead.
fn next_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match error
        .downcast_ref::<io::Error>()
        .and_then(io::Error::get_ref)
    {
        Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
        None => error.source(),
    }
}

/// `10 s`, `300 ms`: durations as people write them in an error message.
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// TLS with the `ring` provider (no `aws-lc-rs`: it needs cmake to build) and Mozilla's roots
/// compiled in, so an image without a CA bundle still verifies receivers; HTTP/1.1 only.
fn tls_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots: rustls::RootCertStore = webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect();
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// A name that could not be resolved, as the resolver reports it.
#[derive(Debug)]
struct Unresolved {
    host: String,
    reason: String,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "could not resolve {}: {}",
            self.host, self.reason
        )
    }
}

impl StdError for Unresolved {}

/// The client's resolver: the system's resolution (through tokio), minus every address the
/// target policy refuses. What it returns is what the connector connects to, so the check and
/// the connection cannot disagree.
struct GuardedResolver {
    targets: Arc<TargetPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let targets = Arc::clone(&self.targets);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|error| Unresolved {
                    host: host.clone(),
                    reason: error.to_string(),
                })?;
            let mut allowed: Vec<SocketAddr> = Vec::new();
            let mut first_refused = None;
            for socket_address in resolved {
                match targets.check(socket_address.ip()) {
                    Ok(()) => allowed.push(socket_address),
                    Err(reason) => {
                        tracing::debug!(
                            host,
                            address = %socket_address.ip(),
                            %reason,
                            "dropping a forbidden address of a webhook target"
                        );
                        first_refused.get_or_insert(RefusedTarget {
                            host: host.clone(),
                            address: socket_address.ip(),
                            reason,
                        });
                    }
                }
            }
            if allowed.is_empty() {
                let error: Box<dyn StdError + Send + Sync> = match first_refused {
                    Some(refused) => {
                        refused.log();
                        Box::new(refused)
                    }
                    None => Box::new(Unresolved {
                        host,
                        reason: "no addresses".to_owned(),
                    }),
                };
                return Err(error);
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_uris_with_a_host_pass_the_syntax_check() {
        for uri in [
            "https://hooks.example.com/gatehouse",
            "http://hooks.example.com:8080/path?query=1",
            "http://127.0.0.1:9000/",
            "http://[2001:db8::1]/",
        ] {
            let url = check_uri_syntax(uri).expect(uri);
            assert!(url.host_str().is_some(), "{uri}");
        }
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let problem = check_uri_syntax("ftp://files.example.com/").expect_err("ftp");
        assert!(matches!(problem, UriProblem::UnsupportedScheme { .. }));
        assert_eq!(
            problem.to_string(),
            "the scheme \"ftp\" is not supported; use http or https"
        );
        assert!(matches!(
            check_uri_syntax("mailto:someone@example.com"),
            Err(UriProblem::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn a_uri_without_a_host_is_refused() {
        for uri in ["http://", "https:///", "http://:8080/"] {
            let problem = check_uri_syntax(uri).expect_err(uri);
            assert!(problem.to_string().contains("host"), "{uri}: {problem}");
        }
        assert!(matches!(
            check_uri_syntax("not a uri"),
            Err(UriProblem::Malformed { .. })
        ));
    }

    #[test]
    fn credentials_in_a_uri_are_accepted_for_basic_authentication() {
        for uri in [
            "https://user:***@hooks.example.com/",
            "https://user@hooks.example.com/",
        ] {
            assert!(check_uri_syntax(uri).is_ok(), "{uri}");
        }
    }

    #[test]
    fn a_uri_longer_than_the_limit_is_refused_and_one_at_the_limit_passes() {
        let base = "https://hooks.example.com/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_URI_LENGTH - base.len()));
        assert!(check_uri_syntax(&at_limit).is_ok());
        let too_long = format!("{at_limit}a");
        let problem = check_uri_syntax(&too_long).expect_err("too long");
        assert!(matches!(problem, UriProblem::TooLong { length } if length == 2049));
        assert_eq!(
            problem.to_string(),
            "the URI is 2049 bytes long; the limit is 2048"
        );
    }

    #[test]
    fn a_uri_with_a_fragment_is_refused() {
        for uri in [
            "https://hooks.example.com/#part",
            "https://hooks.example.com/#",
        ] {
            assert!(
                matches!(check_uri_syntax(uri), Err(UriProblem::Fragment)),
                "{uri}"
            );
        }
    }

    #[test]
    fn literal_addresses_are_found_in_every_spelling() {
        let literal = |uri: &str| literal_address(&check_uri_syntax(uri).expect(uri));
        assert_eq!(literal("http://127.0.0.1/"), Some([127, 0, 0, 1].into()));
        assert_eq!(literal("http://127.1/"), Some([127, 0, 0, 1].into()));
        assert_eq!(literal("http://2130706433/"), Some([127, 0, 0, 1].into()));
        assert_eq!(
            literal("http://[::1]:8080/"),
            Some("::1".parse().expect("address"))
        );
        assert_eq!(
            literal("http://[::ffff:127.0.0.1]/"),
            Some("::ffff:127.0.0.1".parse().expect("address"))
        );
        assert_eq!(literal("http://hooks.example.com/"), None);
    }

    #[test]
    fn refusals_name_a_literal_address_and_its_reason_but_not_a_names() {
        let literal = RefusedTarget {
            host: "127.0.0.1".to_owned(),
            address: [127, 0, 0, 1].into(),
            reason: Forbidden::Loopback,
        };
        assert_eq!(literal.to_string(), "127.0.0.1 is a loopback address");
        let named = RefusedTarget {
            host: "internal.example".to_owned(),
            address: [10, 0, 0, 5].into(),
            reason: Forbidden::Private,
        };
        assert_eq!(
            UriProblem::Forbidden(named).to_string(),
            "internal.example resolves to an address webhooks may not reach (loopback, private, \
             link-local or another non-public range); set GATEHOUSE_ALLOW_PRIVATE_TARGETS=true, \
             or add its network to GATEHOUSE_ALLOWED_TARGET_NETWORKS, to deliver webhooks there"
        );
        let bracketed = RefusedTarget {
            host: "[::1]".to_owned(),
            address: "::1".parse().expect("address"),
            reason: Forbidden::Loopback,
        };
        assert_eq!(bracketed.to_string(), "::1 is a loopback address");
        let carried = RefusedTarget {
            host: "[64:ff9b::7f00:1]".to_owned(),
            address: "64:ff9b::7f00:1".parse().expect("address"),
            reason: Forbidden::Loopback,
        };
        assert_eq!(
            carried.to_string(),
            "64:ff9b::7f00:1 is a NAT64 address carrying a loopback address"
        );
    }

    #[test]
    fn a_refused_host_name_reveals_neither_the_address_nor_the_reason() {
        for (address, reason) in [
            (IpAddr::from([10, 0, 0, 5]), Forbidden::Private),
            (IpAddr::from([169, 254, 169, 254]), Forbidden::LinkLocal),
            (
                "fd00:ec2::254".parse().expect("address"),
                Forbidden::Private,
            ),
            (
                "64:ff9b::a00:5".parse().expect("address"),
                Forbidden::Private,
            ),
        ] {
            let refused = RefusedTarget {
                host: "internal.example".to_owned(),
                address,
                reason,
            };
            let message = UriProblem::Forbidden(refused).to_string();
            assert!(!message.contains(&address.to_string()), "{message}");
            assert!(!message.contains(&reason.to_string()), "{message}");
            assert!(!message.contains("NAT64"), "{message}");
        }
    }

    #[test]
    fn durations_read_as_seconds_or_milliseconds() {
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(300)), "300 ms");
        assert_eq!(seconds(Duration::from_millis(1_500)), "1500 ms");
    }
}
