//! Logs: JSON in production, readable lines locally.
//!
//! Conventions (see `docs/operations.md`): dotted fields by entity
//! (`tenant.id`, `request.id`), a failure logged once at its boundary, and
//! never a token, secret, e-mail address or request body.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetrySettings};

/// Installs the global subscriber. Safe to call more than once (later calls
/// are ignored), so tests and commands can share it.
pub fn init(settings: &TelemetrySettings) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
