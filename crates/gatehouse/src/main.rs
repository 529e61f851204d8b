//! The `gatehouse` binary: the server (`serve`) and the admin CLI that works directly on the
//! database, for bootstrap and scripting. Every CLI command prints a human table, or JSON with
//! `--json`.

mod output;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use gatehouse::auth::{RoleSet, ScopeSet};
use gatehouse::config::{DatabaseSettings, DeliverySettings, LogSettings, ServeSettings};
use gatehouse::delivery::mail::Mailer;
use gatehouse::delivery::sender::{SenderSettings, TargetPolicy};
use gatehouse::delivery::signing::ServerKey;
use gatehouse::delivery::worker::{self, WorkerSettings};
use gatehouse::domain::{
    Account, AccountId, DeliveryStatus, PersonId, ScimPatchResponse, TokenId, WebhookId,
};
use gatehouse::http::{AppState, router};
use gatehouse::service::{
    AccountChanges, DEFAULT_BASE_URL, DEFAULT_TOKEN_EXPIRY_DAYS, DeliveryView, NewAccount,
    NewPerson, NewToken, NewWebhook, Pacing, PersonChanges, ProvisioningCredentialView, PurgeScope,
    ServiceError, Services, SystemClock, TokenExpiry, TokenView, WebhookChanges, WebhookView,
};
use gatehouse::store::{
    self, DeliveryFilter, ListQuery, SortDirection, SortField, TokenOwnerFilter, WebhookFilter,
};
use output::Output;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "SCIM provisioning, webhooks and personal access tokens"
)]
struct Cli {
    #[command(flatten)]
    database: DatabaseSettings,
    #[command(flatten)]
    log: LogSettings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (applies migrations first).
    Serve(ServeSettings),
    /// Apply database migrations and exit.
    Migrate,
    /// Accounts: the tenants.
    #[command(subcommand)]
    Account(AccountCommand),
    /// People of an account.
    #[command(subcommand)]
    Person(PersonCommand),
    /// Personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The account's SCIM provisioning credential, which the identity provider holds.
    #[command(subcommand)]
    ScimToken(ScimTokenCommand),
    /// Webhooks of an account (`gatehouse serve` sends their messages).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Copy a SQLite database, consistent as of one moment, while the server keeps running.
    /// Back up the server key file with it (`secret.key` beside the database unless
    /// `--secret-key-file` says otherwise): without it the copy's signing secrets can't be read.
    /// PostgreSQL: use pg_dump (README, Operations).
    Backup {
        /// The new file to write; it must not exist.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Delete now what accounts no longer keep, as every server does every ten minutes:
    /// finished deliveries older than the account's retention with their attempts, the events
    /// none of whose deliveries are left, old notices, ended console sessions, SCIM secrets
    /// stopped 31 days ago.
    Purge {
        /// Only this account (default: every account).
        #[arg(long)]
        account: Option<String>,
        /// Purge what was created before this moment (RFC 3339, e.g. 2026-01-01T00:00:00Z)
        /// instead of before each account's retention. Pending deliveries stay regardless.
        #[arg(long)]
        before: Option<DateTime<Utc>>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; its id is a lowercase slug such as `acme`.
    Create {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change an account's name or settings.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// What a successful SCIM PATCH answers: `resource` (200 with the resource, the
        /// default) or `no-content` (204, as Entra ID's guide prefers).
        #[arg(long, value_parser = parse_scim_patch_response)]
        scim_patch_response: Option<ScimPatchResponse>,
        /// Days finished deliveries, their events and notices are kept: 1 to 3650 (default
        /// 90).
        #[arg(long)]
        delivery_retention_days: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_scim_patch_response(raw: &str) -> Result<ScimPatchResponse, String> {
    ScimPatchResponse::parse(raw).ok_or_else(|| "use resource or no-content".to_owned())
}

#[derive(Subcommand)]
enum PersonCommand {
    /// Create a person (source `manual`).
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// account_administrator, directory_administrator or specialist; repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List an account's people, every page, with roles, source and whether they are disabled.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a person as the operator: break-glass. Works on anyone, SCIM-provisioned people
    /// and administrators included (the next SCIM update may change them again).
    Update {
        #[arg(long)]
        account: String,
        /// The person's primary email, or their id.
        person: String,
        /// Let the person sign in and use their tokens again.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop the person and every token of theirs at once.
        #[arg(long)]
        disable: bool,
        /// Replace the person's roles: account_administrator, directory_administrator or
        /// specialist; repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ScimTokenCommand {
    /// Create the account's SCIM provisioning credential; prints its secret alone on the last
    /// line of stdout, once.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Give the credential a new secret (printed as `create` does); the replaced one keeps
    /// working for the overlap.
    Rotate {
        #[arg(long)]
        account: String,
        /// Days the replaced secret keeps working: 0 to 30.
        #[arg(long, default_value_t = gatehouse::domain::MAX_PROVISIONING_OVERLAP_DAYS)]
        overlap_days: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show the credential (never its secret): made when and by whom, last used.
    Show {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke the credential: no secret of it works any more.
    Revoke {
        #[arg(long)]
        account: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a person; prints the secret alone on stdout, once.
    Create {
        #[arg(long)]
        account: String,
        /// The owner's primary email.
        #[arg(long)]
        person: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// people:read, people:write, personal_access_tokens:read, …; repeatable. None = deny all.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime in days: 7, 30, 60, 90, 180 or 365.
        #[arg(long, default_value_t = DEFAULT_TOKEN_EXPIRY_DAYS)]
        expires_in: u32,
        #[arg(long)]
        json: bool,
    },
    /// List an account's tokens (never their secrets).
    List {
        #[arg(long)]
        account: String,
        /// Only this person's tokens (primary email).
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        account: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// List an account's webhooks, every page.
    List {
        #[arg(long)]
        account: String,
        /// Only disabled webhooks.
        #[arg(long, conflicts_with = "enabled")]
        disabled: bool,
        /// Only enabled webhooks (verified or not).
        #[arg(long)]
        enabled: bool,
        #[arg(long)]
        json: bool,
    },
    /// Create a webhook. It stays unverified, and is sent nothing else, until the owner of the
    /// URI calls the callback in the `webhook.verify` message `gatehouse serve` sends it.
    // The delivery settings are read as `serve` reads them, for the SSRF check of the URI;
    // those that only matter to a running worker are hidden here.
    #[command(
        mut_arg("delivery_enabled", |arg| arg.hide(true)),
        mut_arg("delivery_concurrency", |arg| arg.hide(true)),
        mut_arg("delivery_concurrency_per_webhook", |arg| arg.hide(true)),
        mut_arg("delivery_poll_interval_ms", |arg| arg.hide(true)),
        mut_arg("instance_name", |arg| arg.hide(true)),
        mut_arg("smtp_url", |arg| arg.hide(true)),
        mut_arg("smtp_from", |arg| arg.hide(true)),
    )]
    Create(Box<CreateWebhookArgs>),
    /// Disable a webhook: its pending deliveries wait until it is enabled again.
    Disable {
        #[arg(long)]
        account: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Enable a webhook (also one disabled after repeated failures); its failure count restarts.
    Enable {
        #[arg(long)]
        account: String,
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// A webhook's latest 100 deliveries, newest first.
    Deliveries {
        #[arg(long)]
        account: String,
        id: uuid::Uuid,
        /// pending, succeeded or failed.
        #[arg(long, value_parser = parse_delivery_status)]
        status: Option<DeliveryStatus>,
        #[arg(long)]
        json: bool,
    },
}

/// `webhook create`: the webhook, and the settings `serve` also reads that decide which URIs
/// are accepted and where the verification callback points.
#[derive(Args)]
struct CreateWebhookArgs {
    #[arg(long)]
    account: String,
    /// A catalog event (`scim_user.create`), a namespace wildcard (`person.*`) or a custom
    /// event (`app.invoice.paid`).
    #[arg(long)]
    event: String,
    /// Where messages are POSTed (http or https).
    #[arg(long)]
    uri: String,
    /// Defaults to the event.
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// Comma-separated addresses told about failures; default: every account administrator.
    #[arg(long)]
    mail_exceptions_to: Option<String>,
    /// Deliver strictly in event order, one message at a time.
    #[arg(long)]
    ordered: bool,
    /// At most this many attempts per second (per `serve` process).
    #[arg(long)]
    rate_limit_per_second: Option<u32>,
    /// Create it disabled: it is sent nothing but its verification message.
    #[arg(long)]
    disabled: bool,
    /// The public URL of `gatehouse serve`; the verification callback starts with it.
    #[arg(long, env = "GATEHOUSE_BASE_URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
    #[command(flatten)]
    delivery: DeliverySettings,
    #[arg(long)]
    json: bool,
}

fn parse_delivery_status(raw: &str) -> Result<DeliveryStatus, String> {
    DeliveryStatus::parse(raw).ok_or_else(|| "use pending, succeeded or failed".to_owned())
}

/// mimalloc instead of the C library's allocator: the delivery path allocates and frees many
/// small buffers across threads, where glibc's malloc spent about a quarter of the server's CPU
/// (BENCHMARKS.md, "Black-box delivery"). Its `override` feature serves SQLite's C allocations
/// too; `.cargo/config.toml` makes its arenas commit lazily.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    gatehouse::telemetry::init(&cli.log);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            // "Validation failed" says nothing by itself: name every problem.
            if let Some(ServiceError::Invalid { errors, .. }) = error.downcast_ref()
                && errors.len() > 1
            {
                for problem in errors {
                    eprintln!("  - {problem}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = store::connect(&cli.database.database_url, cli.database.sqlite_synchronous)
        .await
        .with_context(|| format!("opening {}", store::redact_url(&cli.database.database_url)))?;
    // `serve` applies them itself once it listens, so that `/readyz` can say it is migrating.
    let migration = match cli.command {
        Command::Serve(_) => store::MigrationReport::default(),
        _ => store.migrate().await.context("applying migrations")?,
    };
    let server_key = || -> anyhow::Result<ServerKey> {
        let settings = &cli.database.secret_key;
        match &settings.secret_key {
            Some(key) => ServerKey::from_base64(key).context("GATEHOUSE_SECRET_KEY"),
            None => ServerKey::load_or_create(&settings.key_file(&cli.database.database_url))
                .context("GATEHOUSE_SECRET_KEY_FILE"),
        }
    };
    let cli_services = |store| -> anyhow::Result<Services> {
        Ok(Services::new(store, Arc::new(SystemClock)).with_server_key(server_key()?))
    };
    match cli.command {
        Command::Serve(settings) => {
            let cache_ttl = Duration::from_secs(settings.credential_cache_ttl_secs);
            let services =
                Services::with_credential_cache_ttl(store, Arc::new(SystemClock), cache_ttl)
                    .with_server_key(server_key()?)
                    .with_base_url(&settings.base_url())
                    .with_sender(sender_settings(&settings.delivery))
                    .with_console_idle_timeout(chrono::Duration::minutes(i64::from(
                        settings.console_idle_timeout_mins,
                    )));
            services.follow_credential_changes();
            serve(services, settings).await
        }
        Command::Migrate => {
            if let Some((from, to)) = migration.keys_refolded {
                eprintln!("comparison keys recomputed (fold version {from} to {to})");
            }
            // Look-alike identities the new fold found: the service keeps working, but an
            // operator should have each later one renamed in its identity provider.
            for clash in &migration.key_clashes {
                eprintln!("look-alike identities: {clash}");
            }
            eprintln!(
                "migrations applied: schema version {}",
                store.schema_version().await?
            );
            Ok(())
        }
        Command::Account(command) => account(&cli_services(store)?, command).await,
        Command::Person(command) => person(&cli_services(store)?, command).await,
        Command::Token(command) => token(&cli_services(store)?, command).await,
        Command::ScimToken(command) => scim_token(&cli_services(store)?, command).await,
        Command::Webhook(command) => webhook(cli_services(store)?, command).await,
        Command::Backup { to } => {
            if to.exists() {
                anyhow::bail!("{} exists: choose a new file", to.display());
            }
            store
                .back_up(&to)
                .await
                .with_context(|| format!("backing up to {}", to.display()))?;
            let bytes = std::fs::metadata(&to).map(|meta| meta.len()).unwrap_or(0);
            let key = match &cli.database.secret_key.secret_key {
                Some(_) => "the server key (GATEHOUSE_SECRET_KEY)".to_owned(),
                None => format!(
                    "the server key file {}",
                    cli.database
                        .secret_key
                        .key_file(&cli.database.database_url)
                        .display()
                ),
            };
            println!("{}", to.display());
            eprintln!(
                "backed up {bytes} bytes to {}; keep {key} with it",
                to.display()
            );
            Ok(())
        }
        Command::Purge {
            account,
            before,
            json,
        } => purge(&cli_services(store)?, account, before, json).await,
    }
}

async fn purge(
    services: &Services,
    account: Option<String>,
    before: Option<DateTime<Utc>>,
    json: bool,
) -> anyhow::Result<()> {
    if let Some(before) = before
        && before > Utc::now()
    {
        anyhow::bail!("--before {before} is in the future: nothing can be older than now");
    }
    let scope = PurgeScope {
        account: account.as_deref().map(account_id).transpose()?,
        before,
    };
    let report = services.purge(&scope, Pacing::AT_ONCE).await?;
    Output::new(json).purge_report(&report)
}

/// How webhooks are sent, from the settings.
fn sender_settings(delivery: &DeliverySettings) -> SenderSettings {
    SenderSettings {
        timeout: Duration::from_secs(delivery.webhook_timeout_secs.max(1)),
        targets: TargetPolicy {
            allow_private: delivery.allow_private_targets,
            allowed_networks: delivery.allowed_target_networks.clone(),
        },
        // Keep a connection for every attempt that may be in flight to one receiver host: all
        // of them, when many webhooks point at one host (the black-box benchmark, ten webhooks
        // on one receiver, opened 32,073 connections for 50,000 deliveries when this was the
        // per-webhook cap).
        max_idle_per_host: delivery
            .delivery_concurrency
            .max(SenderSettings::default().max_idle_per_host),
        ..SenderSettings::default()
    }
}

/// Starts the delivery worker and its upkeep (unless turned off); both stop when `shutdown`
/// turns true.
fn start_delivery(
    services: &Services,
    settings: &DeliverySettings,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mailer = match &settings.smtp_url {
        Some(url) => Some(Arc::new(
            Mailer::from_url(url, &settings.smtp_from).context("GATEHOUSE_SMTP_URL")?,
        )),
        None => None,
    };
    let mut tasks = vec![tokio::spawn(worker::run_upkeep(
        services.clone(),
        mailer,
        shutdown.clone(),
    ))];
    if settings.delivery_enabled {
        let worker_settings = WorkerSettings {
            max_in_flight: settings.delivery_concurrency.max(1),
            max_in_flight_per_webhook: settings.delivery_concurrency_per_webhook.max(1),
            poll_interval: Duration::from_millis(settings.delivery_poll_interval_ms.max(10)),
            instance_name: settings.instance_name.clone(),
            ..WorkerSettings::default()
        };
        tasks.push(tokio::spawn(worker::run(
            services.clone(),
            worker_settings,
            shutdown.clone(),
        )));
    }
    Ok(tasks)
}

/// Listens first and applies migrations next, so that an orchestrator sees the process up
/// (`/healthz`) but not ready (`/readyz` 503) while they run; then starts delivering.
async fn serve(services: Services, settings: ServeSettings) -> anyhow::Result<()> {
    let state = AppState::new(
        services.clone(),
        &settings.base_url(),
        settings.rate_limit_per_minute,
    )
    .migrating();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        address = %listener.local_addr()?,
        base_url = %settings.base_url(),
        "gatehouse listening; applying migrations"
    );
    let ready = state.clone();
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
    let (signalled_sender, signalled) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = signalled_sender.send(());
    });
    let server = tokio::spawn(async move { server.await });
    services
        .store
        .migrate()
        .await
        .context("applying migrations")?;
    let schema_version = services.store.schema_version().await?;
    ready.set_ready();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        schema_version,
        "gatehouse serving"
    );
    let (stop_delivery, delivery_shutdown) = tokio::sync::watch::channel(false);
    let mut delivery = start_delivery(&services, &settings.delivery, &delivery_shutdown)?;
    delivery.push(tokio::spawn(gatehouse::service::run_retention(
        services.clone(),
        Duration::from_secs(settings.purge_interval_secs),
        settings.bench_retention_secs.map(Duration::from_secs),
        delivery_shutdown.clone(),
    )));
    tokio::select! {
        result = server => result.context("server task")?.context("serving")?,
        () = async {
            let _ = signalled.await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; exiting"),
    }
    // Attempts in flight finish and are recorded; anything not yet sent stays queued.
    let _ = stop_delivery.send(true);
    let _ = tokio::time::timeout(grace, join_all(delivery)).await;
    tracing::info!("stopped");
    Ok(())
}

async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

fn account_id(raw: &str) -> anyhow::Result<AccountId> {
    AccountId::parse(raw).map_err(|error| anyhow::anyhow!("{raw:?}: {error}"))
}

/// The account a command's `--account` argument names.
async fn find_account(services: &Services, raw: &str) -> anyhow::Result<Account> {
    Ok(services.account(&account_id(raw)?).await?)
}

async fn account(services: &Services, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { id, name, json } => {
            let account = services.create_account(NewAccount { id, name }).await?;
            Output::new(json).accounts(&[account])
        }
        AccountCommand::List { json } => Output::new(json).accounts(&services.accounts().await?),
        AccountCommand::Update {
            id,
            name,
            scim_patch_response,
            delivery_retention_days,
            json,
        } => {
            let changes = AccountChanges {
                name,
                scim_patch_response,
                delivery_retention_days,
            };
            let account = services.update_account(&account_id(&id)?, changes).await?;
            Output::new(json).accounts(&[account])
        }
    }
}

async fn person(services: &Services, command: PersonCommand) -> anyhow::Result<()> {
    match command {
        PersonCommand::Create {
            account,
            email,
            name,
            roles,
            json,
        } => {
            let account = find_account(services, &account).await?;
            let roles = RoleSet::parse(&roles)?;
            let new = NewPerson {
                name,
                primary_email: email,
                job_title: None,
                employee_number: None,
                disabled: false,
                roles,
            };
            let person = services.create_person(&account, None, new).await?;
            Output::new(json).people(&[person])
        }
        PersonCommand::List { account, json } => {
            let account = find_account(services, &account).await?;
            let account = &account;
            let people = every_page(|query| async move {
                services.people_as_operator(&account.id, &query).await
            })
            .await?;
            Output::new(json).people(&people)
        }
        PersonCommand::Update {
            account,
            person,
            enable,
            disable,
            roles,
            name,
            json,
        } => {
            let account = find_account(services, &account).await?;
            let target = match uuid::Uuid::parse_str(&person) {
                Ok(id) => PersonId(id),
                Err(_) => services.person_by_email(&account.id, &person).await?.id,
            };
            let changes = PersonChanges {
                name,
                disabled: (enable || disable).then_some(disable),
                roles: if roles.is_empty() {
                    None
                } else {
                    Some(RoleSet::parse(&roles)?)
                },
                ..PersonChanges::default()
            };
            let person = services
                .update_person(None, &account.id, target, changes)
                .await?;
            Output::new(json).people(&[person])
        }
    }
}

async fn token(services: &Services, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            account,
            person,
            name,
            description,
            scopes,
            expires_in,
            json,
        } => {
            let account = find_account(services, &account).await?;
            let owner = services.person_by_email(&account.id, &person).await?;
            let scopes = ScopeSet::parse(&scopes)?;
            let new = NewToken {
                name,
                description,
                scopes,
                expiry: TokenExpiry::InDays(expires_in),
            };
            let created = services.create_token(&account, None, &owner, new).await?;
            let view = TokenView::new(&created.token, services.clock.now());
            Output::new(json).created_token(&view, created.secret.expose())
        }
        TokenCommand::List {
            account,
            person,
            json,
        } => {
            let account = find_account(services, &account).await?;
            let owner = match person {
                Some(email) => TokenOwnerFilter::Person(
                    services.person_by_email(&account.id, &email).await?.id,
                ),
                None => TokenOwnerFilter::Everyone,
            };
            let account = &account;
            let tokens = every_page(|query| async move {
                services.tokens_as_operator(account, owner, &query).await
            })
            .await?;
            let now = services.clock.now();
            let views: Vec<TokenView> = tokens
                .iter()
                .map(|token| TokenView::new(token, now))
                .collect();
            Output::new(json).tokens(&views)
        }
        TokenCommand::Revoke { account, id, json } => {
            let account = find_account(services, &account).await?;
            let token = services
                .revoke_token_as_operator(&account, TokenId(id))
                .await?;
            Output::new(json).tokens(&[TokenView::new(&token, services.clock.now())])
        }
    }
}

async fn scim_token(services: &Services, command: ScimTokenCommand) -> anyhow::Result<()> {
    match command {
        ScimTokenCommand::Create { account, json } => {
            let account = find_account(services, &account).await?;
            let issued = services
                .create_provisioning_credential(&account.id, None)
                .await?;
            Output::new(json).issued_scim_token(
                &ProvisioningCredentialView::new(&issued.credential),
                issued.secret.expose(),
            )
        }
        ScimTokenCommand::Rotate {
            account,
            overlap_days,
            json,
        } => {
            let account = find_account(services, &account).await?;
            let issued = services
                .rotate_provisioning_credential(&account.id, None, overlap_days)
                .await?;
            Output::new(json).issued_scim_token(
                &ProvisioningCredentialView::new(&issued.credential),
                issued.secret.expose(),
            )
        }
        ScimTokenCommand::Show { account, json } => {
            let account = find_account(services, &account).await?;
            let credential = services.provisioning_credential(&account.id, None).await?;
            Output::new(json).scim_token(&ProvisioningCredentialView::new(&credential))
        }
        ScimTokenCommand::Revoke { account } => {
            let account = find_account(services, &account).await?;
            services
                .revoke_provisioning_credential(&account.id, None)
                .await?;
            eprintln!(
                "Revoked the SCIM provisioning credential of account {}.",
                account.id
            );
            Ok(())
        }
    }
}

/// Every record a paged listing holds, read `PAGE` at a time: the CLI prints whole lists.
async fn every_page<T, Fetch, Page>(mut fetch: Fetch) -> Result<Vec<T>, ServiceError>
where
    Fetch: FnMut(ListQuery) -> Page,
    Page: std::future::Future<Output = Result<store::Listing<T>, ServiceError>>,
{
    const PAGE: u32 = 100;
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let query = ListQuery {
            offset,
            limit: PAGE,
            sort: Vec::new(),
        };
        let listing = fetch(query).await?;
        let fetched = listing.items.len();
        items.extend(listing.items);
        if fetched < PAGE as usize {
            return Ok(items);
        }
        offset += u64::from(PAGE);
    }
}

async fn webhook(services: Services, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::List {
            account,
            disabled,
            enabled,
            json,
        } => {
            let account = find_account(&services, &account).await?;
            let filter = WebhookFilter {
                disabled: (disabled || enabled).then_some(disabled),
            };
            let (services, account) = (&services, &account);
            let webhooks = every_page(|query| async move {
                services.webhooks(account, None, filter, &query).await
            })
            .await?;
            let views: Vec<WebhookView> = webhooks.iter().map(WebhookView::new).collect();
            Output::new(json).webhooks(&views)
        }
        WebhookCommand::Create(arguments) => {
            let CreateWebhookArgs {
                account,
                event,
                uri,
                name,
                description,
                mail_exceptions_to,
                ordered,
                rate_limit_per_second,
                disabled,
                base_url,
                delivery,
                json,
            } = *arguments;
            let services = services
                .with_base_url(&base_url)
                .with_sender(sender_settings(&delivery));
            let account = find_account(&services, &account).await?;
            let new = NewWebhook {
                name,
                event,
                uri,
                disabled,
                description,
                webhook_policy_id: None,
                mail_exceptions_to,
                ordered,
                rate_limit_per_second,
                ..NewWebhook::default()
            };
            let created = services.create_webhook(&account, None, new).await?;
            Output::new(json).created_webhook(
                &WebhookView::new(&created.webhook),
                &created.signing_secret,
                &services.base_url,
            )
        }
        WebhookCommand::Disable { account, id, json } => {
            set_webhook_disabled(&services, &account, id, true, json).await
        }
        WebhookCommand::Enable { account, id, json } => {
            set_webhook_disabled(&services, &account, id, false, json).await
        }
        WebhookCommand::Deliveries {
            account,
            id,
            status,
            json,
        } => {
            let account = find_account(&services, &account).await?;
            let filter = DeliveryFilter {
                webhook_id: Some(WebhookId(id)),
                status,
                ..DeliveryFilter::default()
            };
            let query = ListQuery {
                offset: 0,
                limit: 100,
                sort: vec![(SortField::CreatedAt, SortDirection::Descending)],
            };
            let listing = services.deliveries(&account, None, &filter, &query).await?;
            let views: Vec<DeliveryView> = listing.items.iter().map(DeliveryView::new).collect();
            Output::new(json).deliveries(&views)
        }
    }
}

async fn set_webhook_disabled(
    services: &Services,
    account: &str,
    id: uuid::Uuid,
    disabled: bool,
    json: bool,
) -> anyhow::Result<()> {
    let account = find_account(services, account).await?;
    let changes = WebhookChanges {
        disabled: Some(disabled),
        ..WebhookChanges::default()
    };
    let webhook = services
        .update_webhook(&account, None, WebhookId(id), changes)
        .await?;
    Output::new(json).webhooks(&[WebhookView::new(&webhook)])
}
