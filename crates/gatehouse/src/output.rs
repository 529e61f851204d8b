//! CLI output: an aligned table for people, one JSON document for scripts (`--json`).
//! Results go to stdout, notes to stderr, so `$(gatehouse token create …)` captures the secret
//! and nothing else.

use gatehouse::domain::{Account, Person};
use gatehouse::service::{PersonView, TokenView};
use serde::Serialize;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn accounts(&self, accounts: &[Account]) -> anyhow::Result<()> {
        if self.json {
            return print_json(&accounts);
        }
        let rows = accounts
            .iter()
            .map(|account| {
                vec![
                    account.id.to_string(),
                    account.name.clone(),
                    account.scim_patch_response.as_str().to_owned(),
                    account.created_at.to_rfc3339(),
                ]
            })
            .collect();
        print_table(&["ID", "NAME", "SCIM PATCH RESPONSE", "CREATED"], rows);
        Ok(())
    }

    pub fn people(&self, people: &[Person]) -> anyhow::Result<()> {
        let views: Vec<PersonView> = people.iter().map(PersonView::from).collect();
        if self.json {
            return print_json(&views);
        }
        let rows = views
            .iter()
            .map(|person| {
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
                ]
            })
            .collect();
        print_table(&["ID", "NAME", "EMAIL", "ROLES", "SOURCE"], rows);
        Ok(())
    }

    pub fn tokens(&self, tokens: &[TokenView]) -> anyhow::Result<()> {
        if self.json {
            return print_json(&tokens);
        }
        let rows = tokens
            .iter()
            .map(|token| {
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
            })
            .collect();
        print_table(
            &[
                "ID",
                "NAME",
                "OWNER",
                "SCOPES",
                "STATUS",
                "EXPIRES",
                "LAST USED",
            ],
            rows,
        );
        Ok(())
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
