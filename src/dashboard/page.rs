//! One webhook's page: its settings and delivery options, the Enabled toggle, the Webhook Secret (masked; Reveal,
//! Copy, Rotate), Send test event, Delivery stats of the last 24 h, and the Request History.
//! Test sends and rotations call the same functions as the API routes.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::activity::{self, Activity};
use super::form::Fields;
use super::format::{self, notice};
use super::history::{self, History};
use super::options_form::values_text;
use super::session::{Layout, Posted, SignedIn};
use super::{PageError, PageResult, PageState, render};
use crate::config::Config;
use crate::domain::Invalid;
use crate::domain::time::{Millis, rfc3339};
use crate::domain::webhook::DisabledReason;
use crate::service::Service;
use crate::store::{DeliveryOptions, Webhook};

/// Pending deliveries beyond this many are shown as "10,000+": counting reads them all.
const PENDING_SHOWN: u64 = 10_000;

/// The webhook's pending deliveries, as the page shows them.
fn pending_label(pending: u64) -> String {
    if pending > PENDING_SHOWN {
        format!("{}+", format::thousands(PENDING_SHOWN))
    } else {
        format::thousands(pending)
    }
}

/// The delivery options as the Settings card shows them.
pub struct OptionsView {
    /// (name, value masked by [`format::masked`]): values are often tokens.
    pub headers: Vec<(String, String)>,
    /// (dotted path, its values as the form spells them); `None`: every event of its types.
    pub filter: Option<Vec<(String, String)>>,
    pub timeout: String,
    pub retry_schedule: String,
    pub rate_limit: String,
    pub ordered: bool,
}

impl OptionsView {
    fn new(options: &DeliveryOptions, config: &Config) -> Self {
        let service = |setting: String| format!("service setting ({setting})");
        Self {
            headers: options
                .headers
                .iter()
                .map(|(name, value)| (name.to_owned(), format::masked(value)))
                .collect(),
            // A filter of no paths passes every event, like no filter.
            filter: options
                .filter
                .as_ref()
                .filter(|f| !f.rules().is_empty())
                .map(|filter| {
                    let rules = filter.rules().iter();
                    rules
                        .map(|rule| (rule.path.clone(), values_text(&rule.values)))
                        .collect()
                }),
            timeout: options.timeout.map_or_else(
                || service(format::service_timeout(config)),
                |t| humantime::format_duration(t.duration()).to_string(),
            ),
            retry_schedule: options.retry_schedule.as_ref().map_or_else(
                || service(format::service_schedule(config)),
                format::schedule,
            ),
            rate_limit: options.rate_limit.map_or_else(
                || "none".to_string(),
                |r| format!("{} attempts per second", r.per_second()),
            ),
            ordered: options.ordered,
        }
    }
}

/// The banner at the top of a disabled webhook's page: who disabled it, when, why, and what to
/// do. Built from fixed texts and times only, so nothing a user typed reaches it.
pub struct DisabledBanner {
    /// `Disabled by SpeakNode Webhooks`, `Disabled by a user`.
    pub by: &'static str,
    /// `None` for webhooks disabled before the store kept the time.
    pub at: Option<DisabledAt>,
    /// Why the service disabled it; `None` when a user did.
    pub why: Option<String>,
    /// What brings it back.
    pub next: &'static str,
    /// `alert` (red) when the service disabled it; a user's own choice is grey.
    pub class: &'static str,
}

pub struct DisabledAt {
    /// RFC 3339, for `<time datetime>`.
    pub datetime: String,
    pub time: String,
    pub ago: String,
}

impl DisabledBanner {
    /// `disable_after` is `SPEAKNODE_DISABLE_AFTER`, the failing time a `failing` webhook ran
    /// out of.
    fn new(
        reason: Option<DisabledReason>,
        at: Option<Millis>,
        disable_after: std::time::Duration,
        now: Millis,
    ) -> Self {
        let by_service = |why: String| Self {
            by: "Disabled by SpeakNode Webhooks",
            at: None,
            why: Some(why),
            next: "Turn Enabled back on once the endpoint is fixed.",
            class: "alert",
        };
        let by_user = |by| Self {
            by,
            at: None,
            why: None,
            next: "Turn Enabled back on to resume deliveries.",
            class: "alert off",
        };
        let mut banner = match reason {
            Some(DisabledReason::Gone) => by_service("the endpoint answered 410 Gone".into()),
            Some(DisabledReason::Failing) => by_service(format!(
                "it failed without a single success for {}",
                format::span(disable_after)
            )),
            Some(DisabledReason::Manual) => by_user("Disabled by a user"),
            // The store always records a reason; without one, say no more than the page knows.
            None => by_user("Disabled"),
        };
        banner.at = at.map(|ms| DisabledAt {
            datetime: rfc3339(ms),
            time: format::time(ms),
            ago: format::ago(ms, now),
        });
        banner
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    layout: Layout,
    w: Webhook,
    options: OptionsView,
    created: String,
    updated: String,
    secret: Option<String>,
    /// Pending deliveries, e.g. `12` or `10,000+`.
    pending: String,
    history: History,
    test_types: Vec<String>,
    /// `Some` while the webhook is disabled.
    disabled: Option<DisabledBanner>,
    /// This webhook's attempts over the chosen window.
    activity: Activity,
    /// "Failing since …, last success …" while its attempts fail.
    failing: Option<String>,
}

/// The line a failing webhook's page shows: since when, and its last success.
fn failing_line(w: &Webhook, now: Millis) -> Option<String> {
    let last = w.last_attempt.as_ref()?;
    let since = last.failing_since?;
    let when = |at: Millis| format!("{} ({})", format::time(at), format::ago(at, now));
    let success = match last.last_success_at {
        Some(at) => format!("last success {}", when(at)),
        None => "no success yet".to_string(),
    };
    Some(format!("Failing since {}; {success}.", when(since)))
}

pub async fn show(
    State(state): State<PageState>,
    me: SignedIn,
    Path(id): Path<String>,
    uri: Uri,
) -> PageResult<Response> {
    let query = Fields::query(&uri);
    let ws = &me.workspace_id;
    let w = state
        .service
        .store
        .webhook(ws, &id)
        .await?
        .ok_or(PageError::NotFound)?;
    let now = state.service.clock.now();
    // A read-only session never sees the secret.
    let secret = match query.get("reveal") {
        Some("1") if !me.read_only => Some(
            state
                .service
                .current_secret(ws, &id)
                .await?
                .expose()
                .to_string(),
        ),
        _ => None,
    };
    let pending = state
        .service
        .store
        .pending_deliveries(ws, &id, PENDING_SHOWN + 1)
        .await?;
    let history = history::load(&state, ws, &id, &query).await?;
    let activity = activity::load(
        &state.service,
        ws,
        Some(&id),
        query.get("activity"),
        |window| format!("/webhooks/{id}?activity={window}#activity"),
    )
    .await?;
    let disabled = (!w.enabled).then(|| {
        let after = state.config.disable_after;
        DisabledBanner::new(w.disabled_reason, w.disabled_at, after, now)
    });
    let page = WebhookPage {
        activity,
        failing: failing_line(&w, now),
        layout: me.layout("webhooks", notice(query.get("notice"))),
        disabled,
        created: format::time(w.created_at),
        updated: format::time(w.updated_at),
        options: OptionsView::new(&w.options, &state.config),
        w,
        secret,
        pending: pending_label(pending),
        history,
        test_types: crate::service::event_types::current(
            state.service.store.as_ref(),
            &state.service.registry,
        )
        .await?
        .iter()
        .map(|t| t.def.name.clone())
        .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The current secret for the Copy button's script; same-origin only (the session cookie is
/// SameSite=Strict) and never cached.
pub async fn secret(
    State(service): State<Service>,
    me: SignedIn,
    Path(id): Path<String>,
) -> PageResult<Json<Value>> {
    me.may_change()?;
    let secret = service.current_secret(&me.workspace_id, &id).await?;
    Ok(Json(json!({"secret": secret.expose()})))
}

pub async fn rotate(
    State(service): State<Service>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    service.rotate_secret(&posted.me.workspace_id, &id).await?;
    let to = format!("/webhooks/{id}?reveal=1&notice=rotated#secret");
    Ok(Redirect::to(&to).into_response())
}

pub async fn test_send(
    State(service): State<Service>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    let event_type = fields.get("event_type");
    service
        .send_test_event(me.workspace_id, id.clone(), event_type)
        .await?;
    let to = format!("/webhooks/{id}?notice=test_sent#history");
    Ok(Redirect::to(&to).into_response())
}

/// The windows the Replay form offers.
const REPLAY_WINDOWS: &[(&str, i64)] = &[
    ("1h", 3_600_000),
    ("24h", 86_400_000),
    ("7d", 7 * 86_400_000),
    ("30d", 30 * 86_400_000),
];

pub async fn replay(
    State(service): State<Service>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    let window = fields.get("window").unwrap_or("7d");
    let Some((_, length)) = REPLAY_WINDOWS.iter().find(|(name, _)| *name == window) else {
        let invalid = Invalid::field("window", "must be one of the windows the form offers");
        return Err(PageError::Invalid(invalid));
    };
    let since = service.clock.now() - length;
    let replayed = service
        .replay(me.workspace_id, id.clone(), since, None)
        .await?;
    let notice = if replayed > 0 {
        "replayed"
    } else {
        "replayed_none"
    };
    Ok(Redirect::to(&format!("/webhooks/{id}?notice={notice}#history")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_deliveries_read_past_the_cap_show_as_the_cap_and_more() {
        assert_eq!(pending_label(0), "0");
        assert_eq!(pending_label(1_234), "1,234");
        assert_eq!(pending_label(10_000), "10,000");
        assert_eq!(pending_label(10_001), "10,000+");
    }

    #[test]
    fn the_disabled_banner_says_who_why_and_when() {
        let five_days = std::time::Duration::from_secs(5 * 86_400);
        let at = 1_795_712_624_120;
        let gone = DisabledBanner::new(
            Some(DisabledReason::Gone),
            Some(at),
            five_days,
            at + 180_000,
        );
        assert_eq!(gone.by, "Disabled by SpeakNode Webhooks");
        assert_eq!(gone.why.as_deref(), Some("the endpoint answered 410 Gone"));
        let when = gone.at.expect("a time");
        assert_eq!(
            (when.time.as_str(), when.ago.as_str()),
            ("2026-11-26 17:03:44 UTC", "3 min ago")
        );
        assert_eq!(when.datetime, "2026-11-26T17:03:44.120Z");

        let failing = DisabledBanner::new(Some(DisabledReason::Failing), None, five_days, at);
        assert_eq!(
            failing.why.as_deref(),
            Some("it failed without a single success for 5 days")
        );
        assert!(failing.at.is_none(), "no time known: none shown");

        let manual = DisabledBanner::new(Some(DisabledReason::Manual), Some(at), five_days, at);
        assert_eq!((manual.by, manual.why), ("Disabled by a user", None));
        assert_eq!(manual.class, "alert off");
    }
}
