//! Every setting of `serve`: its default, where it is read from, and its validation. A bad value
//! stops start-up with one line that names the setting.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;

use crate::domain::retry::RetrySchedule;
use crate::domain::sealing::Sealer;

mod portal;
pub use portal::{Logo, MAX_LOGO_BYTES, PortalArgs, PortalConfig};

/// The flags and environment variables of `serve` (and `migrate`), as typed by the operator.
/// Values stay strings here so that [`Config::from_args`] can name the setting in its error.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[arg(long, env = "SPEAKNODE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[arg(
        long,
        env = "SPEAKNODE_DATABASE_URL",
        default_value = "sqlite://speaknode-webhooks.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Run the delivery workers only.
    #[arg(long, conflicts_with = "no_worker")]
    pub no_api: bool,
    /// Run the API and dashboard only.
    #[arg(long)]
    pub no_worker: bool,
    #[arg(long, env = "SPEAKNODE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[arg(long, env = "SPEAKNODE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Base64 of 32 bytes: webhook secrets are encrypted at rest with it.
    #[arg(long, env = "SPEAKNODE_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    #[arg(long, env = "SPEAKNODE_DELIVERY_TIMEOUT", default_value = "5s")]
    pub delivery_timeout: String,
    #[arg(
        long,
        env = "SPEAKNODE_RETRY_SCHEDULE",
        default_value = "5s,5m,30m,2h,5h,10h,10h"
    )]
    pub retry_schedule: String,
    #[arg(long, env = "SPEAKNODE_ALLOW_PRIVATE_TARGETS", default_value = "false")]
    pub allow_private_targets: String,
    #[arg(long, env = "SPEAKNODE_MAX_PAYLOAD_BYTES", default_value = "1048576")]
    pub max_payload_bytes: String,
    #[arg(long, env = "SPEAKNODE_DISABLE_AFTER", default_value = "5d")]
    pub disable_after: String,
    #[arg(long, env = "SPEAKNODE_RETENTION", default_value = "30d")]
    pub retention: String,
    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "SPEAKNODE_DATABASE_MAX_CONNECTIONS", default_value = "16")]
    pub database_max_connections: String,
    /// The database URL goes through a pooler in transaction mode (PgBouncer): no named prepared
    /// statements on it; LISTEN and migrations use SPEAKNODE_DATABASE_LISTEN_URL.
    #[arg(long, env = "SPEAKNODE_DATABASE_POOLED", default_value = "false")]
    pub database_pooled: String,
    /// A direct connection to the same PostgreSQL database (not through a pooler), for LISTEN
    /// and migrations.
    #[arg(long, env = "SPEAKNODE_DATABASE_LISTEN_URL", hide_env_values = true)]
    pub database_listen_url: Option<String>,
    /// How long a claim outlives the delivery timeout; after that, a dead process's deliveries
    /// are taken over by the others.
    #[arg(long, env = "SPEAKNODE_LEASE_MARGIN", default_value = "30s")]
    pub lease_margin: String,
    /// Attempts in flight at once, over all webhooks; a quarter of them is kept for webhooks
    /// that answer promptly.
    #[arg(long, env = "SPEAKNODE_MAX_IN_FLIGHT", default_value = "1024")]
    pub max_in_flight: String,
    /// The most attempts in flight at once to one webhook; each webhook's own limit adapts
    /// below this to how its endpoint answers.
    #[arg(
        long,
        env = "SPEAKNODE_MAX_IN_FLIGHT_PER_WEBHOOK",
        default_value = "32"
    )]
    pub max_in_flight_per_webhook: String,
    /// The most payload bytes the attempts in flight may hold (each event's body counted once).
    #[arg(
        long,
        env = "SPEAKNODE_MAX_IN_FLIGHT_BYTES",
        default_value = "67108864"
    )]
    pub max_in_flight_bytes: String,
    /// An attempt taking longer than this marks its webhook slow: it no longer uses the slots
    /// kept for prompt webhooks until it answers promptly again.
    #[arg(long, env = "SPEAKNODE_SLOW_ATTEMPT", default_value = "1s")]
    pub slow_attempt: String,
    /// API requests per second allowed per API key (burst: 2 seconds' worth); unset: no limit.
    #[arg(long, env = "SPEAKNODE_RATE_LIMIT")]
    pub rate_limit: Option<String>,
    /// Failed dashboard sign-ins allowed per client address per window, as `N/duration`.
    #[arg(long, env = "SPEAKNODE_LOGIN_ATTEMPTS", default_value = "10/10m")]
    pub login_attempts: String,
    /// Every delivery goes through this HTTP(S) forward proxy (`http://[user:pass@]host:port`).
    #[arg(long, env = "SPEAKNODE_PROXY_URL", hide_env_values = true)]
    pub proxy_url: Option<String>,
    #[command(flatten)]
    pub portal: PortalArgs,
}

/// Validated settings.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub database_pooled: bool,
    pub database_listen_url: Option<String>,
    pub run_api: bool,
    pub run_worker: bool,
    pub api_key: Option<String>,
    pub admin_token: Option<String>,
    pub sealer: Sealer,
    pub delivery_timeout: Duration,
    pub retry_schedule: RetrySchedule,
    pub allow_private_targets: bool,
    pub max_payload_bytes: usize,
    pub disable_after: Duration,
    pub retention: Duration,
    pub lease_margin: Duration,
    pub max_in_flight: usize,
    pub max_in_flight_per_webhook: usize,
    pub max_in_flight_bytes: usize,
    pub slow_attempt: Duration,
    /// `SPEAKNODE_RATE_LIMIT`: API requests per second per API key; `None`: no limit.
    pub rate_limit: Option<NonZeroU32>,
    /// `SPEAKNODE_LOGIN_ATTEMPTS`.
    pub login_attempts: LoginAttempts,
    /// `SPEAKNODE_PROXY_URL`, checked: an `http://` or `https://` URL of a host (and port).
    pub proxy_url: Option<String>,
    /// The customer portal: public URL, link lifetime, embedding, branding.
    pub portal: PortalConfig,
}

/// How many failed dashboard sign-ins one client address may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    pub failures: u32,
    pub window: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub reason: String,
}

fn bad(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_args(args: &ServeArgs) -> Result<Self, ConfigError> {
        let listen = args.listen.parse().map_err(|_| {
            bad(
                "SPEAKNODE_LISTEN",
                format!("{:?} is not an address like 127.0.0.1:8080", args.listen),
            )
        })?;
        if let Some(key) = &args.api_key {
            check_api_key(key)?;
        }
        if args
            .admin_token
            .as_deref()
            .is_some_and(|t| t.chars().count() < 16)
        {
            return Err(bad(
                "SPEAKNODE_ADMIN_TOKEN",
                "must be at least 16 characters",
            ));
        }
        if boolean("SPEAKNODE_DATABASE_POOLED", &args.database_pooled)?
            && args.database_listen_url.is_none()
        {
            return Err(bad(
                "SPEAKNODE_DATABASE_POOLED",
                "needs SPEAKNODE_DATABASE_LISTEN_URL, a direct connection for LISTEN and migrations",
            ));
        }
        let delivery_timeout = duration("SPEAKNODE_DELIVERY_TIMEOUT", &args.delivery_timeout)?;
        if delivery_timeout.is_zero() {
            return Err(bad(
                "SPEAKNODE_DELIVERY_TIMEOUT",
                "must be longer than zero",
            ));
        }
        Ok(Self {
            listen,
            database_url: database_url(&args.database_url)?,
            database_max_connections: count(
                "SPEAKNODE_DATABASE_MAX_CONNECTIONS",
                &args.database_max_connections,
            )? as u32,
            database_pooled: boolean("SPEAKNODE_DATABASE_POOLED", &args.database_pooled)?,
            database_listen_url: args
                .database_listen_url
                .as_deref()
                .map(|url| listen_url(url, &args.database_url))
                .transpose()?,
            run_api: !args.no_api,
            run_worker: !args.no_worker,
            api_key: args.api_key.clone(),
            admin_token: args.admin_token.clone(),
            sealer: match &args.encryption_key {
                Some(key) => Sealer::from_base64_key(key)
                    .map_err(|e| bad("SPEAKNODE_ENCRYPTION_KEY", e.to_string()))?,
                None => Sealer::plaintext(),
            },
            delivery_timeout,
            retry_schedule: RetrySchedule::parse(&args.retry_schedule)
                .map_err(|e| bad("SPEAKNODE_RETRY_SCHEDULE", e))?,
            allow_private_targets: boolean(
                "SPEAKNODE_ALLOW_PRIVATE_TARGETS",
                &args.allow_private_targets,
            )?,
            max_payload_bytes: count("SPEAKNODE_MAX_PAYLOAD_BYTES", &args.max_payload_bytes)?,
            disable_after: duration("SPEAKNODE_DISABLE_AFTER", &args.disable_after)?,
            retention: duration("SPEAKNODE_RETENTION", &args.retention)?,
            lease_margin: duration("SPEAKNODE_LEASE_MARGIN", &args.lease_margin)?,
            max_in_flight: count("SPEAKNODE_MAX_IN_FLIGHT", &args.max_in_flight)?,
            max_in_flight_per_webhook: count(
                "SPEAKNODE_MAX_IN_FLIGHT_PER_WEBHOOK",
                &args.max_in_flight_per_webhook,
            )?,
            max_in_flight_bytes: count("SPEAKNODE_MAX_IN_FLIGHT_BYTES", &args.max_in_flight_bytes)?,
            slow_attempt: duration("SPEAKNODE_SLOW_ATTEMPT", &args.slow_attempt)?,
            rate_limit: args
                .rate_limit
                .as_deref()
                .map(rate_limit)
                .transpose()?
                .flatten(),
            login_attempts: login_attempts(&args.login_attempts)?,
            proxy_url: args
                .proxy_url
                .as_deref()
                .map(proxy_url)
                .transpose()?
                .flatten(),
            portal: PortalConfig::from_args(&args.portal)?,
        })
    }

    /// The contract's defaults, ignoring flags and environment: for tests and the benchmark.
    pub fn defaults() -> Result<Self, ConfigError> {
        Self::from_args(&ServeArgs::defaults())
    }
}

impl ServeArgs {
    /// The same values clap fills in when nothing is given.
    pub fn defaults() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://speaknode-webhooks.db".into(),
            no_api: false,
            no_worker: false,
            api_key: None,
            admin_token: None,
            encryption_key: None,
            delivery_timeout: "5s".into(),
            retry_schedule: "5s,5m,30m,2h,5h,10h,10h".into(),
            allow_private_targets: "false".into(),
            max_payload_bytes: "1048576".into(),
            disable_after: "5d".into(),
            retention: "30d".into(),
            database_max_connections: "16".into(),
            database_pooled: "false".into(),
            database_listen_url: None,
            lease_margin: "30s".into(),
            max_in_flight: "1024".into(),
            max_in_flight_per_webhook: "32".into(),
            max_in_flight_bytes: "67108864".into(),
            slow_attempt: "1s".into(),
            rate_limit: None,
            login_attempts: "10/10m".into(),
            proxy_url: None,
            portal: PortalArgs::defaults(),
        }
    }
}

fn check_api_key(key: &str) -> Result<(), ConfigError> {
    if key.chars().count() < 16 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(
            "SPEAKNODE_API_KEY",
            "must be 16 or more printable characters without spaces",
        ));
    }
    Ok(())
}

fn database_url(url: &str) -> Result<String, ConfigError> {
    if url.starts_with("sqlite:") {
        return Ok(url.to_string());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    Err(bad(
        "SPEAKNODE_DATABASE_URL",
        format!(
            "{:?} must start with sqlite:// or postgres://",
            redact_url(url)
        ),
    ))
}

/// The direct connection only makes sense beside a PostgreSQL database URL.
fn listen_url(url: &str, database_url: &str) -> Result<String, ConfigError> {
    let postgres = |u: &str| u.starts_with("postgres://") || u.starts_with("postgresql://");
    if !postgres(url) {
        return Err(bad(
            "SPEAKNODE_DATABASE_LISTEN_URL",
            format!("{:?} must start with postgres://", redact_url(url)),
        ));
    }
    if !postgres(database_url) {
        return Err(bad(
            "SPEAKNODE_DATABASE_LISTEN_URL",
            "is only used with a postgres:// SPEAKNODE_DATABASE_URL",
        ));
    }
    Ok(url.to_string())
}

fn duration(setting: &'static str, text: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        bad(
            setting,
            format!("{text:?} is not a duration like 500ms, 5s, 2h or 5d ({e})"),
        )
    })
}

fn boolean(setting: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(bad(setting, format!("{text:?} is not true or false"))),
    }
}

fn count(setting: &'static str, text: &str) -> Result<usize, ConfigError> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(
            setting,
            format!("{text:?} is not a positive whole number"),
        )),
    }
}

/// `SPEAKNODE_RATE_LIMIT`: a positive whole number of requests per second; empty: no limit.
/// The burst is twice the rate, so it must fit in a `u32` too.
fn rate_limit(text: &str) -> Result<Option<NonZeroU32>, ConfigError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let rate = text
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= u32::MAX / 2);
    match rate.and_then(NonZeroU32::new) {
        Some(n) => Ok(Some(n)),
        None => Err(bad(
            "SPEAKNODE_RATE_LIMIT",
            format!("{text:?} is not a whole number of requests per second from 1 to 2147483647"),
        )),
    }
}

/// `SPEAKNODE_LOGIN_ATTEMPTS`: `N/duration`, like `10/10m`.
fn login_attempts(text: &str) -> Result<LoginAttempts, ConfigError> {
    let setting = "SPEAKNODE_LOGIN_ATTEMPTS";
    let shape = || {
        bad(
            setting,
            format!("{text:?} is not failures per window like 10/10m"),
        )
    };
    let (failures, window) = text.trim().split_once('/').ok_or_else(shape)?;
    let failures = failures
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(shape)?;
    let window = humantime::parse_duration(window.trim()).map_err(|_| shape())?;
    if window.is_zero() {
        return Err(bad(setting, "the window must be longer than zero"));
    }
    Ok(LoginAttempts { failures, window })
}

/// `SPEAKNODE_PROXY_URL`: `http://` or `https://`, a host, an optional port and credentials, and
/// nothing after them; empty: no proxy. Errors never show the password.
fn proxy_url(text: &str) -> Result<Option<String>, ConfigError> {
    let setting = "SPEAKNODE_PROXY_URL";
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let shown = redact_url(text);
    let url =
        url::Url::parse(text).map_err(|e| bad(setting, format!("{shown:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(
            setting,
            format!("{shown:?} must start with http:// or https:// (an HTTP forward proxy)"),
        ));
    }
    if url.host().is_none() {
        return Err(bad(setting, format!("{shown:?} names no host")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            setting,
            format!(
                "{shown:?} must be only a scheme, credentials, host and port, like http://proxy:3128"
            ),
        ));
    }
    reqwest::Proxy::all(url.as_str())
        .map_err(|e| bad(setting, format!("{shown:?} is not a usable proxy ({e})")))?;
    Ok(Some(text.to_string()))
}

/// A database URL with its password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "***");
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("run_api", &self.run_api)
            .field("run_worker", &self.run_worker)
            .field("api_key", &redacted(&self.api_key))
            .field("admin_token", &redacted(&self.admin_token))
            .field("sealer", &self.sealer)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("retry_schedule", &self.retry_schedule)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("login_attempts", &self.login_attempts)
            .field("proxy_url", &self.proxy_url.as_deref().map(redact_url))
            .field("portal", &self.portal)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
