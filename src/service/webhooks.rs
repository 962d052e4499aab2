//! What both adapters do to a webhook: create, change, delete it, check where its URL points,
//! rotate its secret, and send it a test event. Each adapter reads its own input (a JSON body,
//! a form) into a [`WebhookPatch`]; the rules for its fields are here, once.

use crate::domain::Invalid;
use crate::domain::envelope::payload;
use crate::domain::ids;
use crate::domain::time::rfc3339;
use crate::domain::webhook::{
    ROTATED_SECRET_GRACE_MS, Secret, WebhookUrl, check_description, check_event_types,
};
use crate::store::{Attempt, DeliveryOptions, NewTestDelivery, NewWebhook, Webhook, WebhookPatch};

use super::{Service, ServiceError};

/// A new webhook, and the only time its secret is handed out whole.
pub struct Created {
    pub webhook: Webhook,
    pub secret: Secret,
}

const UNREADABLE_SECRET: &str =
    "The webhook's signing secret cannot be read (check SPEAKNODE_ENCRYPTION_KEY).";

/// Whether the fields are checked for a create (the URL and the event types are required) or
/// an update (a field left out stays as it is).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Create,
    Update,
}

/// Refuses a URL whose host name resolves only to blocked addresses (DNS is checked again at
/// every delivery; this catches the obvious cases early, with a clear error).
pub async fn check_resolution(allow_private: bool, url: &WebhookUrl) -> Result<(), Invalid> {
    let Some(url::Host::Domain(name)) = url.url().host() else {
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

impl Service {
    /// Creates a webhook with a new secret. Left out: `description` is empty, `enabled` true,
    /// the options the service's defaults.
    pub async fn create_webhook(
        &self,
        workspace_id: String,
        fields: WebhookPatch,
    ) -> Result<Created, ServiceError> {
        let url = self.checked(&fields, Purpose::Create).await?;
        let secret = Secret::generate();
        let webhook = self
            .store
            .create_webhook(&NewWebhook {
                id: ids::new_id(ids::WEBHOOK),
                workspace_id,
                url: url.map(|u| u.as_str().to_string()).unwrap_or_default(),
                description: fields.description.unwrap_or_default(),
                event_types: fields.event_types.unwrap_or_default(),
                enabled: fields.enabled.unwrap_or(true),
                secret: secret.clone(),
                options: fields.options.apply(&DeliveryOptions::default()),
                now: self.clock.now(),
            })
            .await?;
        Ok(Created { webhook, secret })
    }

    /// Changes the given fields. An unknown id is "not found" even when a field is also
    /// refused: another workspace's webhook is never checked against.
    pub async fn update_webhook(
        &self,
        workspace_id: &str,
        id: &str,
        mut changes: WebhookPatch,
    ) -> Result<Webhook, ServiceError> {
        if self.store.webhook(workspace_id, id).await?.is_none() {
            return Err(ServiceError::NotFound("webhook"));
        }
        if let Some(url) = self.checked(&changes, Purpose::Update).await? {
            changes.url = Some(url.as_str().to_string());
        }
        let updated = self
            .store
            .update_webhook(workspace_id, id, &changes, self.clock.now())
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        // Deliveries held while the webhook was disabled are due again.
        if changes.enabled == Some(true) {
            self.due_now();
        }
        Ok(updated)
    }

    /// Deletes the webhook: its pending deliveries are cancelled, its history removed.
    pub async fn delete_webhook(&self, workspace_id: &str, id: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        if self.store.delete_webhook(workspace_id, id, now).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("webhook"))
        }
    }

    /// Checks the fields as a create or an update would, without changing anything: a form
    /// whose own parts (the delivery options) were refused still shows every other fault.
    pub async fn check_webhook(
        &self,
        fields: &WebhookPatch,
        purpose: Purpose,
    ) -> Result<(), ServiceError> {
        self.checked(fields, purpose).await.map(drop)
    }

    /// Checks every field given with the same rules for create and update, and answers every
    /// field at fault at once ([`ServiceError::Rejected`]); the URL comes back parsed.
    async fn checked(
        &self,
        fields: &WebhookPatch,
        purpose: Purpose,
    ) -> Result<Option<WebhookUrl>, ServiceError> {
        // A type another process registered is known here too.
        let names = fields.event_types.iter().flatten();
        super::event_types::refresh_for(self.store.as_ref(), &self.registry, names).await?;
        let mut faults = Vec::new();
        let url = match fields.url.as_deref().map(str::trim) {
            None if purpose == Purpose::Create => {
                faults.push(Invalid::field("url", "is required"));
                None
            }
            None => None,
            Some("") => {
                faults.push(Invalid::field("url", "is required"));
                None
            }
            Some(url) => match WebhookUrl::parse(url, self.allow_private_targets) {
                Ok(url) => Some(url),
                Err(e) => {
                    faults.push(e);
                    None
                }
            },
        };
        if let Some(url) = &url
            && let Err(e) = check_resolution(self.allow_private_targets, url).await
        {
            faults.push(e);
        }
        if let Some(description) = &fields.description
            && let Err(e) = check_description(description)
        {
            faults.push(e);
        }
        match &fields.event_types {
            None if purpose == Purpose::Create => {
                faults.push(Invalid::field("event_types", "is required"))
            }
            None => {}
            Some(types) => {
                if let Err(e) = check_event_types(types, |name| self.registry.contains(name)) {
                    faults.push(e);
                }
            }
        }
        if faults.is_empty() {
            Ok(url)
        } else {
            Err(ServiceError::Rejected(faults))
        }
    }

    /// Gives the webhook a new secret; the old one keeps signing for 24 h.
    pub async fn rotate_secret(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Secret, ServiceError> {
        let secret = Secret::generate();
        let now = self.clock.now();
        let grace_until = now + ROTATED_SECRET_GRACE_MS;
        if self
            .store
            .rotate_webhook_secret(workspace_id, id, &secret, now, grace_until)
            .await?
        {
            Ok(secret)
        } else {
            Err(ServiceError::NotFound("webhook"))
        }
    }

    /// The webhook's newest signing secret.
    pub async fn current_secret(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> Result<Secret, ServiceError> {
        let now = self.clock.now();
        let secrets = self.store.webhook_secrets(workspace_id, id, now).await?;
        let mut secrets = secrets.ok_or(ServiceError::NotFound("webhook"))?;
        // A webhook always has one: none left means none could be opened.
        if secrets.is_empty() {
            return Err(ServiceError::Unavailable(UNREADABLE_SECRET));
        }
        Ok(secrets.swap_remove(0))
    }

    /// A test send: one real, signed attempt of the type's example to the webhook, made now and
    /// recorded in its Request History (trigger `test`). An unknown webhook is checked before the
    /// event type, so another workspace's id is always "not found"; a type registered through
    /// another process is known here too.
    pub async fn send_test_event(
        &self,
        workspace_id: String,
        webhook_id: String,
        event_type: Option<&str>,
    ) -> Result<Attempt, ServiceError> {
        let store = self.store.as_ref();
        if store.webhook(&workspace_id, &webhook_id).await?.is_none() {
            return Err(ServiceError::NotFound("webhook"));
        }
        let name = event_type.ok_or_else(|| Invalid::field("event_type", "is required"))?;
        super::event_types::refresh_for(store, &self.registry, [&name.to_string()]).await?;
        let registered = self.registry.get(name).ok_or_else(|| {
            Invalid::field(
                "event_type",
                format!("{name:?} is not a registered event type"),
            )
        })?;
        let now = self.clock.now();
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
        self.deliverer
            .attempt(claim)
            .await?
            .ok_or(ServiceError::Unavailable(UNREADABLE_SECRET))
    }
}
