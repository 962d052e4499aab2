//! Signing in to the dashboard and the sessions that follow. A session is a random token the
//! browser holds; the database keeps only its SHA-256 hash, and the credential it was opened
//! with is never stored. Failed sign-ins are counted per client address
//! ([`super::LoginThrottle`]): past `SPEAKNODE_LOGIN_ATTEMPTS` a sign-in is refused without the
//! credential being looked at.

use std::net::IpAddr;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::domain::ids::{hash_key, random_base62};
use crate::domain::time::Millis;
use crate::store::{NewPortalLink, NewSession, Session};

use super::{Service, ServiceError};

/// How long a sign-in lasts: a working day.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// 43 base62 characters: about 256 bits.
pub const TOKEN_CHARS: usize = 43;

/// A new session's token, for the browser's cookie; the only time it exists outside the
/// browser.
pub struct SessionToken {
    pub token: String,
    /// How long it lasts, in seconds (the cookie's `Max-Age`).
    pub max_age_secs: i64,
}

/// A portal link as the platform hands it to its customer.
pub struct PortalLink {
    /// `SPEAKNODE_PUBLIC_URL` + `/portal/<token>`.
    pub url: String,
    pub expires_at: Millis,
    pub read_only: bool,
}

/// The hash a session (or a portal link) is stored and found by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Service {
    /// Opens a session on the workspace the API key belongs to.
    pub async fn sign_in(
        &self,
        api_key: &str,
        client: IpAddr,
    ) -> Result<SessionToken, ServiceError> {
        // Before anything else: a refused address learns nothing about any key.
        if let Some(wait) = self.login_throttle.refused(client, Instant::now()) {
            self.deliverer.metrics.login_throttled();
            return Err(ServiceError::Throttled(wait));
        }
        let workspace = match api_key.trim() {
            "" => None,
            key => self.store.workspace_for_key(&hash_key(key)).await?,
        };
        let Some(workspace_id) = workspace else {
            self.login_throttle.failed(client, Instant::now());
            return Err(ServiceError::Refused);
        };
        self.open_session(workspace_id, false).await
    }

    /// Mints a portal link to the workspace's dashboard: good for one sign-in within
    /// `SPEAKNODE_PORTAL_LINK_TTL`. Only the token's hash is stored; the link is answered once.
    pub async fn mint_portal_link(
        &self,
        workspace_id: &str,
        read_only: bool,
    ) -> Result<PortalLink, ServiceError> {
        let token = random_base62(TOKEN_CHARS);
        let now = self.clock.now();
        let expires_at = now + self.portal_links.ttl.as_millis() as i64;
        let link = NewPortalLink {
            token_hash: token_hash(&token),
            workspace_id: workspace_id.to_string(),
            read_only,
            created_at: now,
            expires_at,
        };
        if !self.store.create_portal_link(&link).await? {
            return Err(ServiceError::NotFound("workspace"));
        }
        Ok(PortalLink {
            url: format!("{}/portal/{token}", self.portal_links.public_url),
            expires_at,
            read_only,
        })
    }

    /// Signs in through a portal link: the link is spent, and a session of its workspace opens.
    /// An unknown, used or expired link is refused alike, and counts as a failed sign-in from
    /// `client`, so links cannot be guessed any faster than API keys.
    pub async fn open_portal_link(
        &self,
        token: &str,
        client: IpAddr,
    ) -> Result<(SessionToken, bool), ServiceError> {
        if let Some(wait) = self.login_throttle.refused(client, Instant::now()) {
            self.deliverer.metrics.login_throttled();
            return Err(ServiceError::Throttled(wait));
        }
        let now = self.clock.now();
        let grant = match token {
            "" => None,
            token => {
                self.store
                    .redeem_portal_link(&token_hash(token), now)
                    .await?
            }
        };
        let Some(grant) = grant else {
            self.login_throttle.failed(client, Instant::now());
            return Err(ServiceError::Refused);
        };
        let session = self
            .open_session(grant.workspace_id, grant.read_only)
            .await?;
        Ok((session, grant.read_only))
    }

    /// A new session on the workspace. A fresh token at every sign-in: a token planted before
    /// sign-in is never promoted.
    async fn open_session(
        &self,
        workspace_id: String,
        read_only: bool,
    ) -> Result<SessionToken, ServiceError> {
        let token = random_base62(TOKEN_CHARS);
        let now = self.clock.now();
        self.store
            .create_session(&NewSession {
                token_hash: token_hash(&token),
                workspace_id,
                csrf_token: random_base62(TOKEN_CHARS),
                read_only,
                created_at: now,
                expires_at: now + SESSION_TTL_MS,
            })
            .await?;
        Ok(SessionToken {
            token,
            max_age_secs: SESSION_TTL_MS / 1000,
        })
    }

    /// The live session `token` opens, if any.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, ServiceError> {
        let now = self.clock.now();
        Ok(self.store.session(&token_hash(token), now).await?)
    }

    /// Ends the session `token` opened (signing out): its cookie stops working at once.
    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }
}
