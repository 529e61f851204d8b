//! The filter of a deliveries list, read from a query string: one parser for the REST API
//! (`GET /v1/webhook_deliveries`) and the console's deliveries page. The two read the same
//! parameters the same way and differ only in how forgiving they are, which `Sender` says.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{DeliveryStatus, WebhookId};
use crate::store::DeliveryFilter;

/// Who sent the query, and so how it is read and how a problem with it is worded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A REST client: a value is taken as sent (a blank one is refused like any other bad
    /// value), times are RFC 3339, and problems name the query parameter.
    Api,
    /// A console form: browsers submit every field of a form, so a blank value means "any";
    /// times may also be what a `datetime-local` input sends (read as UTC); problems name the
    /// field's label.
    Form,
}

/// What a `datetime-local` input sends: minutes, or seconds when its step asks for them.
const DATETIME_LOCAL_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];

impl Sender {
    /// The value to read, if any: a form's trimmed and only when not blank.
    fn value(self, raw: Option<&str>) -> Option<&str> {
        match self {
            Self::Api => raw,
            Self::Form => raw.map(str::trim).filter(|raw| !raw.is_empty()),
        }
    }

    /// A moment: RFC 3339 from anyone, a `datetime-local` value from a form. `parameter` and
    /// `label` name the value for the API and for a form.
    fn time(self, parameter: &str, label: &str, raw: &str) -> Result<DateTime<Utc>, String> {
        if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
            return Ok(at.with_timezone(&Utc));
        }
        match self {
            Self::Api => Err(format!(
                "{parameter} must be an RFC 3339 date-time such as 2026-11-29T12:00:00Z"
            )),
            Self::Form => DATETIME_LOCAL_FORMATS
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
                .map(|at| at.and_utc())
                .ok_or_else(|| {
                    format!("{label} must be a date and time such as 2026-11-29T12:00 (UTC)")
                }),
        }
    }
}

/// The filter parameters of a deliveries list, as the query string carried them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeliveryFilterParams {
    pub webhook_id: Option<String>,
    pub event: Option<String>,
    pub status: Option<String>,
    pub test_mode: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
}

impl DeliveryFilterParams {
    /// The filter these parameters ask for, or what is wrong with them, worded for `sender`.
    pub fn parse(&self, sender: Sender) -> Result<DeliveryFilter, String> {
        Ok(DeliveryFilter {
            webhook_id: sender
                .value(self.webhook_id.as_deref())
                .map(|raw| {
                    Uuid::parse_str(raw).map(WebhookId).map_err(|_| {
                        match sender {
                            Sender::Api => "webhook_id must be a UUID",
                            Sender::Form => "Webhook must be one of the list",
                        }
                        .to_owned()
                    })
                })
                .transpose()?,
            status: sender
                .value(self.status.as_deref())
                .map(|raw| {
                    DeliveryStatus::parse(raw).ok_or_else(|| {
                        let name = match sender {
                            Sender::Api => "status",
                            Sender::Form => "Status",
                        };
                        format!("{name} must be pending, succeeded or failed")
                    })
                })
                .transpose()?,
            event: sender.value(self.event.as_deref()).map(str::to_owned),
            test_mode: sender
                .value(self.test_mode.as_deref())
                .map(|raw| match raw {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(match sender {
                        Sender::Api => "test_mode must be true or false",
                        Sender::Form => "Test sends must be one of the list",
                    }
                    .to_owned()),
                })
                .transpose()?,
            created_after: sender
                .value(self.created_after.as_deref())
                .map(|raw| sender.time("created_after", "Created after", raw))
                .transpose()?,
            created_before: sender
                .value(self.created_before.as_deref())
                .map(|raw| sender.time("created_before", "Created before", raw))
                .transpose()?,
        })
    }

    /// The parameters as query pairs, blank ones included, for links that keep the filter.
    pub fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("webhook_id", &self.webhook_id),
            ("event", &self.event),
            ("status", &self.status),
            ("test_mode", &self.test_mode),
            ("created_after", &self.created_after),
            ("created_before", &self.created_before),
        ]
        .map(|(name, value)| (name, value.as_deref().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::Query;

    use super::*;

    /// The parameters of `?{query}`, read as the list handlers read them.
    fn params(query: &str) -> DeliveryFilterParams {
        let uri = format!("/deliveries?{query}").parse().expect("uri");
        Query::try_from_uri(&uri).expect("query").0
    }

    #[test]
    fn a_form_reads_datetime_local_and_rfc3339_times_as_utc() {
        let expected = "2026-11-29T12:30:00Z".parse::<DateTime<Utc>>().ok();
        let after = |query| params(query).parse(Sender::Form).unwrap().created_after;
        assert_eq!(after("created_after=2026-11-29T12:30"), expected);
        assert_eq!(after("created_after=2026-11-29T13:30:00%2B01:00"), expected);
        assert_eq!(after("created_after=+"), None);
        assert!(
            params("created_after=yesterday")
                .parse(Sender::Form)
                .unwrap_err()
                .starts_with("Created after must be")
        );
    }

    #[test]
    fn the_api_takes_rfc3339_only_and_refuses_blank_values() {
        assert!(
            params("created_after=2026-11-29T12:30:00Z")
                .parse(Sender::Api)
                .is_ok()
        );
        assert_eq!(
            params("created_after=2026-11-29T12:30")
                .parse(Sender::Api)
                .unwrap_err(),
            "created_after must be an RFC 3339 date-time such as 2026-11-29T12:00:00Z"
        );
        assert_eq!(
            params("status=").parse(Sender::Api).unwrap_err(),
            "status must be pending, succeeded or failed"
        );
        assert_eq!(params("status=").parse(Sender::Form).unwrap().status, None);
    }

    #[test]
    fn test_mode_is_true_false_or_any() {
        let test_mode = |query, sender| params(query).parse(sender).map(|filter| filter.test_mode);
        assert_eq!(test_mode("test_mode=true", Sender::Api), Ok(Some(true)));
        assert_eq!(test_mode("test_mode=false", Sender::Form), Ok(Some(false)));
        assert_eq!(test_mode("test_mode=", Sender::Form), Ok(None));
        assert_eq!(test_mode("", Sender::Api), Ok(None));
        assert_eq!(
            test_mode("test_mode=yes", Sender::Api),
            Err("test_mode must be true or false".to_owned())
        );
    }
}
