//! The events Gatehouse appends to its outbox, with what each means, and the rules for the
//! names webhooks listen to: a catalog name, a trailing wildcard over a namespace
//! (`person.*`, beyond Xurrent), or a custom event another application publishes
//! (`app.invoice.paid`), which may not borrow a catalog namespace.

use std::fmt;

/// One event of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogEvent {
    pub name: &'static str,
    pub description: &'static str,
}

const fn event(name: &'static str, description: &'static str) -> CatalogEvent {
    CatalogEvent { name, description }
}

/// Every event Gatehouse itself appends, grouped by namespace. Webhook and webhook policy
/// events are listed ahead of the commands that will append them, so subscriptions can be
/// made once.
pub const CATALOG: &[CatalogEvent] = &[
    event(
        "person.create",
        "A person was created, by hand or by SCIM provisioning.",
    ),
    event(
        "person.update",
        "A person's name, email, roles or status changed.",
    ),
    event(
        "personal_access_token.create",
        "A personal access token was created.",
    ),
    event(
        "personal_access_token.update",
        "The owner of a personal access token renamed it, described it or narrowed its scopes.",
    ),
    event(
        "personal_access_token.revoke",
        "A personal access token was revoked.",
    ),
    event(
        "scim_token.create",
        "An account administrator created the account's SCIM provisioning credential.",
    ),
    event(
        "scim_token.rotate",
        "The SCIM provisioning credential got a new secret; the old one works for the overlap.",
    ),
    event(
        "scim_token.revoke",
        "The SCIM provisioning credential was revoked: none of its secrets works any more.",
    ),
    event(
        "scim_user.create",
        "The provisioning client created a SCIM User.",
    ),
    event(
        "scim_user.update",
        "The provisioning client changed a SCIM User (PUT or PATCH).",
    ),
    event(
        "scim_user.delete",
        "The provisioning client deleted a SCIM User; its person is disabled.",
    ),
    event(
        "scim_group.create",
        "The provisioning client created a SCIM Group.",
    ),
    event(
        "scim_group.update",
        "The provisioning client changed a SCIM Group or its members.",
    ),
    event(
        "scim_group.delete",
        "The provisioning client deleted a SCIM Group.",
    ),
    event("webhook.create", "A webhook was created."),
    event(
        "webhook.update",
        "A webhook's event, URI, policy or state changed.",
    ),
    event("webhook.delete", "A webhook was deleted."),
    event(
        "webhook.verify",
        "Sent to a webhook's URI to prove its owner controls it.",
    ),
    event(
        "webhook.exception",
        "A delivery failed and will be retried.",
    ),
    event(
        "webhook.disabled",
        "A webhook was disabled after 20 consecutive failed attempts.",
    ),
    event("webhook_policy.create", "A webhook policy was created."),
    event("webhook_policy.update", "A webhook policy changed."),
    event("webhook_policy.delete", "A webhook policy was deleted."),
    event(
        "webhook_policy.rotate",
        "A webhook policy's signing key was rotated.",
    ),
];

/// The longest event name accepted.
pub const EVENT_NAME_MAX_LENGTH: usize = 100;

/// What a webhook listens to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventPattern {
    /// One event, from the catalog or custom.
    Exact(String),
    /// Every event of a namespace: `person.*` matches `person.create` and `person.update`.
    Namespace(String),
}

impl EventPattern {
    /// Reads what a webhook's `event` field says.
    pub fn parse(text: &str) -> Result<Self, EventNameError> {
        match text.strip_suffix(".*") {
            Some(namespace) => {
                check_segments(namespace, text)?;
                Ok(Self::Namespace(namespace.to_owned()))
            }
            None => {
                check_segments(text, text)?;
                if !is_cataloged(text) && is_reserved(text) {
                    return Err(EventNameError::new(
                        text,
                        "is not in the event catalog, and its namespace belongs to Gatehouse",
                    ));
                }
                Ok(Self::Exact(text.to_owned()))
            }
        }
    }

    pub fn matches(&self, event: &str) -> bool {
        match self {
            Self::Exact(name) => name == event,
            Self::Namespace(namespace) => event
                .strip_prefix(namespace.as_str())
                .is_some_and(|rest| rest.starts_with('.')),
        }
    }

    /// Every pattern that `matches` `event`, as a webhook's `event` field writes it: the name
    /// itself and each of its namespaces (`app.invoice.paid`: `app.invoice.paid`,
    /// `app.invoice.*`, `app.*`). A store finds the webhooks listening for an event by these
    /// texts, with an index, instead of testing every webhook's pattern.
    pub fn matching(event: &str) -> Vec<String> {
        let mut patterns = vec![event.to_owned()];
        patterns.extend(
            event
                .match_indices('.')
                .map(|(end, _)| format!("{}.*", &event[..end])),
        );
        patterns
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(name) => formatter.write_str(name),
            Self::Namespace(namespace) => write!(formatter, "{namespace}.*"),
        }
    }
}

/// Checks the name of a custom event another application publishes (`POST /v1/events`): one
/// or more dot-separated segments (Xurrent has `automation_rule` and `request.status-changed`),
/// none of them in Gatehouse's own namespaces.
pub fn check_custom_event_name(name: &str) -> Result<(), EventNameError> {
    check_segments(name, name)?;
    if is_reserved(name) {
        return Err(EventNameError::new(
            name,
            "uses a namespace Gatehouse appends its own events under; pick your application's own, such as app.invoice.paid",
        ));
    }
    Ok(())
}

fn is_cataloged(name: &str) -> bool {
    CATALOG.iter().any(|event| event.name == name)
}

/// Whether `name` falls in a namespace the catalog uses.
fn is_reserved(name: &str) -> bool {
    let namespace = name.split('.').next().unwrap_or_default();
    CATALOG
        .iter()
        .any(|event| event.name.split('.').next() == Some(namespace))
}

fn check_segments(name: &str, as_given: &str) -> Result<(), EventNameError> {
    if as_given.len() > EVENT_NAME_MAX_LENGTH {
        return Err(EventNameError::new(
            as_given,
            &format!("is longer than {EVENT_NAME_MAX_LENGTH} characters"),
        ));
    }
    if !name.split('.').all(is_well_formed_segment) {
        return Err(EventNameError::new(
            as_given,
            "must be dot-separated segments of lower-case letters, digits, underscores and inner hyphens (request.status-changed), optionally ending in .*",
        ));
    }
    Ok(())
}

/// A segment of an event name: lower-case letters, digits and underscores, with hyphens inside
/// it as Xurrent writes them (`status-changed`), not at either end.
fn is_well_formed_segment(segment: &str) -> bool {
    !segment.is_empty()
        && !segment.starts_with('-')
        && !segment.ends_with('-')
        && segment.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
        })
}

/// Why an event name or pattern is refused; the message quotes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event {name:?} {reason}")]
pub struct EventNameError {
    name: String,
    reason: String,
}

impl EventNameError {
    fn new(name: &str, reason: &str) -> Self {
        let shown: String = name.chars().take(EVENT_NAME_MAX_LENGTH).collect();
        Self {
            name: shown,
            reason: reason.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_lists_exactly_the_patterns_that_match() {
        assert_eq!(
            EventPattern::matching("app.invoice.paid"),
            ["app.invoice.paid", "app.*", "app.invoice.*"]
        );
        assert_eq!(
            EventPattern::matching("automation_rule"),
            ["automation_rule"]
        );
        let event = "request.status-changed.v2";
        let candidates = [
            "request.status-changed.v2",
            "request.*",
            "request.status-changed.*",
            "request.status-changed.v2.*",
            "request.status.*",
            "req.*",
            "request",
            "request.status-changed",
            "automation_rule",
        ];
        for candidate in candidates {
            let pattern = EventPattern::parse(candidate).expect(candidate);
            assert_eq!(
                EventPattern::matching(event).contains(&candidate.to_owned()),
                pattern.matches(event),
                "{candidate}"
            );
        }
    }

    #[test]
    fn the_catalog_holds_every_event_the_service_appends_once() {
        let mut names: Vec<&str> = CATALOG.iter().map(|event| event.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "no duplicates");
        for appended in [
            "person.create",
            "person.update",
            "personal_access_token.create",
            "personal_access_token.revoke",
            "scim_user.create",
            "scim_user.update",
            "scim_user.delete",
            "scim_group.create",
            "scim_group.update",
            "scim_group.delete",
        ] {
            assert!(names.contains(&appended), "{appended}");
        }
        for event in CATALOG {
            assert_eq!(
                EventPattern::parse(event.name),
                Ok(EventPattern::Exact(event.name.to_owned()))
            );
            assert!(event.description.ends_with('.'), "{}", event.name);
        }
    }

    #[test]
    fn namespace_patterns_match_their_namespace_only() {
        let person = EventPattern::parse("person.*").expect("pattern");
        assert!(person.matches("person.create"));
        assert!(person.matches("person.update"));
        assert!(
            !person.matches("personal_access_token.create"),
            "a prefix is not a namespace"
        );
        assert!(!person.matches("person"));
        let invoices = EventPattern::parse("app.invoice.*").expect("pattern");
        assert!(invoices.matches("app.invoice.paid"));
        assert!(!invoices.matches("app.invoices.paid"));
        assert_eq!(invoices.to_string(), "app.invoice.*");
        let everything_of_app = EventPattern::parse("app.*").expect("pattern");
        assert!(everything_of_app.matches("app.invoice.paid"));
        let exact = EventPattern::parse("scim_user.create").expect("pattern");
        assert!(exact.matches("scim_user.create") && !exact.matches("scim_user.update"));
    }

    #[test]
    fn custom_events_live_outside_gatehouse_namespaces() {
        assert_eq!(check_custom_event_name("app.invoice.paid"), Ok(()));
        assert_eq!(check_custom_event_name("billing.v2_ready"), Ok(()));
        let error = check_custom_event_name("person.fired").expect_err("reserved");
        assert!(error.to_string().contains("namespace Gatehouse"), "{error}");
        assert!(
            EventPattern::parse("person.fired").is_err(),
            "not in the catalog"
        );
        assert!(EventPattern::parse("app.invoice.paid").is_ok());
    }

    #[test]
    fn xurrent_event_names_are_valid_custom_events() {
        for name in [
            "request.status-changed",
            "app_instance.secrets-update",
            "automation_rule",
            "task.x-1-y",
        ] {
            assert_eq!(check_custom_event_name(name), Ok(()), "{name}");
            assert_eq!(
                EventPattern::parse(name),
                Ok(EventPattern::Exact(name.to_owned()))
            );
        }
        assert!(EventPattern::parse("request.*").is_ok());
        for reserved in ["person", "webhook", "scim_user"] {
            let error = check_custom_event_name(reserved).expect_err(reserved);
            assert!(error.to_string().contains("namespace Gatehouse"), "{error}");
        }
        for bad in ["request.-changed", "request.changed-", "-request", "a.b--"] {
            let error = check_custom_event_name(bad).expect_err(bad);
            assert!(error.to_string().contains("inner hyphens"), "{error}");
        }
    }

    #[test]
    fn malformed_names_are_refused_with_the_rule() {
        for bad in [
            "",
            "Person.create",
            "person..create",
            "person.create.",
            "a b.c",
            "*",
            "person.*.x",
            ".*",
        ] {
            assert!(EventPattern::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("app.{}", "x".repeat(EVENT_NAME_MAX_LENGTH));
        assert!(
            check_custom_event_name(&long)
                .expect_err("long")
                .to_string()
                .contains("longer than 100")
        );
        let error = EventPattern::parse("Person.Create").expect_err("case");
        assert!(error.to_string().contains("lower-case"), "{error}");
    }
}
