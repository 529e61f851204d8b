//! The webhook sender against real receivers: raw HTTP/1.1 written by tokio tasks listening on
//! 127.0.0.1, so timeouts, resets, truncation and keep-alive are the network's, not a mock's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gatehouse::delivery::sender::{
    AttemptOutcome, MAX_RESPONSE_BODY_BYTES, OutgoingRequest, Sender, SenderSettings, TargetPolicy,
    UriProblem,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A receiver on 127.0.0.1: every accepted connection is handed to `serve`; `accepts` counts
/// connections and `requests` carries each request the receiver read, as text.
struct Receiver {
    address: SocketAddr,
    accepts: Arc<AtomicUsize>,
    requests: mpsc::UnboundedReceiver<String>,
}

impl Receiver {
    fn uri(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn localhost_uri(&self) -> String {
        format!("http://localhost:{}/hook", self.address.port())
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

type Connection = BufReader<TcpStream>;

async fn start_receiver<Serve, Served>(serve: Serve) -> Receiver
where
    Serve: Fn(Connection, mpsc::UnboundedSender<String>) -> Served + Send + Sync + 'static,
    Served: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let accepts = Arc::new(AtomicUsize::new(0));
    let (requests_sender, requests) = mpsc::unbounded_channel();
    let counted = Arc::clone(&accepts);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(BufReader::new(stream), requests_sender.clone()));
        }
    });
    Receiver {
        address,
        accepts,
        requests,
    }
}

/// Reads one request (head and `Content-Length` body); `None` when the client closed.
async fn read_request(connection: &mut Connection) -> Option<String> {
    let mut head = String::new();
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        if connection.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().ok()?;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; content_length];
    connection.read_exact(&mut body).await.ok()?;
    Some(head + &String::from_utf8_lossy(&body))
}

/// A receiver that answers every request on a connection with `response`, keeping it open.
async fn answering(response: &'static str) -> Receiver {
    start_receiver(move |mut connection, requests| async move {
        while let Some(request) = read_request(&mut connection).await {
            let _ = requests.send(request);
            if connection
                .get_mut()
                .write_all(response.as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    })
    .await
}

fn sender_with(targets: TargetPolicy, timeout: Duration) -> Sender {
    Sender::new(SenderSettings {
        timeout,
        targets,
        user_agent: "Gatehouse-Test/1".to_owned(),
        max_idle_per_host: 4,
    })
}

/// A sender allowed to reach the test receivers on loopback.
fn local_sender() -> Sender {
    local_sender_with_timeout(Duration::from_secs(5))
}

fn local_sender_with_timeout(timeout: Duration) -> Sender {
    let targets = TargetPolicy {
        allow_private: true,
        allowed_networks: Vec::new(),
    };
    sender_with(targets, timeout)
}

fn default_policy_sender() -> Sender {
    sender_with(TargetPolicy::default(), Duration::from_secs(5))
}

async fn post(sender: &Sender, uri: &str) -> AttemptOutcome {
    let headers = [
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "webhook-signature".to_owned(),
            "v1,secret-signature".to_owned(),
        ),
    ];
    sender
        .send(&OutgoingRequest {
            uri,
            password: None,
            headers: &headers,
            body: br#"{"type":"user.created"}"#,
        })
        .await
}

fn header<'a>(outcome: &'a AttemptOutcome, name: &str) -> Option<&'a str> {
    outcome
        .response_headers
        .iter()
        .find(|(header_name, _)| header_name == name)
        .map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn a_200_with_a_body_succeeds_and_records_the_response() {
    let mut receiver =
        answering("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Receiver: Yes\r\n\r\nreceived").await;
    let outcome = post(&local_sender(), &receiver.uri("/hook?tenant=1")).await;

    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.response_body, "received");
    assert!(!outcome.response_body_truncated);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.retry_after, None);
    assert_eq!(header(&outcome, "x-receiver"), Some("Yes"));
    assert_eq!(header(&outcome, "content-length"), Some("8"));

    let request = receiver.requests.recv().await.expect("request");
    assert!(
        request.starts_with("POST /hook?tenant=1 HTTP/1.1\r\n"),
        "{request}"
    );
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.contains("user-agent: gatehouse-test/1\r\n"),
        "{request}"
    );
    assert!(
        lower.contains("content-type: application/json\r\n"),
        "{request}"
    );
    assert!(
        lower.contains("webhook-signature: v1,secret-signature\r\n"),
        "{request}"
    );
    assert!(
        request.ends_with("\r\n\r\n{\"type\":\"user.created\"}"),
        "{request}"
    );
}

#[tokio::test]
async fn a_4xx_or_5xx_is_a_failed_attempt_with_its_status_and_no_error() {
    for (response, status, body) in [
        (
            "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nno hook",
            404,
            "no hook",
        ),
        (
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
            500,
            "oops",
        ),
    ] {
        let receiver = answering(response).await;
        let outcome = post(&local_sender(), &receiver.uri("/")).await;
        assert!(!outcome.succeeded(), "{outcome:?}");
        assert_eq!(outcome.status, Some(status));
        assert_eq!(outcome.response_body, body);
        assert_eq!(outcome.error, None);
    }
}

#[tokio::test]
async fn a_503_with_retry_after_seconds_reports_the_wait_asked_for() {
    let receiver = answering(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/")).await;
    assert_eq!(outcome.status, Some(503));
    assert_eq!(outcome.retry_after, Some(Duration::from_secs(120)));
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_without_quoting_the_uri() {
    let receiver = start_receiver(|mut connection, requests| async move {
        if let Some(request) = read_request(&mut connection).await {
            let _ = requests.send(request);
        }
        // Hold the connection open without answering.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(connection);
    })
    .await;
    let sender = local_sender_with_timeout(Duration::from_millis(300));
    let outcome = post(&sender, &receiver.uri("/hook?token=hunter2")).await;

    assert_eq!(outcome.status, None);
    assert_eq!(outcome.error.as_deref(), Some("timed out after 300 ms"));
    assert!(
        outcome.duration >= Duration::from_millis(300),
        "{outcome:?}"
    );
    assert!(outcome.duration < Duration::from_secs(3), "{outcome:?}");
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn a_receiver_that_sends_headers_then_stalls_times_out_reading_the_body() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
        let _ = connection
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let sender = local_sender_with_timeout(Duration::from_millis(300));
    let outcome = post(&sender, &receiver.uri("/")).await;
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.error.as_deref(), Some("timed out after 300 ms"));
    assert_eq!(outcome.response_body, "start");
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let outcome = post(&local_sender(), &format!("http://{address}/")).await;
    assert_eq!(outcome.status, None);
    assert_eq!(outcome.error.as_deref(), Some("connection refused"));
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn a_slow_receiver_that_answers_within_the_timeout_succeeds() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = connection
            .get_mut()
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await;
    })
    .await;
    let sender = local_sender_with_timeout(Duration::from_secs(3));
    let outcome = post(&sender, &receiver.uri("/")).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.status, Some(204));
    assert!(
        outcome.duration >= Duration::from_millis(200),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_receiver_closing_mid_body_keeps_the_status_but_is_not_a_success() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
        let _ = connection
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            .await;
        // Dropping the connection closes it 90 bytes short.
    })
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/")).await;
    assert_eq!(outcome.status, Some(200));
    assert_eq!(
        outcome.error.as_deref(),
        Some("connection closed before the response body was complete")
    );
    assert_eq!(outcome.response_body, "0123456789");
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn a_receiver_closing_before_answering_is_a_failure_without_status() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
    })
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/")).await;
    assert_eq!(outcome.status, None);
    let error = outcome.error.expect("error");
    assert!(error.contains("closed"), "{error}");
}

#[tokio::test]
async fn a_1_mb_response_is_cut_to_64_kib_and_still_succeeds() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
        let body = vec![b'a'; 1024 * 1024];
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let stream = connection.get_mut();
        // The sender stops reading after 64 KiB, so these writes may fail: that is expected.
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&body).await;
    })
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/")).await;
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    assert_eq!(outcome.response_body.len(), MAX_RESPONSE_BODY_BYTES);
    assert!(outcome.response_body.bytes().all(|byte| byte == b'a'));
    assert!(outcome.response_body_truncated);
}

#[tokio::test]
async fn a_body_of_exactly_64_kib_is_not_marked_truncated() {
    let receiver = start_receiver(|mut connection, _| async move {
        let _ = read_request(&mut connection).await;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {MAX_RESPONSE_BODY_BYTES}\r\n\r\n");
        let stream = connection.get_mut();
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(&vec![b'b'; MAX_RESPONSE_BODY_BYTES]).await;
    })
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/")).await;
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    assert_eq!(outcome.response_body.len(), MAX_RESPONSE_BODY_BYTES);
    assert!(!outcome.response_body_truncated);
}

#[tokio::test]
async fn a_302_is_recorded_and_not_followed() {
    let mut receiver = start_receiver(|mut connection, requests| async move {
        while let Some(request) = read_request(&mut connection).await {
            let _ = requests.send(request);
            let _ = connection
                .get_mut()
                .write_all(
                    b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
        }
    })
    .await;
    let outcome = post(&local_sender(), &receiver.uri("/hook")).await;
    assert_eq!(outcome.status, Some(302));
    assert_eq!(outcome.error, None);
    assert_eq!(header(&outcome, "location"), Some("/elsewhere"));
    assert!(!outcome.succeeded());
    let first = receiver.requests.recv().await.expect("request");
    assert!(first.starts_with("POST /hook "), "{first}");
    assert!(
        receiver.requests.try_recv().is_err(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn two_sends_to_one_receiver_reuse_one_kept_alive_connection() {
    let mut receiver = answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
    let sender = local_sender();
    let first = post(&sender, &receiver.uri("/first")).await;
    let second = post(&sender, &receiver.uri("/second")).await;
    assert!(first.succeeded(), "{first:?}");
    assert!(second.succeeded(), "{second:?}");
    assert_eq!(receiver.accepts(), 1);
    let paths = [
        receiver.requests.recv().await.expect("first"),
        receiver.requests.recv().await.expect("second"),
    ];
    assert!(paths[0].starts_with("POST /first "), "{}", paths[0]);
    assert!(paths[1].starts_with("POST /second "), "{}", paths[1]);
}

#[tokio::test]
async fn loopback_targets_are_refused_by_default_before_connecting() {
    let receiver = answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let sender = default_policy_sender();
    let port = receiver.address.port();

    let literal = post(&sender, &receiver.uri("/")).await;
    assert_eq!(
        literal.error.as_deref(),
        Some("refused: 127.0.0.1 is a loopback address")
    );
    assert_eq!(literal.status, None);
    assert!(!literal.succeeded());

    let named = post(&sender, &receiver.localhost_uri()).await;
    let error = named.error.expect("refused");
    assert_eq!(
        error,
        "refused: localhost resolves to an address webhooks may not reach (loopback, private, \
         link-local or another non-public range)"
    );

    for uri in [
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://127.1:{port}/"),
    ] {
        let outcome = post(&sender, &uri).await;
        let error = outcome.error.expect(&uri);
        assert!(error.starts_with("refused: "), "{uri}: {error}");
        assert!(error.contains("loopback"), "{uri}: {error}");
    }
    assert_eq!(receiver.accepts(), 0, "the guard let a connection through");
}

#[tokio::test]
async fn check_uri_refuses_loopback_by_default_and_names_the_setting() {
    let sender = default_policy_sender();

    let literal = sender
        .check_uri("http://127.0.0.1:9/")
        .await
        .expect_err("loopback");
    assert!(matches!(literal, UriProblem::Forbidden(_)));
    assert_eq!(
        literal.to_string(),
        "127.0.0.1 is a loopback address; set GATEHOUSE_ALLOW_PRIVATE_TARGETS=true, or add its \
         network to GATEHOUSE_ALLOWED_TARGET_NETWORKS, to deliver webhooks there"
    );

    let named = sender
        .check_uri("http://localhost:9/hook")
        .await
        .expect_err("loopback");
    let message = named.to_string();
    assert!(
        message.starts_with("localhost resolves to an address webhooks may not reach ("),
        "{message}"
    );
    assert!(
        message.contains("GATEHOUSE_ALLOW_PRIVATE_TARGETS=true"),
        "{message}"
    );
    // Neither the address (127.0.0.1 or ::1) nor the specific reason: a name's refusal must
    // not tell what it resolves to.
    for hidden in ["127.0.0.1", "::1", "a loopback address"] {
        assert!(!message.contains(hidden), "{hidden}: {message}");
    }
    let UriProblem::Forbidden(refused) = named else {
        panic!("not a refused target: {named}");
    };
    assert!(refused.address.is_loopback(), "{refused:?}");

    let mapped = sender
        .check_uri("http://[::ffff:10.0.0.5]/")
        .await
        .expect_err("private");
    assert!(
        mapped
            .to_string()
            .starts_with("::ffff:10.0.0.5 is a private network address"),
        "{mapped}"
    );

    assert!(matches!(
        sender.check_uri("ftp://127.0.0.1/").await,
        Err(UriProblem::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        sender.check_uri("http://name.invalid/").await,
        Err(UriProblem::Unresolvable { .. })
    ));
}

#[tokio::test]
async fn addresses_carrying_a_refused_ipv4_address_and_benchmarking_ones_are_refused() {
    let sender = default_policy_sender();
    let cases = [
        (
            "http://[64:ff9b::7f00:1]/hook",
            "64:ff9b::7f00:1 is a NAT64 address carrying a loopback address",
        ),
        (
            "http://[2002:7f00:1::]/hook",
            "2002:7f00:1:: is a 6to4 address carrying a loopback address",
        ),
        // Teredo: server 65.54.227.120, client 10.0.0.1 (the last 32 bits, inverted).
        (
            "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
            "2001:0:4136:e378:8000:63bf:f5ff:fffe is a Teredo address carrying a private \
             network address",
        ),
        (
            "http://198.18.0.1/hook",
            "198.18.0.1 is an address reserved for benchmarking",
        ),
    ];
    for (uri, reason) in cases {
        let problem = sender.check_uri(uri).await.expect_err(uri);
        assert!(matches!(problem, UriProblem::Forbidden(_)), "{uri}");
        assert!(problem.to_string().starts_with(reason), "{uri}: {problem}");
        let outcome = post(&sender, uri).await;
        assert_eq!(
            outcome.error.as_deref(),
            Some(format!("refused: {reason}").as_str()),
            "{uri}"
        );
        assert_eq!(outcome.status, None, "{uri}");
    }
    // The NAT64 spelling of a public address passes (a literal: nothing is resolved).
    sender
        .check_uri("http://[64:ff9b::808:808]/hook")
        .await
        .expect("NAT64 of a public address");
}

#[tokio::test]
async fn allowing_private_targets_lets_loopback_through() {
    let receiver = answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let sender = local_sender();
    assert!(post(&sender, &receiver.uri("/")).await.succeeded());
    assert!(post(&sender, &receiver.localhost_uri()).await.succeeded());
    sender.check_uri(&receiver.uri("/")).await.expect("allowed");
    sender
        .check_uri(&receiver.localhost_uri())
        .await
        .expect("allowed");
}

#[tokio::test]
async fn an_allow_listed_network_lets_its_addresses_through_and_no_others() {
    let receiver = answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let targets = TargetPolicy {
        allow_private: false,
        allowed_networks: vec!["127.0.0.0/8".parse().expect("network")],
    };
    let sender = sender_with(targets, Duration::from_secs(5));

    let literal = post(&sender, &receiver.uri("/")).await;
    assert!(literal.succeeded(), "{literal:?}");
    // localhost may also resolve to ::1, which the list does not allow: the resolver drops it
    // and connects to 127.0.0.1.
    let named = post(&sender, &receiver.localhost_uri()).await;
    assert!(named.succeeded(), "{named:?}");
    sender
        .check_uri(&receiver.uri("/"))
        .await
        .expect("allow-listed");

    let outside = post(
        &sender,
        &format!("http://[::1]:{}/", receiver.address.port()),
    )
    .await;
    assert_eq!(
        outside.error.as_deref(),
        Some("refused: ::1 is a loopback address")
    );
    assert!(matches!(
        sender.check_uri("http://10.0.0.5/").await,
        Err(UriProblem::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_https_target_speaking_plain_http_fails_the_tls_handshake() {
    let receiver = start_receiver(|mut connection, _| async move {
        let mut client_hello = [0; 512];
        let _ = connection.read(&mut client_hello).await;
        let _ = connection
            .get_mut()
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let uri = format!("https://{}/", receiver.address);
    let outcome = post(&local_sender(), &uri).await;
    assert_eq!(outcome.status, None);
    let error = outcome.error.expect("TLS failure");
    assert!(error.starts_with("TLS handshake failed: "), "{error}");
}

#[tokio::test]
async fn a_malformed_uri_is_a_failed_attempt_not_a_panic() {
    let outcome = post(&local_sender(), "ftp://127.0.0.1/").await;
    assert_eq!(outcome.status, None);
    assert_eq!(
        outcome.error.as_deref(),
        Some("the scheme \"ftp\" is not supported; use http or https")
    );
    let outcome = post(&local_sender(), "https://user:***@127.0.0.1:bad/").await;
    let error = outcome.error.expect("a malformed port");
    assert!(error.contains("invalid port"), "{error}");
    assert!(!error.contains("***"), "the URI is not quoted: {error}");
}
