//! Log output: `SPEAKNODE_LOG` filters (tracing syntax, default `info`), `SPEAKNODE_LOG_FORMAT`
//! picks `pretty` (human lines, coloured only on a terminal) or `json` (one JSON object per
//! line, for log shippers). Logs go to stderr; nothing secret is ever a field of a log line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    /// Reads `SPEAKNODE_LOG_FORMAT` (unset or empty: `pretty`).
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("SPEAKNODE_LOG_FORMAT") {
            Err(_) => Ok(Self::Pretty),
            Ok(value) => Self::parse(&value),
        }
    }

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.trim() {
            "" | "pretty" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            other => Err(ConfigError {
                setting: "SPEAKNODE_LOG_FORMAT",
                reason: format!("{other:?} must be pretty or json"),
            }),
        }
    }
}

/// Installs the process's log subscriber. `default_level` applies when `SPEAKNODE_LOG` is unset.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_env("SPEAKNODE_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_format_is_pretty_or_json_and_nothing_else() {
        assert_eq!(LogFormat::parse("").unwrap(), LogFormat::Pretty);
        assert_eq!(LogFormat::parse("json").unwrap(), LogFormat::Json);
        let error = LogFormat::parse("yaml").unwrap_err().to_string();
        assert_eq!(
            error,
            r#"invalid SPEAKNODE_LOG_FORMAT: "yaml" must be pretty or json"#
        );
    }
}
