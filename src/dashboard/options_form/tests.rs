use serde_json::json;

use super::*;

fn draft(pairs: &[(&str, &str)]) -> OptionsDraft {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        body.append_pair(name, value);
    }
    OptionsDraft::from_fields(&Fields::parse(body.finish().as_bytes()))
}

#[test]
fn values_are_numbers_booleans_quoted_or_plain_text() {
    let values = split_values(r#"agent_7, 42, 2.5, true, "42", "a, b", 5" screen,, "#);
    assert_eq!(
        values,
        Ok(vec![
            json!("agent_7"),
            json!(42),
            json!(2.5),
            json!(true),
            json!("42"),
            json!("a, b"),
            json!("5\" screen"),
        ])
    );
    assert!(split_values(r#""open"#).is_err());
    assert!(split_values(r#""a" b"#).is_err());
}

#[test]
fn values_read_back_to_the_same_values_once_spelled_for_the_form() {
    let values = vec![
        json!("agent_7"),
        json!(7),
        json!(false),
        json!("true"),
        json!("007"),
        json!("a,b"),
        json!(" padded "),
        json!(""),
        json!("\"quoted\""),
        json!("back\\slash"),
    ];
    assert_eq!(split_values(&values_text(&values)), Ok(values));
}

#[test]
fn a_full_form_becomes_the_apis_options() {
    let form = draft(&[
        ("header_name", "Authorization"),
        ("header_value", "Bearer t"),
        ("header_name", ""),
        ("header_value", ""),
        ("filter_path", " agent_id "),
        ("filter_values", "agent_7, agent_9"),
        ("timeout", "10s"),
        ("retry_schedule", "5s,5m"),
        ("rate_limit", "5"),
        ("ordered", "on"),
    ]);
    let patch = form.parse().ok().expect("valid");
    let options = patch.apply(&DeliveryOptions::default());
    let read = serde_json::to_value(&options).expect("serializes");
    assert_eq!(
        read,
        json!({"headers": {"Authorization": "Bearer t"},
               "filter": {"agent_id": ["agent_7", "agent_9"]}, "rate_limit": 5,
               "ordered": true, "timeout": "10s", "retry_schedule": "5s,5m"})
    );
    assert_eq!(
        patch.rate_limit.flatten().map(RateLimit::per_second),
        Some(5)
    );
}

#[test]
fn an_empty_form_sets_nothing_and_one_attempt_is_the_empty_schedule() {
    let patch = draft(&[]).parse().ok().expect("valid");
    let options = patch.apply(&DeliveryOptions::default());
    assert_eq!(options, DeliveryOptions::default());
    let once = draft(&[("one_attempt", "on")]).parse().ok().expect("ok");
    let schedule = once.retry_schedule.flatten().expect("a schedule");
    assert_eq!(schedule.max_attempts(), 1);
    let both = draft(&[("one_attempt", "on"), ("retry_schedule", "5s")]);
    assert!(both.parse().expect_err("refused").retry_schedule.is_some());
}

#[test]
fn every_row_at_fault_is_marked_beside_itself() {
    let form = draft(&[
        ("header_name", "X-Ok"),
        ("header_value", "1"),
        ("header_name", "Host"),
        ("header_value", "example.com"),
        ("header_name", "x-ok"),
        ("header_value", "2"),
        ("header_name", ""),
        ("header_value", "orphan"),
        ("filter_path", "agent_id"),
        ("filter_values", ","),
        ("filter_path", "a..b"),
        ("filter_values", "x"),
        ("timeout", "2m"),
        ("retry_schedule", "8d"),
    ]);
    let errors = form.parse().expect_err("refused");
    assert!(errors.header_row(&0).is_none());
    assert_eq!(
        errors.header_row(&1).map(String::as_str),
        Some("Host is set by the service and cannot be overridden.")
    );
    assert!(
        errors
            .header_row(&2)
            .expect("twice")
            .contains("given twice")
    );
    assert!(errors.header_row(&3).expect("no name").contains("a name"));
    assert!(
        errors
            .filter_row(&0)
            .expect("no values")
            .contains("at least one")
    );
    assert!(
        errors
            .filter_row(&1)
            .expect("bad path")
            .starts_with("a..b is not")
    );
    let timeout = errors.timeout.expect("timeout");
    assert!(timeout.starts_with("Timeout must be") && !timeout.contains("null"));
    assert!(errors.retry_schedule.expect("schedule").contains("7d"));
}

#[test]
fn limits_on_the_whole_are_shown_above_the_rows() {
    let names: Vec<String> = (0..21).map(|i| format!("X-H{i}")).collect();
    let mut pairs = Vec::new();
    for name in &names {
        pairs.push(("header_name", name.as_str()));
        pairs.push(("header_value", "v"));
    }
    let errors = draft(&pairs).parse().expect_err("refused");
    assert!(errors.headers.expect("too many").contains("at most 20"));
}

#[test]
fn a_webhooks_options_fill_the_form_so_saving_keeps_them() {
    let body = json!({"headers": {"X-A": "1"}, "filter": {"n": [1, "1", "a,b"]},
                      "timeout": "1m", "retry_schedule": "", "rate_limit": 9,
                      "ordered": true});
    let options = DeliveryOptions::from_body(body.as_object().expect("object")).expect("ok");
    let form = OptionsDraft::from_options(&options);
    assert!(form.one_attempt && form.retry_schedule.is_empty());
    let again = form.parse().ok().expect("valid");
    assert_eq!(again.apply(&DeliveryOptions::default()), options);
}
