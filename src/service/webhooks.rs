//! What both adapters do to a webhook beyond storing a form: check where its URL points, and
//! rotate its secret.

use crate::domain::Invalid;
use crate::domain::clock::Clock;
use crate::domain::webhook::{ROTATED_SECRET_GRACE_MS, Secret, WebhookUrl};
use crate::store::Webhooks;

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
