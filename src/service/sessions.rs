//! Signing in to the dashboard and the sessions that follow. A session is a random token the
//! browser holds; the database keeps only its SHA-256 hash, and the credential it was opened
//! with is never stored. Failed sign-ins are counted per client address
//! ([`super::LoginThrottle`]): past `SPEAKNODE_LOGIN_ATTEMPTS` a sign-in is refused without the
//! credential being looked at.

use std::net::IpAddr;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::domain::ids::{hash_key, random_base62};
use crate::store::{NewSession, Session};

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

/// The hash a session is stored and found by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Service {
    /// Opens a session on the workspace the API key belongs to. A fresh token at every
    /// sign-in: a token planted before sign-in is never promoted.
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
        let token = random_base62(TOKEN_CHARS);
        let now = self.clock.now();
        self.store
            .create_session(&NewSession {
                token_hash: token_hash(&token),
                workspace_id,
                csrf_token: random_base62(TOKEN_CHARS),
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
