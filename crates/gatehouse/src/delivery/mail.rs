//! Webhook exception emails: composing and sending them. Xurrent mails the people behind a
//! webhook when its calls fail — after a failed call, a note that the call will be retried (at
//! most one per webhook per 20 minutes), and after 20 consecutive failures a separate note that
//! the webhook was disabled. This module owns the words of those emails ([`compose`], pure, so
//! tests pin them), the SMTP client that sends them ([`Mailer`], lettre over tokio), and the
//! validation of a webhook's `mail_exceptions_to` field ([`parse_recipients`]). Deciding *when*
//! to notify, whom (the field or the account administrators) and storing notifications when no
//! SMTP server is configured belong to the delivery worker, not here.
//!
//! `GATEHOUSE_SMTP_URL` takes lettre's connection URL: `smtp://host:port` (plain, no TLS — for a
//! relay on localhost), `smtp://host?tls=opportunistic`, `smtp://host?tls=required` (STARTTLS,
//! port 587 by default), `smtps://host` (TLS from the first byte, port 465); credentials go in
//! the user part (`smtps://user:pass@host`) and an EHLO name in the path. TLS uses rustls with
//! the Mozilla roots (webpki-roots).
//!
//! The emails carry no request body, no headers and no secrets: the webhook's URI is shown
//! without its password and query string, which often hold tokens.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use super::retry::MAX_ATTEMPTS;
use crate::domain::{
    CONSECUTIVE_FAILURES_BEFORE_DISABLE, EXCEPTION_NOTIFICATION_INTERVAL_MINUTES, NoticeContent,
    NotificationKind, WebhookNotification,
};
use crate::store::redact_url;

/// How long one [`Mailer::send`] may take, connection and every SMTP command included.
pub const SEND_TIMEOUT_SECS: u64 = 10;

/// The most addresses a webhook's `mail_exceptions_to` may hold.
pub const MAX_RECIPIENTS: usize = 10;

/// The longest failure text put in an email body, in characters.
const MAX_FAILURE_CHARS: usize = 500;

/// The longest webhook name or failure text put in a subject line, in characters.
const MAX_SUBJECT_PART_CHARS: usize = 60;

/// Plain data describing what happened; composed into an email by [`compose`].
#[derive(Clone, Debug)]
pub struct Notification<'a> {
    pub kind: NotificationKind,
    pub account_id: &'a str,
    pub webhook_id: Uuid,
    pub webhook_name: &'a str,
    pub webhook_uri: &'a str,
    pub event: &'a str,
    pub delivery_id: Uuid,
    /// The attempt that failed, 1 for the first.
    pub attempt: u32,
    pub max_attempts: u32,
    pub consecutive_failures: u32,
    /// What went wrong: `HTTP 503` or the connection error's text.
    pub failure: &'a str,
    /// When the call is tried again; `None` when it will not be.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// A link to the delivery in the console.
    pub console_url: &'a str,
}

/// An email's words, ready for [`Mailer::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposedMail {
    pub subject: String,
    pub text: String,
}

/// The email of a stored notice, its link into the console under `base_url` (the server that
/// sends or shows it). A notice stored before notices kept facts reads as it was composed.
pub fn compose_notice(notice: &WebhookNotification, base_url: &str) -> ComposedMail {
    let facts = match &notice.content {
        NoticeContent::Facts(facts) => facts,
        NoticeContent::Composed { subject, body } => {
            return ComposedMail {
                subject: subject.clone(),
                text: body.clone(),
            };
        }
    };
    let delivery_id = notice.delivery_id.unwrap_or_default();
    let console_url = format!(
        "{}/console/deliveries/{delivery_id}",
        base_url.trim_end_matches('/')
    );
    compose(&Notification {
        kind: notice.kind,
        account_id: notice.account_id.as_str(),
        webhook_id: notice.webhook_id,
        webhook_name: &facts.webhook_name,
        webhook_uri: &facts.webhook_uri,
        event: &facts.event,
        delivery_id,
        attempt: facts.attempt,
        max_attempts: MAX_ATTEMPTS,
        consecutive_failures: facts.consecutive_failures,
        failure: &facts.failure,
        next_attempt_at: facts.next_attempt_at,
        console_url: &console_url,
    })
}

/// Writes the email for `notification`. Pure: same input, same email.
pub fn compose(notification: &Notification<'_>) -> ComposedMail {
    let uri = displayed_uri(notification.webhook_uri);
    // A connection error's text may quote the URI it failed to reach, password and all.
    let failure = if notification.webhook_uri.is_empty() {
        notification.failure.to_owned()
    } else {
        notification.failure.replace(notification.webhook_uri, &uri)
    };
    let name = one_line(notification.webhook_name, MAX_SUBJECT_PART_CHARS);
    let details = format!(
        "\x20 Webhook:  {name} ({id})\n\
         \x20 Account:  {account}\n\
         \x20 Event:    {event}\n\
         \x20 URI:      {uri}\n\
         \x20 Delivery: {delivery}\n\
         \x20 Attempt:  {attempt} of {max}\n\
         \x20 Failure:  {failure}\n",
        id = notification.webhook_id,
        account = notification.account_id,
        event = notification.event,
        delivery = notification.delivery_id,
        attempt = notification.attempt,
        max = notification.max_attempts,
        failure = one_line(&failure, MAX_FAILURE_CHARS),
    );
    match notification.kind {
        NotificationKind::Exception => compose_exception(notification, &name, &failure, &details),
        NotificationKind::Disabled => compose_disabled(notification, &name, &details),
    }
}

fn compose_exception(
    notification: &Notification<'_>,
    name: &str,
    failure: &str,
    details: &str,
) -> ComposedMail {
    let max = notification.max_attempts;
    let outcome = match notification.next_attempt_at {
        Some(at) => format!(
            "The call will be retried at {} (attempt {} of {max}).",
            at.format("%Y-%m-%d %H:%M:%S UTC"),
            notification.attempt.saturating_add(1),
        ),
        None if notification.attempt >= max => {
            format!("The call will not be retried: all {max} attempts failed.")
        }
        None => format!(
            "The call will not be retried after attempt {} of {max}.",
            notification.attempt
        ),
    };
    let subject = match notification.next_attempt_at {
        Some(_) => format!(
            "[Gatehouse] Webhook “{name}” failed: {}",
            one_line(failure, MAX_SUBJECT_PART_CHARS)
        ),
        None => format!(
            "[Gatehouse] Webhook “{name}” failed for good: {}",
            one_line(failure, MAX_SUBJECT_PART_CHARS)
        ),
    };
    let text = format!(
        "A call of the webhook “{name}” failed.\n\
         \n\
         {details}\
         \n\
         {outcome}\n\
         \n\
         This webhook has now failed {consecutive} time(s) in a row; after \
         {CONSECUTIVE_FAILURES_BEFORE_DISABLE} consecutive failures it is disabled automatically.\n\
         \n\
         See the delivery: {console}\n\
         {footer}",
        consecutive = notification.consecutive_failures,
        console = notification.console_url,
        footer = footer(&format!(
            "At most one such email is sent per webhook every \
             {EXCEPTION_NOTIFICATION_INTERVAL_MINUTES} minutes."
        )),
    );
    ComposedMail { subject, text }
}

fn compose_disabled(notification: &Notification<'_>, name: &str, details: &str) -> ComposedMail {
    let subject = format!(
        "[Gatehouse] Webhook “{name}” disabled after {} failures",
        notification.consecutive_failures
    );
    let text = format!(
        "The webhook “{name}” was disabled after {consecutive} consecutive failed calls. It \
         sends nothing until it is enabled again.\n\
         \n\
         The last failure:\n\
         \n\
         {details}\
         \n\
         Once the receiving endpoint is fixed, enable the webhook again by clearing its Disabled \
         field, or through the API:\n\
         \n\
         \x20 PATCH /v1/webhooks/{id}\n\
         \x20 {{\"disabled\": false}}\n\
         \n\
         Calls that failed meanwhile can be sent again with Redeliver.\n\
         \n\
         See the last delivery: {console}\n\
         {footer}",
        consecutive = notification.consecutive_failures,
        id = notification.webhook_id,
        console = notification.console_url,
        footer = footer(""),
    );
    ComposedMail { subject, text }
}

/// Why the reader got the email, and the throttling note when there is one.
fn footer(extra: &str) -> String {
    let mut footer = String::from(
        "\n--\nYou receive this email because your address is in the webhook's \"Mail exceptions \
         to\" field, or because that field is empty and you are an account administrator.",
    );
    if !extra.is_empty() {
        footer.push(' ');
        footer.push_str(extra);
    }
    footer.push('\n');
    footer
}

/// The webhook URI as an email may show it: no password, no query string.
fn displayed_uri(uri: &str) -> String {
    let redacted = redact_url(uri);
    match redacted.split_once('?') {
        Some((before, _)) => format!("{before}?…"),
        None => redacted,
    }
}

/// `text` on one line (control characters become spaces), cut to `max_chars` with an ellipsis.
fn one_line(text: &str, max_chars: usize) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let mut cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// What can go wrong configuring the mailer or sending a message.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL could not be used; the URL is shown with its password redacted.
    #[error(
        "invalid SMTP URL (GATEHOUSE_SMTP_URL) {url:?}: {reason}; expected smtp://host:port, \
         smtp://host?tls=required or smtps://user:password@host"
    )]
    InvalidUrl { url: String, reason: String },
    #[error("invalid sender address (GATEHOUSE_SMTP_FROM) {from:?}: {reason}")]
    InvalidFrom { from: String, reason: String },
    #[error("no recipients to send the email to")]
    NoRecipients,
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidRecipient { address: String, reason: String },
    #[error("could not build the email: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("sending the email through {server} failed: {source}")]
    Send {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("sending the email through {server} timed out after {timeout_ms} ms")]
    Timeout { server: String, timeout_ms: u64 },
}

/// Sends emails through the SMTP server of `GATEHOUSE_SMTP_URL`. Cheap to clone; each send opens
/// its own connection (notifications are rare, so no pool).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL with its password redacted, for errors and logs.
    server: String,
    timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// From `GATEHOUSE_SMTP_URL` (lettre's `from_url`, see the module doc) and a From address
    /// (`GATEHOUSE_SMTP_FROM`, by default `gatehouse@localhost`; `Name <address>` is accepted).
    pub fn from_url(url: &str, from: &str) -> Result<Self, MailError> {
        let server = redact_url(url.trim());
        let invalid_url = |reason: String| MailError::InvalidUrl {
            url: server.clone(),
            reason,
        };
        let scheme = url.trim().split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("smtp" | "smtps")) {
            return Err(invalid_url(
                "the scheme must be smtp:// or smtps://".to_owned(),
            ));
        }
        let timeout = Duration::from_secs(SEND_TIMEOUT_SECS);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            // lettre's messages name the part at fault, never the URL or the password.
            .map_err(|error| invalid_url(error.to_string()))?
            .timeout(Some(timeout))
            .build();
        let from = from
            .trim()
            .parse::<Mailbox>()
            .map_err(|error| MailError::InvalidFrom {
                from: from.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            transport,
            from,
            server,
            timeout,
        })
    }

    /// Sends one message to all `recipients` (each in `To:`). Gives up after
    /// [`SEND_TIMEOUT_SECS`].
    pub async fn send(&self, recipients: &[String], mail: &ComposedMail) -> Result<(), MailError> {
        if recipients.is_empty() {
            return Err(MailError::NoRecipients);
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            // `<random@hostname>`: mail without a Message-ID looks like spam to many filters.
            .message_id(None)
            .subject(one_line(&mail.subject, usize::MAX))
            .header(ContentType::TEXT_PLAIN)
            // RFC 3834: stops out-of-office replies to a machine.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
        for recipient in recipients {
            let address = recipient.trim().parse::<Address>().map_err(|error| {
                MailError::InvalidRecipient {
                    address: recipient.clone(),
                    reason: error.to_string(),
                }
            })?;
            builder = builder.to(Mailbox::new(None, address));
        }
        let message = builder.body(mail.text.clone())?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(source)) if source.is_timeout() => Err(self.timed_out()),
            Ok(Err(source)) => Err(MailError::Send {
                server: self.server.clone(),
                source,
            }),
            Err(_elapsed) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> MailError {
        MailError::Timeout {
            server: self.server.clone(),
            timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Validates a webhook's `mail_exceptions_to`: addresses separated by commas or newlines, each
/// a plain address (`ops@example.com`, no display name), at most [`MAX_RECIPIENTS`]. Returns the
/// trimmed addresses without duplicates (empty when the field is blank: the account
/// administrators are mailed), or every problem found, as messages for the user.
pub fn parse_recipients(text: &str) -> Result<Vec<String>, Vec<String>> {
    let mut addresses: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for entry in text.split([',', '\n', '\r']).map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        match entry.parse::<Address>() {
            Ok(address) => {
                let address = address.to_string();
                if !addresses
                    .iter()
                    .any(|known| known.eq_ignore_ascii_case(&address))
                {
                    addresses.push(address);
                }
            }
            Err(error) => problems.push(format!(
                "“{}” is not a valid email address ({})",
                one_line(entry, 100),
                error.to_string().to_lowercase()
            )),
        }
    }
    if addresses.len() > MAX_RECIPIENTS {
        problems.push(format!(
            "at most {MAX_RECIPIENTS} addresses are allowed, got {}",
            addresses.len()
        ));
    }
    if problems.is_empty() {
        Ok(addresses)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use chrono::TimeZone;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    fn notification(kind: NotificationKind) -> Notification<'static> {
        Notification {
            kind,
            account_id: "acme",
            webhook_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            webhook_name: "Sync to CRM",
            webhook_uri: "https://hook:s3cret@crm.example.com/in?token=abc",
            event: "person.update",
            delivery_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002),
            attempt: 3,
            max_attempts: 10,
            consecutive_failures: 7,
            failure: "HTTP 503",
            next_attempt_at: Some(Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()),
            console_url: "https://gatehouse.example.com/deliveries/2",
        }
    }

    #[test]
    fn a_stored_notice_is_composed_from_its_facts_with_a_console_link() {
        let facts = crate::domain::NoticeFacts {
            webhook_name: "Sync to CRM".to_owned(),
            webhook_uri: "https://hook:***@crm.example.com/in?token=abc".to_owned(),
            event: "person.update".to_owned(),
            attempt: 3,
            consecutive_failures: 7,
            failure: "HTTP 503".to_owned(),
            next_attempt_at: Some(Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()),
        };
        let mut notice = WebhookNotification {
            id: Uuid::nil(),
            account_id: crate::domain::AccountId::parse("acme").expect("id"),
            webhook_id: Uuid::from_u128(1),
            delivery_id: Some(Uuid::from_u128(2)),
            kind: NotificationKind::Exception,
            recipients: vec!["ops@example.org".to_owned()],
            content: NoticeContent::Facts(facts),
            created_at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 0, 0).unwrap(),
            sent_at: None,
            send_error: None,
        };
        let mail = compose_notice(&notice, "https://gatehouse.example.com/");
        assert!(
            mail.text.contains(&format!(
                "See the delivery: https://gatehouse.example.com/console/deliveries/{}",
                Uuid::from_u128(2)
            )),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("attempt 4 of 10"), "{}", mail.text);
        assert_no_secrets(&mail);

        notice.content = NoticeContent::Composed {
            subject: "Old subject".to_owned(),
            body: "Old body".to_owned(),
        };
        assert_eq!(
            compose_notice(&notice, "https://gatehouse.example.com"),
            ComposedMail {
                subject: "Old subject".to_owned(),
                text: "Old body".to_owned(),
            }
        );
    }

    fn assert_no_secrets(mail: &ComposedMail) {
        for secret in ["s3cret", "token=abc"] {
            assert!(!mail.subject.contains(secret), "{}", mail.subject);
            assert!(!mail.text.contains(secret), "{}", mail.text);
        }
    }

    #[test]
    fn compose_exception_with_retry_says_when_and_which_attempt() {
        let mail = compose(&notification(NotificationKind::Exception));
        assert_eq!(
            mail.subject,
            "[Gatehouse] Webhook “Sync to CRM” failed: HTTP 503"
        );
        assert!(
            mail.text
                .contains("The call will be retried at 2025-03-04 05:06:07 UTC (attempt 4 of 10).")
        );
        assert!(mail.text.contains("Attempt:  3 of 10"));
        assert!(mail.text.contains("person.update"));
        assert!(
            mail.text
                .contains("https://gatehouse.example.com/deliveries/2")
        );
        assert!(mail.text.contains("https://hook:***@crm.example.com/in?…"));
        assert!(mail.text.contains("failed 7 time(s) in a row"));
        assert!(!mail.text.contains("will not be retried"));
        assert_no_secrets(&mail);
    }

    #[test]
    fn compose_exception_after_last_attempt_says_it_will_not_be_retried() {
        let mut notification = notification(NotificationKind::Exception);
        notification.attempt = 10;
        notification.next_attempt_at = None;
        let mail = compose(&notification);
        assert_eq!(
            mail.subject,
            "[Gatehouse] Webhook “Sync to CRM” failed for good: HTTP 503"
        );
        assert!(
            mail.text
                .contains("The call will not be retried: all 10 attempts failed.")
        );
        assert!(!mail.text.contains("will be retried at"));
        assert_no_secrets(&mail);
    }

    #[test]
    fn compose_disabled_says_why_and_how_to_enable_again() {
        let mut notification = notification(NotificationKind::Disabled);
        notification.consecutive_failures = 20;
        let mail = compose(&notification);
        assert_eq!(
            mail.subject,
            "[Gatehouse] Webhook “Sync to CRM” disabled after 20 failures"
        );
        assert!(
            mail.text
                .contains("was disabled after 20 consecutive failed calls")
        );
        assert!(mail.text.contains(&format!(
            "  PATCH /v1/webhooks/{}\n  {{\"disabled\": false}}\n",
            notification.webhook_id
        )));
        assert!(!mail.text.contains("will be retried"));
        assert_no_secrets(&mail);
    }

    #[test]
    fn compose_hides_the_uri_password_inside_the_failure_text() {
        let mut notification = notification(NotificationKind::Exception);
        notification.failure =
            "error sending request for url (https://hook:s3cret@crm.example.com/in?token=abc)";
        let mail = compose(&notification);
        assert_no_secrets(&mail);
    }

    #[test]
    fn compose_keeps_subject_short_and_on_one_line() {
        let mut notification = notification(NotificationKind::Exception);
        notification.webhook_name =
            "Evil\r\nBcc: victim@example.com and a very long name indeed, longer than sixty";
        notification.failure = "connection refused\nby peer";
        let mail = compose(&notification);
        assert!(!mail.subject.contains(['\r', '\n']), "{}", mail.subject);
        assert!(mail.subject.contains("…"));
        assert!(mail.subject.ends_with("connection refused by peer"));
    }

    #[test]
    fn parse_recipients_accepts_commas_and_newlines_and_drops_duplicates() {
        assert_eq!(
            parse_recipients(" ops@example.com,dev@example.org\r\n\nOPS@example.com ,"),
            Ok(vec![
                "ops@example.com".to_owned(),
                "dev@example.org".to_owned()
            ])
        );
    }

    #[test]
    fn parse_recipients_of_blank_text_is_empty() {
        assert_eq!(parse_recipients(""), Ok(vec![]));
        assert_eq!(parse_recipients(" \n , "), Ok(vec![]));
    }

    #[test]
    fn parse_recipients_reports_every_bad_address() {
        let problems =
            parse_recipients("ok@example.com, not-an-address, Ops <ops@example.com>, a@")
                .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("“not-an-address” is not a valid email address"));
        assert!(problems[1].contains("Ops <ops@example.com>"));
        assert!(problems[2].contains("“a@”"));
    }

    #[test]
    fn parse_recipients_refuses_more_than_ten() {
        let ten: Vec<String> = (0..10).map(|n| format!("u{n}@example.com")).collect();
        assert_eq!(parse_recipients(&ten.join(",")), Ok(ten.clone()));
        let eleven = format!("{},u10@example.com", ten.join(","));
        assert_eq!(
            parse_recipients(&eleven),
            Err(vec!["at most 10 addresses are allowed, got 11".to_owned()])
        );
    }

    #[test]
    fn from_url_errors_name_the_problem_without_the_password() {
        let error = Mailer::from_url("http://user:hunter2@mail.example.com", "a@example.com")
            .unwrap_err()
            .to_string();
        assert!(error.contains("GATEHOUSE_SMTP_URL"), "{error}");
        assert!(error.contains("user:***@mail.example.com"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");

        let error = Mailer::from_url("smtp://user:hunter2@mail.example.com?tls=bogus", "a@b.c")
            .unwrap_err()
            .to_string();
        assert!(error.contains("bogus"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");

        let error = Mailer::from_url("smtp://127.0.0.1:2525", "not an address")
            .unwrap_err()
            .to_string();
        assert!(error.contains("GATEHOUSE_SMTP_FROM"), "{error}");
        assert!(
            !format!(
                "{:?}",
                Mailer::from_url("smtps://u:hunter2@h", "g@h").unwrap()
            )
            .contains("hunter2")
        );
    }

    /// What the test SMTP server received in one session.
    #[derive(Debug, Default)]
    struct Received {
        mail_from: String,
        rcpt_to: Vec<String>,
        data: String,
    }

    /// A one-session SMTP server on 127.0.0.1: just enough of RFC 5321 for lettre.
    async fn smtp_server() -> (u16, tokio::task::JoinHandle<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut received = Received::default();
            write.write_all(b"220 test ESMTP\r\n").await.unwrap();
            while let Some(line) = lines.next_line().await.unwrap() {
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                    b"250-test\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("MAIL FROM:") {
                    received.mail_from = line[10..].trim().to_owned();
                    b"250 OK\r\n"
                } else if upper.starts_with("RCPT TO:") {
                    received.rcpt_to.push(line[8..].trim().to_owned());
                    b"250 OK\r\n"
                } else if upper == "DATA" {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(data_line) = lines.next_line().await.unwrap() {
                        if data_line == "." {
                            break;
                        }
                        received.data.push_str(&data_line);
                        received.data.push_str("\r\n");
                    }
                    b"250 queued\r\n"
                } else if upper == "QUIT" {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 OK\r\n"
                };
                write.write_all(reply).await.unwrap();
            }
            received
        });
        (port, server)
    }

    /// The value of header `name` in `data`, unfolded and with RFC 2047 words decoded.
    fn header(data: &str, name: &str) -> String {
        let (head, _) = data.split_once("\r\n\r\n").unwrap();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        let raw = unfolded
            .split("\r\n")
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .unwrap()[prefix.len()..]
            .to_owned();
        // Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
        let mut bytes = Vec::new();
        let mut previous_encoded = false;
        for (index, word) in raw.split(' ').enumerate() {
            let encoded = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|rest| rest.strip_suffix("?="));
            if index > 0 && !(previous_encoded && encoded.is_some()) {
                bytes.push(b' ');
            }
            match encoded {
                Some(base64) => bytes.extend(STANDARD.decode(base64).unwrap()),
                None => bytes.extend(word.as_bytes()),
            }
            previous_encoded = encoded.is_some();
        }
        String::from_utf8(bytes).unwrap()
    }

    /// The body of `data`, decoded from quoted-printable when so encoded.
    fn body(data: &str) -> String {
        let (head, body) = data.split_once("\r\n\r\n").unwrap();
        if !head
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable")
        {
            return body.to_owned();
        }
        let joined = body.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let mut rest = joined.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            if byte == b'=' && tail.len() >= 2 {
                let hex = std::str::from_utf8(&tail[..2]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                rest = &tail[2..];
            } else {
                bytes.push(byte);
                rest = tail;
            }
        }
        String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
    }

    #[tokio::test]
    async fn send_delivers_envelope_subject_and_body_to_a_real_smtp_server() {
        let (port, server) = smtp_server().await;
        let mailer = Mailer::from_url(
            &format!("smtp://127.0.0.1:{port}"),
            "Gatehouse <gatehouse@example.com>",
        )
        .unwrap();
        let mail = compose(&notification(NotificationKind::Exception));
        let recipients = vec!["ops@example.com".to_owned(), "dev@example.org".to_owned()];

        mailer.send(&recipients, &mail).await.unwrap();

        let received = server.await.unwrap();
        assert_eq!(received.mail_from, "<gatehouse@example.com>");
        assert_eq!(received.rcpt_to, ["<ops@example.com>", "<dev@example.org>"]);
        assert_eq!(header(&received.data, "Subject"), mail.subject);
        let to = header(&received.data, "To");
        assert!(
            to.contains("ops@example.com") && to.contains("dev@example.org"),
            "{to}"
        );
        assert_eq!(header(&received.data, "Auto-Submitted"), "auto-generated");
        assert!(header(&received.data, "Message-ID").starts_with('<'));
        assert_eq!(body(&received.data).trim_end(), mail.text.trim_end());
    }

    #[tokio::test]
    async fn send_to_an_unreachable_server_fails_within_the_timeout() {
        // Bind then drop: nothing listens on the port any more.
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap().port()
        };
        let mailer =
            Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), "gatehouse@localhost").unwrap();
        let mail = compose(&notification(NotificationKind::Disabled));
        let started = Instant::now();
        let error = mailer
            .send(&["ops@example.com".to_owned()], &mail)
            .await
            .unwrap_err();
        assert!(matches!(error, MailError::Send { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(SEND_TIMEOUT_SECS));
    }

    #[tokio::test]
    async fn send_to_a_silent_server_times_out() {
        // Accepts the connection but never greets: only the timeout ends the wait.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _silent = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        let mut mailer =
            Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), "gatehouse@localhost").unwrap();
        mailer.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let error = mailer
            .send(
                &["ops@example.com".to_owned()],
                &compose(&notification(NotificationKind::Exception)),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, MailError::Timeout { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn send_without_recipients_is_refused() {
        let mailer = Mailer::from_url("smtp://127.0.0.1:1", "gatehouse@localhost").unwrap();
        let error = mailer
            .send(&[], &compose(&notification(NotificationKind::Exception)))
            .await
            .unwrap_err();
        assert!(matches!(error, MailError::NoRecipients));
    }
}
