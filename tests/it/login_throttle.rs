//! `SPEAKNODE_LOGIN_ATTEMPTS` over real HTTP: failed dashboard sign-ins are counted per client
//! address. Clients connect from different loopback addresses (127.0.0.2 and 127.0.0.1 both
//! reach the service on 127.0.0.1), so the service sees two client addresses.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::visitor;

use std::net::{IpAddr, Ipv4Addr};

use common::{API_KEY, TestApp};
use visitor::Visitor;

const WRONG_KEY: &str = "sk_not_a_key_of_anyone_000000000";
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const USER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn throttled_total(app: &TestApp) -> String {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("speaknode_login_throttled_total"))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn after_its_failures_an_address_gets_429_without_its_key_being_checked() {
    let app = TestApp::start().await;
    let mut attacker = Visitor::from_address(&app.base, ATTACKER);
    for n in 1..=10 {
        let page = attacker.sign_in(WRONG_KEY).await;
        assert_eq!(page.status, 200, "failure {n} is an ordinary error");
        assert!(page.body.contains("That API key is not valid"), "{n}");
    }
    let page = attacker.sign_in(WRONG_KEY).await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert!(
        page.body.contains("Too many failed sign-ins"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Try again in "), "{}", page.body);
    assert!(page.body.contains("role=\"alert\""), "shown in the page");
    let seconds: u64 = page.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=600).contains(&seconds), "{seconds}");

    // Refused before the key is looked at: the right key does not sign it in either.
    let page = attacker.sign_in(API_KEY).await;
    assert_eq!(page.status, 429);
    assert!(page.cookie_line("speaknode_session").is_none());
    assert_eq!(
        attacker.get("/webhooks").await.location.as_deref(),
        Some("/login")
    );

    // Someone else's failures never block another address, right or wrong key.
    let mut user = Visitor::from_address(&app.base, USER);
    let page = user.sign_in(WRONG_KEY).await;
    assert_eq!(page.status, 200);
    let page = user.sign_in(API_KEY).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.cookie_line("speaknode_session").is_some());
    assert_eq!(user.get("/webhooks").await.status, 200);

    assert_eq!(
        throttled_total(&app).await,
        "speaknode_login_throttled_total 2"
    );
    app.stop().await;
}

#[tokio::test]
async fn successful_sign_ins_are_not_counted_and_the_limit_is_configurable() {
    let app = TestApp::start_with(|a| a.login_attempts = "2/1h".into()).await;
    let mut visitor = Visitor::from_address(&app.base, ATTACKER);
    for _ in 0..5 {
        let page = Visitor::from_address(&app.base, ATTACKER)
            .sign_in(API_KEY)
            .await;
        assert_eq!(page.status, 303, "successes are never counted");
    }
    assert_eq!(visitor.sign_in(WRONG_KEY).await.status, 200);
    assert_eq!(visitor.sign_in(WRONG_KEY).await.status, 200);
    let page = visitor.sign_in(API_KEY).await;
    assert_eq!(page.status, 429, "two failures per hour allowed");
    let seconds: u64 = page.retry_after.as_deref().unwrap().parse().unwrap();
    assert!(
        seconds > 600 && seconds <= 3600,
        "the window is an hour: {seconds}"
    );
    app.stop().await;
}
