//! Webhook secrets encrypted at rest. With `SPEAKNODE_ENCRYPTION_KEY` set, every secret the store
//! writes is sealed with ChaCha20-Poly1305 (a fresh random nonce each time) and reads are opened
//! again, so a copy of the database alone does not reveal any signing secret. Secrets written
//! before the key was set stay readable as plaintext; rotating them seals the new ones.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use super::webhook::Secret;

/// Marks a sealed value: `enc:v1:` + base64(nonce ‖ ciphertext).
const PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "SPEAKNODE_ENCRYPTION_KEY must be the base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)"
    )]
    BadKey,
    #[error("a webhook secret is encrypted but SPEAKNODE_ENCRYPTION_KEY is not set")]
    NoKey,
    #[error(
        "a webhook secret could not be decrypted: wrong SPEAKNODE_ENCRYPTION_KEY or corrupt data"
    )]
    Undecryptable,
}

/// Seals and opens stored secrets; without a key it passes plaintext through.
#[derive(Clone, Default)]
pub struct Sealer(Option<Arc<ChaCha20Poly1305>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Sealer(encrypting)"
        } else {
            "Sealer(plaintext)"
        })
    }
}

impl Sealer {
    /// A sealer from the base64 of a 32-byte key.
    pub fn from_base64_key(key: &str) -> Result<Self, SealError> {
        let bytes = BASE64.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        Ok(Self(Some(Arc::new(ChaCha20Poly1305::new(
            Key::from_slice(&bytes),
        )))))
    }

    pub fn plaintext() -> Self {
        Self(None)
    }

    /// The form of `secret` to store.
    pub fn seal(&self, secret: &Secret) -> String {
        let Some(cipher) = &self.0 else {
            return secret.expose().to_string();
        };
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption only fails for inputs over 256 GiB; a secret is 50 bytes.
        let sealed = cipher
            .encrypt(&nonce, secret.expose().as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64.encode(out))
    }

    /// The secret behind a stored value.
    pub fn open(&self, stored: String) -> Result<Secret, SealError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(Secret::from_stored(stored));
        };
        let cipher = self.0.as_ref().ok_or(SealError::NoKey)?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| SealError::Undecryptable)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| SealError::Undecryptable)?;
        String::from_utf8(plain)
            .map(Secret::from_stored)
            .map_err(|_| SealError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn a_sealed_secret_opens_to_itself_and_hides_it() {
        let sealer = Sealer::from_base64_key(KEY).expect("valid key");
        let secret = Secret::generate();
        let stored = sealer.seal(&secret);
        assert!(stored.starts_with(PREFIX));
        assert!(!stored.contains(&secret.expose()[6..]));
        assert_ne!(stored, sealer.seal(&secret), "a fresh nonce each time");
        assert_eq!(sealer.open(stored).expect("opens"), secret);
    }

    #[test]
    fn the_wrong_key_or_no_key_cannot_open_and_plaintext_still_reads() {
        let sealer = Sealer::from_base64_key(KEY).expect("valid key");
        let other = Sealer::from_base64_key(&BASE64.encode([7u8; 32])).expect("valid key");
        let stored = sealer.seal(&Secret::generate());
        assert_eq!(other.open(stored.clone()), Err(SealError::Undecryptable));
        assert_eq!(Sealer::plaintext().open(stored), Err(SealError::NoKey));
        assert_eq!(
            sealer.open("whsec_plain".into()).expect("plaintext"),
            Secret::from_stored("whsec_plain".into())
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert_eq!(
            Sealer::from_base64_key("short").err(),
            Some(SealError::BadKey)
        );
        assert_eq!(
            Sealer::from_base64_key(&BASE64.encode([1u8; 16])).err(),
            Some(SealError::BadKey)
        );
    }
}
