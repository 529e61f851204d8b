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
    /// How long a token's credential may be served from memory. Changes made through this
    /// process (or, on PostgreSQL, any process) apply at once regardless; this bounds only what
    /// nothing signals, such as the admin CLI writing a SQLite file. 0 turns the cache off.
    #[arg(long, env = "GATEHOUSE_CREDENTIAL_CACHE_TTL_SECS", default_value_t = 2)]
    pub credential_cache_ttl_secs: u64,
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
