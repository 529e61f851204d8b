//! Logging set-up. Secrets never reach a log line because they never reach a formatter: the
//! secret types redact their `Debug` and have no `Display`, and request headers are not logged.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber, writing to stderr so stdout stays machine-readable for the
/// CLI. Calling it twice is harmless (the second call does nothing).
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
