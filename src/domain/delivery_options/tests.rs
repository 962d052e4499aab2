use serde_json::json;

use super::*;

/// The `field` of the refusal, or a panic naming what was accepted.
fn refused_field<T: std::fmt::Debug>(result: Result<T, Invalid>) -> String {
    match result {
        Ok(value) => panic!("accepted {value:?}"),
        Err(invalid) => invalid.field,
    }
}

fn one_header(name: &str, value: &str) -> Value {
    let mut object = Map::new();
    object.insert(name.into(), Value::String(value.into()));
    Value::Object(object)
}

#[test]
fn headers_keep_the_users_spelling_and_round_trip() {
    let headers =
        Headers::parse(&json!({"X-Tenant": "acme", "authorization": "Bearer t"})).expect("ok");
    let names: Vec<_> = headers.iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"X-Tenant") && names.contains(&"authorization"));
    assert_eq!(Headers::from_stored(&headers.to_json()), Some(headers));
    assert_eq!(Headers::parse(&json!({})).expect("ok").to_json(), "{}");
}

#[test]
fn every_reserved_header_is_refused_whatever_its_case() {
    let reserved = [
        "Host",
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "User-Agent",
        "traceparent",
    ];
    for name in reserved {
        for spelling in [
            name.to_owned(),
            name.to_ascii_lowercase(),
            name.to_ascii_uppercase(),
        ] {
            let field = refused_field(Headers::parse(&one_header(&spelling, "x")));
            assert_eq!(field, format!("headers.{spelling}"));
        }
    }
    for name in [
        "X-SpeakNode-Signature",
        "x-speaknode-anything",
        "X-SPEAKNODE-",
        "webhook-id",
        "Webhook-Signature",
        "WEBHOOK-TIMESTAMP",
    ] {
        assert_eq!(
            refused_field(Headers::parse(&one_header(name, "x"))),
            format!("headers.{name}")
        );
    }
    // Only the prefix is reserved, not every name containing it.
    assert!(Headers::parse(&one_header("X-Webhook-Source", "x")).is_ok());
    assert!(Headers::parse(&one_header("X-Host", "x")).is_ok());
}

#[test]
fn header_names_must_be_tokens_of_at_most_100_characters() {
    for name in ["X Bad", "X:Bad", "", "X-Bad\n", "Ünicode", "X(Bad)"] {
        assert_eq!(
            refused_field(Headers::parse(&one_header(name, "x"))),
            format!("headers.{name}")
        );
    }
    assert!(Headers::parse(&one_header(&"X".repeat(100), "x")).is_ok());
    let long = "X".repeat(101);
    assert_eq!(
        refused_field(Headers::parse(&one_header(&long, "x"))),
        format!("headers.{long}")
    );
}

#[test]
fn header_values_are_strings_of_at_most_1000_characters_without_cr_lf_nul() {
    for value in ["a\rb", "a\nb", "a\0b", "a\u{7}b"] {
        assert_eq!(
            refused_field(Headers::parse(&one_header("X-Bad", value))),
            "headers.X-Bad"
        );
    }
    assert!(Headers::parse(&one_header("X-Ok", &"é".repeat(1000))).is_ok());
    assert!(Headers::parse(&one_header("X-Ok", "a\tb")).is_ok());
    assert_eq!(
        refused_field(Headers::parse(&one_header("X-Bad", &"a".repeat(1001)))),
        "headers.X-Bad"
    );
    assert_eq!(
        refused_field(Headers::parse(&json!({"X-Bad": 5}))),
        "headers.X-Bad"
    );
}

#[test]
fn at_most_20_headers_in_an_object_each_name_once() {
    let many = |n: usize| {
        Value::Object(
            (0..n)
                .map(|i| (format!("X-H{i}"), Value::String("v".into())))
                .collect(),
        )
    };
    assert!(Headers::parse(&many(20)).is_ok());
    assert_eq!(refused_field(Headers::parse(&many(21))), "headers");
    for not_an_object in [json!(null), json!([]), json!("X-A: b")] {
        assert_eq!(refused_field(Headers::parse(&not_an_object)), "headers");
    }
    let twice = refused_field(Headers::parse(&json!({"X-A": "1", "x-a": "2"})));
    assert!(twice == "headers.X-A" || twice == "headers.x-a", "{twice}");
}

#[test]
fn filters_parse_round_trip_and_null_means_none() {
    assert_eq!(Filter::parse(&json!(null)), Ok(None));
    let filter = Filter::parse(&json!({"agent_id": ["a", "b"], "metadata.n": [1, true]}))
        .expect("ok")
        .expect("some");
    assert_eq!(filter.rules().len(), 2);
    assert_eq!(Filter::from_stored(&filter.to_json()), Some(filter));
}

#[test]
fn bad_filter_entries_name_their_dotted_path() {
    let cases = [
        json!({"agent_id": []}),
        json!({"agent_id": "a"}),
        json!({"agent_id": [{"a": 1}]}),
        json!({"agent_id": [["a"]]}),
        json!({"agent_id": [null]}),
        json!({"agent_id": ["a\u{0}"]}),
        json!({"agent_id": (0..101).collect::<Vec<_>>()}),
    ];
    for filter in cases {
        assert_eq!(refused_field(Filter::parse(&filter)), "filter.agent_id");
    }
    assert!(Filter::parse(&json!({"agent_id": (0..100).collect::<Vec<_>>()})).is_ok());
    for path in ["metadata..lang", ".a", "a.", ""] {
        let mut object = Map::new();
        object.insert(path.into(), json!(["x"]));
        assert_eq!(
            refused_field(Filter::parse(&Value::Object(object))),
            format!("filter.{path}")
        );
    }
}

#[test]
fn a_filter_is_an_object_of_at_most_10_paths() {
    let paths = |n: usize| Value::Object((0..n).map(|i| (format!("p{i}"), json!(["x"]))).collect());
    assert!(Filter::parse(&paths(10)).is_ok());
    assert_eq!(refused_field(Filter::parse(&paths(11))), "filter");
    for not_an_object in [json!([]), json!("agent_id=a"), json!(1)] {
        assert_eq!(refused_field(Filter::parse(&not_an_object)), "filter");
    }
}

fn filter(value: Value) -> Filter {
    Filter::parse(&value).expect("valid").expect("not null")
}

#[test]
fn matches_every_path_on_nested_objects() {
    let f = filter(json!({"agent_id": ["a1", "a2"], "metadata.language": ["en-US"]}));
    assert!(f.matches(&json!({"agent_id": "a2", "metadata": {"language": "en-US"}})));
    assert!(!f.matches(&json!({"agent_id": "a3", "metadata": {"language": "en-US"}})));
    assert!(!f.matches(&json!({"agent_id": "a1", "metadata": {"language": "fr"}})));
    assert!(filter(json!({})).matches(&json!({"anything": 1})));
}

#[test]
fn missing_paths_and_non_objects_along_the_way_never_match() {
    let f = filter(json!({"metadata.language": ["en-US"]}));
    assert!(!f.matches(&json!({"agent_id": "a1"})));
    assert!(!f.matches(&json!({"metadata": "en-US"})));
    assert!(!f.matches(&json!({"metadata": ["en-US"]})));
    assert!(!f.matches(&json!({"metadata": null})));
    assert!(!f.matches(&json!("en-US")));
    // A dotted key is not a path: `metadata.language` looks inside `metadata`.
    assert!(!f.matches(&json!({"metadata.language": "en-US"})));
}

#[test]
fn numbers_compare_by_value_booleans_and_strings_exactly() {
    let f = filter(json!({"n": [1, 2.5]}));
    assert!(f.matches(&json!({"n": 1})));
    assert!(f.matches(&json!({"n": 1.0})));
    assert!(f.matches(&json!({"n": 2.5})));
    assert!(!f.matches(&json!({"n": "1"})));
    assert!(!f.matches(&json!({"n": true})));
    assert!(!f.matches(&json!({"n": 3})));
    let big = filter(json!({"n": [9_007_199_254_740_993_u64]}));
    assert!(!big.matches(&json!({"n": 9_007_199_254_740_992_u64})));
    assert!(big.matches(&json!({"n": 9_007_199_254_740_993_u64})));
    let negative = filter(json!({"n": [-3]}));
    assert!(negative.matches(&json!({"n": -3.0})));

    let b = filter(json!({"flag": [true]}));
    assert!(b.matches(&json!({"flag": true})));
    assert!(!b.matches(&json!({"flag": false})));
    assert!(!b.matches(&json!({"flag": "true"})));
    assert!(!b.matches(&json!({"flag": 1})));

    let s = filter(json!({"role": ["agent"]}));
    assert!(!s.matches(&json!({"role": "Agent"})));
    assert!(!s.matches(&json!({"role": ["agent"]})));
    assert!(!s.matches(&json!({"role": {"agent": true}})));
}

#[test]
fn rate_limits_are_integers_from_1_to_10000() {
    assert_eq!(RateLimit::parse(&json!(null)), Ok(None));
    assert_eq!(RateLimit::parse(&json!(1)), Ok(Some(RateLimit(1))));
    assert_eq!(
        RateLimit::parse(&json!(10_000)),
        Ok(Some(RateLimit(10_000)))
    );
    for bad in [
        json!(0),
        json!(10_001),
        json!(1.5),
        json!("5"),
        json!(-1),
        json!(5_000_000_000_u64),
    ] {
        assert_eq!(refused_field(RateLimit::parse(&bad)), "rate_limit");
    }
    let limit = RateLimit(250);
    assert_eq!(RateLimit::from_stored(&limit.to_json()), Some(limit));
}

#[test]
fn timeouts_are_durations_from_1s_to_60s() {
    assert_eq!(WebhookTimeout::parse(&json!(null)), Ok(None));
    for (text, secs) in [("1s", 1), ("60s", 60), ("1m", 60), ("10s", 10)] {
        let timeout = WebhookTimeout::parse(&json!(text))
            .expect("ok")
            .expect("some");
        assert_eq!(timeout.duration(), Duration::from_secs(secs));
        assert_eq!(
            WebhookTimeout::from_stored(&timeout.to_json()),
            Some(timeout)
        );
    }
    for bad in [
        json!("500ms"),
        json!("61s"),
        json!("abc"),
        json!(10),
        json!(""),
    ] {
        assert_eq!(refused_field(WebhookTimeout::parse(&bad)), "timeout");
    }
}

#[test]
fn retry_schedules_take_the_global_form_within_the_webhook_limits() {
    assert_eq!(parse_retry_schedule(&json!(null)), Ok(None));
    let schedule = parse_retry_schedule(&json!("5s, 5m,30m"))
        .expect("ok")
        .expect("some");
    assert_eq!(schedule.max_attempts(), 4);
    assert_eq!(retry_schedule_to_json(&schedule), r#""5s,5m,30m""#);
    assert_eq!(
        retry_schedule_from_stored(&retry_schedule_to_json(&schedule)),
        Some(schedule)
    );
    let no_retries = parse_retry_schedule(&json!("")).expect("ok").expect("some");
    assert_eq!(no_retries.max_attempts(), 1);
    let thirty_one = vec!["1s"; 31].join(",");
    for bad in [
        json!(thirty_one),
        json!("8d"),
        json!("5s,soon"),
        json!(["5s"]),
    ] {
        assert_eq!(refused_field(parse_retry_schedule(&bad)), "retry_schedule");
    }
    assert!(parse_retry_schedule(&json!(vec!["7d"; 30].join(","))).is_ok());
}

#[test]
fn ordered_is_a_boolean() {
    assert_eq!(parse_ordered(&json!(true)), Ok(true));
    for bad in [json!(null), json!("true"), json!(1)] {
        assert_eq!(refused_field(parse_ordered(&bad)), "ordered");
    }
}

#[test]
fn unset_options_read_as_empty_headers_and_nulls() {
    let read = serde_json::to_value(DeliveryOptions::default()).expect("serializes");
    assert_eq!(
        read,
        json!({"headers": {}, "filter": null, "rate_limit": null, "ordered": false,
               "timeout": null, "retry_schedule": null})
    );
}

#[test]
fn a_patch_replaces_present_fields_clears_nulls_and_keeps_the_rest() {
    let body = json!({"headers": {"X-A": "1"}, "rate_limit": 5, "timeout": "10s",
                      "filter": {"agent_id": ["a"]}, "ordered": true,
                      "retry_schedule": "1m"});
    let created = DeliveryOptions::from_body(body.as_object().expect("object")).expect("ok");
    assert_eq!(
        serde_json::to_value(&created).expect("serializes"),
        json!({"headers": {"X-A": "1"}, "filter": {"agent_id": ["a"]}, "rate_limit": 5,
               "ordered": true, "timeout": "10s", "retry_schedule": "1m"})
    );
    let patch = json!({"rate_limit": null, "timeout": "20s"});
    let patched = created
        .patched(patch.as_object().expect("object"))
        .expect("ok");
    assert_eq!(patched.rate_limit, None);
    assert_eq!(
        patched.timeout,
        WebhookTimeout::parse(&json!("20s")).expect("ok")
    );
    assert_eq!(patched.headers, created.headers);
    assert!(patched.ordered);
    let bad = json!({"rate_limit": 7, "timeout": "2m"});
    assert_eq!(
        refused_field(created.patched(bad.as_object().expect("object"))),
        "timeout"
    );
}
