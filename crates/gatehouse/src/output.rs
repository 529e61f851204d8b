//! CLI output: an aligned table for people, one JSON document for scripts (`--json`).
//! Results go to stdout, notes to stderr, so `$(gatehouse token create …)` captures the secret
//! and nothing else.

use gatehouse::domain::{Account, DeliveryStatus, Person};
use gatehouse::service::{
    DeliveryView, PersonView, ProvisioningCredentialView, PurgeReport, TokenView,
    VERIFICATION_PATH, WebhookView,
};
use serde::Serialize;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints `items` as one JSON array, or as a table under `headers` with one `row` an item.
    fn listing<T: Serialize>(
        &self,
        items: &[T],
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) -> anyhow::Result<()> {
        if self.json {
            return print_json(items);
        }
        print_table(headers, items.iter().map(row).collect());
        Ok(())
    }

    pub fn accounts(&self, accounts: &[Account]) -> anyhow::Result<()> {
        self.listing(
            accounts,
            &[
                "ID",
                "NAME",
                "SCIM PATCH RESPONSE",
                "RETENTION DAYS",
                "CREATED",
            ],
            |account| {
                vec![
                    account.id.to_string(),
                    account.name.clone(),
                    account.scim_patch_response.as_str().to_owned(),
                    account.delivery_retention_days.days().to_string(),
                    account.created_at.to_rfc3339(),
                ]
            },
        )
    }

    pub fn purge_report(&self, report: &PurgeReport) -> anyhow::Result<()> {
        if self.json {
            return print_json(report);
        }
        self.listing(
            std::slice::from_ref(report),
            &[
                "DELIVERIES",
                "ATTEMPTS",
                "EVENTS",
                "NOTIFICATIONS",
                "CONSOLE SESSIONS",
                "VERIFICATION SECRETS",
                "SCIM SECRETS",
                "PAGES RECLAIMED",
                "LONGEST BATCH MS",
            ],
            |report| {
                [
                    report.deliveries,
                    report.attempts,
                    report.events,
                    report.notifications,
                    report.console_sessions,
                    report.verification_secrets,
                    report.provisioning_secrets,
                    report.pages_reclaimed,
                    report.longest_batch_ms,
                ]
                .iter()
                .map(u64::to_string)
                .collect()
            },
        )
    }

    pub fn people(&self, people: &[Person]) -> anyhow::Result<()> {
        let views: Vec<PersonView> = people.iter().map(PersonView::from).collect();
        self.listing(
            &views,
            &["ID", "NAME", "EMAIL", "ROLES", "SOURCE", "STATUS"],
            |person| {
                vec![
                    person.id.to_string(),
                    person.name.clone(),
                    person.primary_email.clone().unwrap_or_default(),
                    person
                        .roles
                        .iter()
                        .map(|role| role.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    person.source.as_str().to_owned(),
                    if person.disabled {
                        "disabled"
                    } else {
                        "enabled"
                    }
                    .to_owned(),
                ]
            },
        )
    }

    pub fn tokens(&self, tokens: &[TokenView]) -> anyhow::Result<()> {
        self.listing(
            tokens,
            &[
                "ID",
                "NAME",
                "OWNER",
                "SCOPES",
                "STATUS",
                "EXPIRES",
                "LAST USED",
            ],
            |token| {
                vec![
                    token.id.to_string(),
                    token.name.clone(),
                    token.person_id.to_string(),
                    token.scopes.to_space_separated(),
                    format!("{:?}", token.status).to_lowercase(),
                    token.expires_at.to_rfc3339(),
                    token
                        .last_used_at
                        .map(|at| at.to_rfc3339())
                        .unwrap_or_else(|| "never".to_owned()),
                ]
            },
        )
    }

    /// The secret alone on stdout (or inside the JSON document), the details on stderr.
    pub fn created_token(&self, token: &TokenView, secret: &str) -> anyhow::Result<()> {
        if self.json {
            #[derive(Serialize)]
            struct Created<'a> {
                #[serde(flatten)]
                token: &'a TokenView,
                token_secret: &'a str,
            }
            return print_json(&Created {
                token,
                token_secret: secret,
            });
        }
        eprintln!(
            "Created token {:?} ({}), expires {}. Store the secret now: it is not shown again.",
            token.name,
            token.id,
            token.expires_at.to_rfc3339()
        );
        println!("{secret}");
        Ok(())
    }

    /// The provisioning credential's details on stderr (or in the JSON document), its new
    /// secret alone on the last line of stdout.
    pub fn issued_scim_token(
        &self,
        credential: &ProvisioningCredentialView,
        secret: &str,
    ) -> anyhow::Result<()> {
        if self.json {
            #[derive(Serialize)]
            struct Issued<'a> {
                #[serde(flatten)]
                credential: &'a ProvisioningCredentialView,
                secret: &'a str,
            }
            return print_json(&Issued { credential, secret });
        }
        eprint!(
            "New SCIM provisioning credential secret {}. Give it to the identity provider now: \
             it is not shown again.",
            credential.id
        );
        match &credential.previous {
            Some(previous) => eprintln!(
                " The previous secret works until {}.",
                previous.expires_at.to_rfc3339()
            ),
            None => eprintln!(),
        }
        println!("{secret}");
        Ok(())
    }

    /// The credential's current secret and, during an overlap, the previous one, a row each.
    pub fn scim_token(&self, credential: &ProvisioningCredentialView) -> anyhow::Result<()> {
        if self.json {
            return print_json(credential);
        }
        let by = |name: &Option<String>| name.clone().unwrap_or_else(|| "command line".to_owned());
        let used = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map_or_else(|| "never".to_owned(), |at| at.to_rfc3339())
        };
        let mut rows = vec![vec![
            "current".to_owned(),
            credential.id.to_string(),
            credential.created_at.to_rfc3339(),
            by(&credential.created_by),
            used(credential.last_used_at),
            "when revoked or rotated".to_owned(),
        ]];
        if let Some(previous) = &credential.previous {
            rows.push(vec![
                "previous".to_owned(),
                previous.secret.id.to_string(),
                previous.secret.created_at.to_rfc3339(),
                by(&previous.secret.created_by),
                used(previous.secret.last_used_at),
                previous.expires_at.to_rfc3339(),
            ]);
        }
        print_table(
            &[
                "SECRET",
                "ID",
                "CREATED",
                "BY",
                "LAST USED",
                "STOPS WORKING",
            ],
            rows,
        );
        Ok(())
    }

    pub fn webhooks(&self, webhooks: &[WebhookView]) -> anyhow::Result<()> {
        self.listing(
            webhooks,
            &["ID", "NAME", "EVENT", "URI", "STATE", "FAILURES", "CREATED"],
            |webhook| {
                vec![
                    webhook.id.to_string(),
                    webhook.name.clone(),
                    webhook.event.clone(),
                    webhook.uri.clone(),
                    json_name(&webhook.state),
                    webhook.consecutive_failures.to_string(),
                    webhook.created_at.to_rfc3339(),
                ]
            },
        )
    }

    /// The new webhook like any listing on stdout, and on stderr what it still waits for.
    pub fn created_webhook(
        &self,
        webhook: &WebhookView,
        signing_secret: &str,
        base_url: &str,
    ) -> anyhow::Result<()> {
        if self.json {
            let mut view = serde_json::to_value(webhook)?;
            if let Some(fields) = view.as_object_mut() {
                fields.insert("signing_secret".to_owned(), signing_secret.into());
            }
            // An array of one, like every other webhook listing the CLI prints.
            print_json(&[view])?;
        } else {
            self.webhooks(std::slice::from_ref(webhook))?;
            eprintln!(
                "Signing secret (Standard Webhooks; administrators can read it again with \
                 GET /v1/webhooks/{}/signing_secret):",
                webhook.id
            );
            println!("{signing_secret}");
        }
        eprintln!(
            "Webhook {:?} ({}) is unverified: it is sent nothing else until the owner of {} \
             calls the callback ({base_url}{VERIFICATION_PATH}/…) in the webhook.verify \
             message, which `gatehouse serve` sends.",
            webhook.name, webhook.id, webhook.uri
        );
        Ok(())
    }

    pub fn deliveries(&self, deliveries: &[DeliveryView]) -> anyhow::Result<()> {
        self.listing(
            deliveries,
            &[
                "ID",
                "EVENT",
                "STATUS",
                "ATTEMPTS",
                "RESPONSE",
                "CREATED",
                "NEXT ATTEMPT",
            ],
            |delivery| {
                vec![
                    delivery.id.to_string(),
                    delivery.event.clone(),
                    delivery.status.as_str().to_owned(),
                    delivery.attempt.to_string(),
                    delivery
                        .response_status
                        .map(|status| status.to_string())
                        .or_else(|| delivery.error.clone())
                        .unwrap_or_default(),
                    delivery.created_at.to_rfc3339(),
                    match (delivery.next_attempt_at, delivery.status) {
                        (Some(at), _) => at.to_rfc3339(),
                        // Waits for the webhook to be enabled and verified again.
                        (None, DeliveryStatus::Pending) => "parked".to_owned(),
                        (None, _) => "-".to_owned(),
                    },
                ]
            },
        )
    }
}

/// An enum's name as its JSON shows it (`unverified`, `failing`).
fn json_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|name| name.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        render(headers.iter().map(|header| (*header).to_owned()).collect())
    );
    for row in rows {
        println!("{}", render(row));
    }
}
