//! What both adapters do to a webhook beyond storing a form: check where its URL points,
//! rotate its secret, and send it a test event.

use crate::delivery::Deliverer;
use crate::domain::Invalid;
use crate::domain::clock::Clock;
use crate::domain::envelope::payload;
use crate::domain::event_type::Registry;
use crate::domain::ids;
use crate::domain::time::rfc3339;
use crate::domain::webhook::{ROTATED_SECRET_GRACE_MS, Secret, WebhookUrl};
use crate::store::{Attempt, NewTestDelivery, Store, Webhooks};

use super::ServiceError;

/// Refuses a URL whose host name resolves only to blocked addresses (DNS is checked again at
/// every delivery; this catches the obvious cases early, with a clear error).
pub async fn check_resolution(
    allow_private: bool,
    url: Option<&WebhookUrl>,
) -> Result<(), Invalid> {
    let Some(url::Host::Domain(name)) = url.and_then(|u| u.url().host()) else {
        return Ok(());
    };
    if !allow_private && crate::delivery::resolver::host_resolves_only_to_blocked(name).await {
        return Err(Invalid::blocked(
            "url",
            format!("must not point at a host that resolves to private addresses ({name})"),
        ));
    }
    Ok(())
}

/// Gives the webhook a new secret; the old one keeps signing for 24 h.
pub async fn rotate_secret(
    store: &dyn Webhooks,
    clock: &dyn Clock,
    workspace_id: &str,
    id: &str,
) -> Result<Secret, ServiceError> {
    let secret = Secret::generate();
    let now = clock.now();
    let grace_until = now + ROTATED_SECRET_GRACE_MS;
    if store
        .rotate_webhook_secret(workspace_id, id, &secret, now, grace_until)
        .await?
    {
        Ok(secret)
    } else {
        Err(ServiceError::NotFound("webhook"))
    }
}

/// A test send: one real, signed attempt of the type's example to the webhook, made now and
/// recorded in its Request History (trigger `test`). An unknown webhook is checked before the
/// event type, so another workspace's id is always "not found"; a type registered through
/// another process is known here too.
pub async fn send_test_event(
    store: &dyn Store,
    registry: &Registry,
    clock: &dyn Clock,
    deliverer: &Deliverer,
    workspace_id: String,
    webhook_id: String,
    event_type: Option<&str>,
) -> Result<Attempt, ServiceError> {
    if store.webhook(&workspace_id, &webhook_id).await?.is_none() {
        return Err(ServiceError::NotFound("webhook"));
    }
    let name = event_type.ok_or_else(|| Invalid::field("event_type", "is required"))?;
    super::event_types::refresh_for(store, registry, [&name.to_string()]).await?;
    let registered = registry.get(name).ok_or_else(|| {
        Invalid::field(
            "event_type",
            format!("{name:?} is not a registered event type"),
        )
    })?;
    let now = clock.now();
    let event_id = ids::new_id(ids::EVENT);
    let example = registered.def.example.to_string();
    let test = NewTestDelivery {
        payload: payload(&event_id, name, &rfc3339(now), &example),
        workspace_id,
        webhook_id,
        event_id,
        delivery_id: ids::new_id(ids::DELIVERY),
        event_type: name.to_string(),
        now,
    };
    let claim = store
        .create_test_delivery(&test)
        .await?
        .ok_or(ServiceError::NotFound("webhook"))?;
    deliverer
        .attempt(claim)
        .await?
        .ok_or(ServiceError::Unavailable(
            "The webhook's signing secret cannot be read (check SPEAKNODE_ENCRYPTION_KEY).",
        ))
}
