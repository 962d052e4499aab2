//! `speaknode-webhooks verify`: check the signature of one captured request from the command
//! line, for scripts and for "why does my receiver refuse this?" moments. Exit codes follow the
//! contract: 0 valid, 1 not valid, 2 usage error (clap's own parse errors already exit 2).

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args};
use speaknode_verify::{Verifier, VerifyError};

pub const VALID: i32 = 0;
pub const INVALID: i32 = 1;
pub const USAGE: i32 = 2;

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["signature", "headers"])))]
pub struct VerifyArgs {
    /// The webhook's secret, `whsec_…` (or set SPEAKNODE_WEBHOOK_SECRET to keep it out of your
    /// shell history).
    #[arg(long, env = "SPEAKNODE_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// An `X-SpeakNode-Signature` value (hex) to check against the body.
    #[arg(long, value_name = "HEX")]
    pub signature: Option<String>,
    /// A file of the request's header lines (`Name: value`); every signature header in it is
    /// checked: X-SpeakNode-Signature and/or webhook-id, webhook-timestamp, webhook-signature.
    #[arg(long, value_name = "FILE")]
    pub headers: Option<PathBuf>,
    /// How far webhook-timestamp may be from now (raise it to re-check an old capture).
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub tolerance: Duration,
    /// The raw request body; `-` or nothing reads standard input.
    #[arg(value_name = "BODY_FILE")]
    pub body: Option<PathBuf>,
}

/// Checks the request, prints one line and returns the exit code.
pub fn run(args: &VerifyArgs) -> i32 {
    match check(args) {
        Ok(Ok(what)) => {
            println!("valid: {what}");
            VALID
        }
        Ok(Err(why)) => {
            println!("invalid: {why}");
            INVALID
        }
        Err(usage) => {
            eprintln!("error: {usage}");
            USAGE
        }
    }
}

/// `Err` is a usage error; `Ok(Err)` a request that does not verify.
fn check(args: &VerifyArgs) -> Result<Result<String, VerifyError>, String> {
    let body = read_body(args.body.as_deref())?;
    let verifier = Verifier::new(args.secret.as_str()).tolerance(args.tolerance);
    let result = if let Some(signature) = &args.signature {
        verifier
            .verify_speaknode(&body, signature)
            .map(|()| "X-SpeakNode-Signature verified".to_string())
    } else if let Some(path) = &args.headers {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the headers file {}: {e}", path.display()))?;
        let headers = HeaderLines::parse(&text)?;
        verifier
            .verify(|name| headers.get(name), &body)
            .map(|verified| match headers.get("webhook-id") {
                Some(id) => format!("{} (webhook-id {id})", super::describe(verified)),
                None => super::describe(verified).to_string(),
            })
    } else {
        // clap's argument group requires one of the two; keep a message in case that changes.
        return Err("give --signature HEX or --headers FILE".into());
    };
    match result {
        // A secret that cannot be a SpeakNode secret is a mistake in the command, not in the
        // request: exit 2 so a script does not mistake it for a forged delivery.
        Err(VerifyError::BadSecret) => Err(VerifyError::BadSecret.to_string()),
        other => Ok(other),
    }
}

fn read_body(path: Option<&std::path::Path>) -> Result<Vec<u8>, String> {
    match path {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => {
            std::fs::read(p).map_err(|e| format!("cannot read the body file {}: {e}", p.display()))
        }
    }
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read the body from standard input: {e}"))?;
    Ok(body)
}

/// Header lines as a receiver logged them: `Name: value`, names in any case. A request line
/// (`POST /hooks HTTP/1.1`) before them and blank lines are skipped, so `curl -v`-style or
/// raw captures work as they are.
#[derive(Debug, Default)]
pub struct HeaderLines(Vec<(String, String)>);

impl HeaderLines {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut headers = Vec::new();
        let mut first = true;
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let is_first = std::mem::replace(&mut first, false);
            match split_header(line) {
                Some((name, value)) => headers.push((name.to_string(), value.to_string())),
                None if is_first && line.contains(" HTTP/") => {}
                None => {
                    return Err(format!(
                        "line {} of the headers file is not `Name: value`: {line:?}",
                        number + 1
                    ));
                }
            }
        }
        Ok(Self(headers))
    }

    /// The first value of the header `name`, ignoring case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `Name: value` where the name is an HTTP token (so a request line never parses as a header).
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    (!name.is_empty() && name.chars().all(token)).then(|| (name, value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_lines_in_any_case_after_a_request_line() {
        let text = "POST /hooks HTTP/1.1\r\nHost: example.com:8080\r\n\r\nWebhook-ID: evt_1\r\n\
                    x-speaknode-signature:   abc  \r\n";
        let headers = HeaderLines::parse(text).unwrap();
        assert_eq!(headers.get("webhook-id"), Some("evt_1"));
        assert_eq!(headers.get("X-SpeakNode-Signature"), Some("abc"));
        assert_eq!(headers.get("host"), Some("example.com:8080"));
        assert_eq!(headers.get("webhook-signature"), None);
    }

    #[test]
    fn a_line_that_is_not_a_header_is_refused_with_its_number() {
        let err = HeaderLines::parse("webhook-id: evt_1\n{\"id\": \"evt_1\"}\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        // A request line is only skipped in first place.
        assert!(HeaderLines::parse("a: b\nPOST / HTTP/1.1\n").is_err());
        assert!(HeaderLines::parse("POST http://x:1/ HTTP/1.1\na: b\n").is_ok());
    }
}
