use super::*;

fn args() -> ServeArgs {
    ServeArgs::defaults()
}

#[test]
fn clap_defaults_match_the_documented_defaults() {
    use clap::{CommandFactory, FromArgMatches, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }
    // The environment is left out, so whatever SPEAKNODE_* variables the test run has set,
    // this compares clap's own defaults.
    let command = Cli::command().mut_args(|arg| arg.env(None));
    let matches = command.try_get_matches_from(["x"]).expect("parses");
    let parsed = Cli::from_arg_matches(&matches).expect("parses").args;
    assert_eq!(
        format!("{parsed:?}"),
        format!("{:?}", ServeArgs::defaults())
    );
}

#[test]
fn the_contract_defaults_are_valid() {
    let config = Config::defaults().expect("valid");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.delivery_timeout, Duration::from_secs(5));
    assert_eq!(config.retry_schedule.max_attempts(), 8);
    assert_eq!(config.max_payload_bytes, 1_048_576);
    assert!(!config.allow_private_targets);
}

#[test]
fn pooled_mode_needs_a_direct_url_beside_a_postgres_database() {
    let mut a = args();
    a.database_url = "postgres://u@pgbouncer:6432/db".into();
    a.database_pooled = "true".into();
    let err = Config::from_args(&a).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid SPEAKNODE_DATABASE_POOLED"),
        "{err}"
    );
    a.database_listen_url = Some("postgres://u@db:5432/db".into());
    let config = Config::from_args(&a).expect("valid");
    assert!(config.database_pooled);
    a.database_url = "sqlite://x.db".into();
    let err = Config::from_args(&a).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid SPEAKNODE_DATABASE_LISTEN_URL"),
        "{err}"
    );
}

#[test]
fn a_bad_value_names_its_setting_on_one_line() {
    let mut a = args();
    a.delivery_timeout = "soon".into();
    let err = Config::from_args(&a).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid SPEAKNODE_DELIVERY_TIMEOUT"),
        "{err}"
    );
    assert!(!err.contains('\n'));

    let mut a = args();
    a.api_key = Some("short".into());
    assert_eq!(
        Config::from_args(&a).unwrap_err().setting,
        "SPEAKNODE_API_KEY"
    );

    let mut a = args();
    a.allow_private_targets = "maybe".into();
    assert_eq!(
        Config::from_args(&a).unwrap_err().setting,
        "SPEAKNODE_ALLOW_PRIVATE_TARGETS"
    );
}

#[test]
fn the_rate_limit_is_off_by_default_and_a_positive_whole_number_when_set() {
    assert_eq!(Config::defaults().expect("valid").rate_limit, None);
    let mut a = args();
    a.rate_limit = Some("25".into());
    assert_eq!(
        Config::from_args(&a).expect("valid").rate_limit,
        NonZeroU32::new(25)
    );
    a.rate_limit = Some(" ".into());
    assert_eq!(Config::from_args(&a).expect("valid").rate_limit, None);
    for text in ["0", "-1", "2.5", "fast", "4294967295"] {
        a.rate_limit = Some(text.into());
        let err = Config::from_args(&a).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid SPEAKNODE_RATE_LIMIT"),
            "{text}: {err}"
        );
        assert!(!err.contains('\n'));
    }
}

#[test]
fn login_attempts_read_failures_per_window() {
    assert_eq!(
        Config::defaults().expect("valid").login_attempts,
        LoginAttempts {
            failures: 10,
            window: Duration::from_secs(600)
        }
    );
    let mut a = args();
    a.login_attempts = " 3 / 1h30m ".into();
    assert_eq!(
        Config::from_args(&a).expect("valid").login_attempts,
        LoginAttempts {
            failures: 3,
            window: Duration::from_secs(5400)
        }
    );
    for text in [
        "10", "0/10m", "x/10m", "10/", "10/soon", "10/0s", "10/10m/1",
    ] {
        a.login_attempts = text.into();
        let err = Config::from_args(&a).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid SPEAKNODE_LOGIN_ATTEMPTS"),
            "{text}: {err}"
        );
        assert!(!err.contains('\n'));
    }
}

#[test]
fn the_proxy_url_is_an_http_proxy_and_its_password_is_never_shown() {
    assert_eq!(Config::defaults().expect("valid").proxy_url, None);
    let mut a = args();
    for ok in [
        "http://proxy:3128",
        "https://u:p@proxy.example",
        "http://10.0.0.1:8080/",
    ] {
        a.proxy_url = Some(ok.into());
        let config = Config::from_args(&a).expect(ok);
        assert_eq!(config.proxy_url.as_deref(), Some(ok));
    }
    a.proxy_url = Some("".into());
    assert_eq!(Config::from_args(&a).expect("valid").proxy_url, None);
    for bad in [
        "proxy:3128",
        "socks5://u:hunter2@proxy:1080",
        "ftp://proxy",
        "http://u:hunter2@proxy:3128/path",
        "http://proxy:3128?x=1",
        "http://",
    ] {
        a.proxy_url = Some(bad.into());
        let err = Config::from_args(&a).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid SPEAKNODE_PROXY_URL"),
            "{bad}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.contains('\n'));
    }
    a.proxy_url = Some("http://user:hunter2@proxy:3128".into());
    let config = Config::from_args(&a).expect("valid");
    let shown = format!("{config:?}");
    assert!(shown.contains("user:***@proxy:3128"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn passwords_are_redacted_from_database_urls() {
    assert_eq!(
        redact_url("postgres://u:hunter2@db/x"),
        "postgres://u:***@db/x"
    );
    let mut config = Config::defaults().expect("valid");
    config.api_key = Some("sk_supersecretvalue123".into());
    assert!(!format!("{config:?}").contains("supersecret"));
}
