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
