//! Settings: one place for every knob, its flag, its `GATEHOUSE_*` variable and its default.
//! A flag wins over the environment, which wins over the default. The README's configuration
//! table is checked against these definitions by a test.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://gatehouse-data/gatehouse.db";

/// Where the data lives; every command that touches the database takes it.
#[derive(Args, Clone, Debug)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (the embedded default, created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// SQLite only: `full` (the default) makes every commit wait for the disk, so an event
    /// answered `202` survives a power loss; `normal` skips that wait (a process crash still
    /// loses nothing, a power loss may drop the last commits).
    #[arg(
        long,
        env = "GATEHOUSE_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value_t = crate::store::SqliteSynchronous::Full,
        global = true
    )]
    pub sqlite_synchronous: crate::store::SqliteSynchronous,
    #[command(flatten)]
    pub secret_key: SecretKeySettings,
}

pub const DEFAULT_SECRET_KEY_FILE: &str = "gatehouse-data/secret.key";

/// The server key that encrypts webhook policies' private keys and webhook signing secrets at
/// rest. Losing it makes them unreadable: policies must be rotated and secrets replaced.
#[derive(Args, Clone, Debug)]
pub struct SecretKeySettings {
    /// The server key, standard base64 of 32 bytes (`openssl rand -base64 32`). Every node
    /// sharing one PostgreSQL database needs the same key. When unset, the key file is used.
    #[arg(
        long,
        env = "GATEHOUSE_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,
    /// Where the server key is kept when `GATEHOUSE_SECRET_KEY` is unset; created (mode 0600)
    /// on first start. Default: `secret.key` beside the SQLite database, or
    /// `gatehouse-data/secret.key` with PostgreSQL. Back it up with the database.
    #[arg(long, env = "GATEHOUSE_SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<std::path::PathBuf>,
}

impl SecretKeySettings {
    /// The key file to use with `database_url`.
    pub fn key_file(&self, database_url: &str) -> std::path::PathBuf {
        if let Some(file) = &self.secret_key_file {
            return file.clone();
        }
        let sqlite_folder = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|path| path.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty() && !path.starts_with(':'))
            .map(|path| {
                std::path::Path::new(path)
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default()
            });
        match sqlite_folder {
            Some(folder) => folder.join("secret.key"),
            None => std::path::PathBuf::from(DEFAULT_SECRET_KEY_FILE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(file: Option<&str>) -> SecretKeySettings {
        SecretKeySettings {
            secret_key: None,
            secret_key_file: file.map(std::path::PathBuf::from),
        }
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database_by_default() {
        assert_eq!(
            settings(None).key_file("sqlite:///var/lib/gatehouse/gatehouse.db?mode=rwc"),
            std::path::PathBuf::from("/var/lib/gatehouse/secret.key")
        );
        assert_eq!(
            settings(None).key_file(DEFAULT_DATABASE_URL),
            std::path::PathBuf::from("gatehouse-data/secret.key")
        );
        assert_eq!(
            settings(None).key_file("postgres://gatehouse@db/gatehouse"),
            std::path::PathBuf::from(DEFAULT_SECRET_KEY_FILE)
        );
        assert_eq!(
            settings(Some("/etc/gatehouse.key")).key_file("sqlite://x/y.db"),
            std::path::PathBuf::from("/etc/gatehouse.key")
        );
    }
}

#[derive(Args, Clone, Debug)]
pub struct LogSettings {
    /// A tracing filter: `info`, `debug`, `gatehouse=debug,sqlx=warn`, …
    #[arg(
        long,
        env = "GATEHOUSE_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub log_level: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `gatehouse serve`.
#[derive(Args, Clone, Debug)]
pub struct ServeSettings {
    /// Address and port to listen on.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The public URL of this service, used in links (`Link` headers, SCIM `meta.location`).
    /// Defaults to `http://` + the listen address.
    #[arg(long, env = "GATEHOUSE_BASE_URL")]
    pub base_url: Option<String>,
    /// Requests per minute one token may make; 0 turns rate limiting off.
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_PER_MINUTE", default_value_t = 1200)]
    pub rate_limit_per_minute: u32,
    /// How long a token's credential, and the account a request acts in, may be served from
    /// memory. Changes made through this process (or, on PostgreSQL, any process) apply at once
    /// regardless; this bounds only what nothing signals, such as the admin CLI writing a SQLite
    /// file. 0 turns both caches off.
    #[arg(long, env = "GATEHOUSE_CREDENTIAL_CACHE_TTL_SECS", default_value_t = 2)]
    pub credential_cache_ttl_secs: u64,
    /// How long a web console session may sit unused before it ends (sessions end 12 hours
    /// after sign-in however active).
    #[arg(long, env = "GATEHOUSE_CONSOLE_IDLE_TIMEOUT_MINS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub console_idle_timeout_mins: u32,
    /// How often the server purges what accounts no longer keep (their
    /// `delivery_retention_days`), in seconds: 10 to 86400.
    #[arg(long, env = "GATEHOUSE_PURGE_INTERVAL_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub purge_interval_secs: u64,
    /// Benchmarks only (hidden): purge what was created more than this many seconds ago,
    /// whatever the accounts' retention, so that a run of minutes sees purges.
    #[arg(long, env = "GATEHOUSE_BENCH_RETENTION_SECS", hide = true)]
    pub bench_retention_secs: Option<u64>,
    /// How long shutdown waits for requests in flight after SIGTERM/SIGINT.
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    #[command(flatten)]
    pub delivery: DeliverySettings,
}

/// How webhooks are sent.
#[derive(Args, Clone, Debug)]
pub struct DeliverySettings {
    /// Whether this process sends webhooks; turn off for API-only nodes.
    #[arg(long, env = "GATEHOUSE_DELIVERY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub delivery_enabled: bool,
    /// How long one attempt may take (connect, send, response); a 2xx within it succeeds.
    #[arg(long, env = "GATEHOUSE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Let webhooks reach loopback, private, link-local and other internal addresses (for
    /// development and tests; the SSRF guard refuses them otherwise).
    #[arg(long, env = "GATEHOUSE_ALLOW_PRIVATE_TARGETS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_targets: bool,
    /// Comma-separated CIDRs webhooks may reach even though they are internal, e.g.
    /// `10.1.0.0/16,fd00::/8`.
    #[arg(long, env = "GATEHOUSE_ALLOWED_TARGET_NETWORKS", value_delimiter = ',')]
    pub allowed_target_networks: Vec<crate::delivery::ssrf::Network>,
    /// Attempts in flight at once in this process.
    #[arg(long, env = "GATEHOUSE_DELIVERY_CONCURRENCY", default_value_t = 512)]
    pub delivery_concurrency: usize,
    /// Attempts in flight at once to one webhook, so a slow receiver can't hold up the rest.
    #[arg(
        long,
        env = "GATEHOUSE_DELIVERY_CONCURRENCY_PER_WEBHOOK",
        default_value_t = 32
    )]
    pub delivery_concurrency_per_webhook: usize,
    /// How often to look for due deliveries when nothing signals new ones.
    #[arg(
        long,
        env = "GATEHOUSE_DELIVERY_POLL_INTERVAL_MS",
        default_value_t = 1000
    )]
    pub delivery_poll_interval_ms: u64,
    /// The `instance_name` webhook messages carry.
    #[arg(long, env = "GATEHOUSE_INSTANCE_NAME", default_value = "gatehouse")]
    pub instance_name: String,
    /// Where exception notices are mailed: `smtp://host:port`, `smtp://host?tls=required`,
    /// `smtps://user:password@host`. Without it they are only stored (and shown in the API).
    #[arg(long, env = "GATEHOUSE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The From address of exception notices.
    #[arg(
        long,
        env = "GATEHOUSE_SMTP_FROM",
        default_value = "gatehouse@localhost"
    )]
    pub smtp_from: String,
}

impl ServeSettings {
    pub fn base_url(&self) -> String {
        let base_url = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        base_url.trim_end_matches('/').to_owned()
    }
}
