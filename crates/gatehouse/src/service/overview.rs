//! The console's overview for administrators: how deliveries went per hour (24 hours) and per
//! day (30 days), attempt latency, the queue, the webhooks in trouble, the provisioning
//! credential's last use and SCIM changes per day. Every figure reads an aggregate kept as it
//! happens (`RollupStore`) or a bounded list, never the deliveries themselves.

use chrono::{DateTime, Duration, Utc};

use super::{Principal, ServiceError, ServiceResult, Services};
use crate::auth::{Resource, Scope};
use crate::domain::{
    AttemptCounts, Delivery, HourlyAttempts, ProvisioningCredential, ScimChanges, Webhook,
    WebhookId, day_of, hour_of,
};
use crate::store::{ListQuery, QueueStats, WebhookFilter};

/// Hours the hourly chart shows, the current one last.
pub const OVERVIEW_HOURS: i64 = 24;
/// Days the daily charts show, today last.
pub const OVERVIEW_DAYS: i64 = 30;
/// At most this many troubled webhooks are listed.
const TROUBLED_SHOWN: u32 = 100;

/// Attempts of one period, every period present (zeros where nothing was attempted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub counts: AttemptCounts,
}

/// A webhook failing or disabled, with its last delivery (and so its last error).
#[derive(Clone, Debug)]
pub struct TroubledWebhook {
    pub webhook: Webhook,
    pub last_delivery: Option<Delivery>,
}

#[derive(Clone, Debug)]
pub struct Overview {
    pub hourly: Vec<Period>,
    pub daily: Vec<Period>,
    /// The last 24 hours' attempts together (for the latency percentiles).
    pub last_day: AttemptCounts,
    pub queue: QueueStats,
    pub troubled: Vec<TroubledWebhook>,
    pub credential: Option<ProvisioningCredential>,
    pub scim_changes: Vec<ScimChanges>,
}

/// One webhook's last 24 hours.
#[derive(Clone, Debug)]
pub struct WebhookActivity {
    pub hourly: Vec<Period>,
    pub last_day: AttemptCounts,
}

/// `hours` as consecutive periods of `step` from `first`, `count` of them, each summing the
/// hours that fall in it.
fn periods(
    hours: &[HourlyAttempts],
    first: DateTime<Utc>,
    step: Duration,
    count: i64,
) -> Vec<Period> {
    let mut periods: Vec<Period> = (0..count)
        .map(|index| Period {
            start: first + step * i32::try_from(index).unwrap_or(0),
            counts: AttemptCounts::default(),
        })
        .collect();
    for hour in hours {
        let offset = (hour.hour - first)
            .num_seconds()
            .div_euclid(step.num_seconds());
        if let Some(period) = usize::try_from(offset)
            .ok()
            .and_then(|index| periods.get_mut(index))
        {
            period.counts.add(&hour.counts);
        }
    }
    periods
}

fn total(periods: &[Period]) -> AttemptCounts {
    let mut sum = AttemptCounts::default();
    for period in periods {
        sum.add(&period.counts);
    }
    sum
}

impl Services {
    /// The account's overview. For administrators holding `account:read` (as `/v1/status`).
    pub async fn overview(&self, principal: &Principal) -> ServiceResult<Overview> {
        principal.require(Scope::read(Resource::Account))?;
        if !principal.roles.is_administrator() {
            return Err(ServiceError::Forbidden(format!(
                "{} may not read the overview: it is for account and directory administrators",
                principal.person_name
            )));
        }
        let account = &principal.account_id;
        let now = self.clock.now();
        let first_hour = hour_of(now) - Duration::hours(OVERVIEW_HOURS - 1);
        let first_day = day_of(now) - Duration::days(OVERVIEW_DAYS - 1);
        let hours = self.store.hourly_attempts(account, first_day, None).await?;
        let hourly = periods(&hours, first_hour, Duration::hours(1), OVERVIEW_HOURS);
        let daily = periods(&hours, first_day, Duration::days(1), OVERVIEW_DAYS);
        let queue = self.store.account_queue_stats(account, now).await?;
        let webhooks = self
            .store
            .webhooks(
                account,
                WebhookFilter::default(),
                &ListQuery {
                    offset: 0,
                    limit: 1_000,
                    sort: Vec::new(),
                },
            )
            .await?;
        let mut troubled = Vec::new();
        for webhook in webhooks
            .items
            .into_iter()
            .filter(|webhook| webhook.disabled || webhook.consecutive_failures > 0)
            .take(TROUBLED_SHOWN as usize)
        {
            let last_delivery = match webhook.last_delivery_id {
                Some(id) => self.store.delivery(account, id).await?,
                None => None,
            };
            troubled.push(TroubledWebhook {
                webhook,
                last_delivery,
            });
        }
        let credential = self.current_provisioning_credential(account).await?;
        let mut scim_changes: Vec<ScimChanges> = (0..OVERVIEW_DAYS)
            .map(|index| ScimChanges {
                day: first_day + Duration::days(index),
                ..ScimChanges::default()
            })
            .collect();
        for changes in self.store.scim_changes(account, first_day).await? {
            if let Some(day) = scim_changes.iter_mut().find(|day| day.day == changes.day) {
                *day = changes;
            }
        }
        Ok(Overview {
            last_day: total(&hourly),
            hourly,
            daily,
            queue,
            troubled,
            credential,
            scim_changes,
        })
    }

    /// One webhook's attempts over the last 24 hours, for its page. Needs `webhooks:read`.
    pub async fn webhook_activity(
        &self,
        principal: &Principal,
        webhook: WebhookId,
    ) -> ServiceResult<WebhookActivity> {
        principal.require(Scope::read(Resource::Webhooks))?;
        let first_hour = hour_of(self.clock.now()) - Duration::hours(OVERVIEW_HOURS - 1);
        let hours = self
            .store
            .hourly_attempts(&principal.account_id, first_hour, Some(webhook))
            .await?;
        let hourly = periods(&hours, first_hour, Duration::hours(1), OVERVIEW_HOURS);
        Ok(WebhookActivity {
            last_day: total(&hourly),
            hourly,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hours_fall_in_their_period_and_every_period_is_there() {
        let first = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .expect("time");
        let at = |hours: i64, succeeded: u64| HourlyAttempts {
            hour: first + Duration::hours(hours),
            counts: AttemptCounts {
                succeeded,
                ..AttemptCounts::default()
            },
        };
        let hours = [
            at(-1, 100),
            at(0, 1),
            at(5, 2),
            at(23, 3),
            at(24, 4),
            at(49, 5),
        ];
        let days = periods(&hours, first, Duration::days(1), 2);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].counts.succeeded, 6, "hours 0 to 23");
        assert_eq!(
            days[1].counts.succeeded, 4,
            "hour 24; 49 is past the last day"
        );
        let by_hour = periods(&hours, first, Duration::hours(1), 3);
        assert_eq!(
            by_hour
                .iter()
                .map(|period| period.counts.succeeded)
                .collect::<Vec<_>>(),
            [1, 0, 0]
        );
        assert_eq!(by_hour[2].start, first + Duration::hours(2));
    }
}
