//! Public identifiers: a type prefix (`wh_`, `evt_`, …), the creation time and random base62
//! characters, so an id says what it names, cannot be guessed, and sorts by creation time.
//!
//! Why the time: ids are the keys of unique indexes. Random keys land on a random index page
//! each, so every group commit rewrote nearly every leaf page of those indexes; keys that grow
//! with time are appended to the same few pages.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Milliseconds since 1970 in base62: 8 characters last until the year 8,900.
const ID_TIME_CHARS: usize = 8;
/// How many random characters an id carries after the time: 18 base62 characters are about
/// 107 bits.
const ID_RANDOM_CHARS: usize = 18;
/// Generated API keys read `sk_` + 40 random characters (the contract asks for 32 or more).
const API_KEY_RANDOM_CHARS: usize = 40;

pub const WORKSPACE: &str = "ws";
pub const API_KEY: &str = "key";
pub const WEBHOOK: &str = "wh";
pub const EVENT: &str = "evt";
pub const DELIVERY: &str = "dlv";
pub const ATTEMPT: &str = "att";

/// Base62 characters from the thread's CSPRNG.
pub fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new id with the given prefix, e.g. `new_id(ids::WEBHOOK)` → `wh_…`.
pub fn new_id(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    format!(
        "{prefix}_{}{}",
        base62_fixed(millis, ID_TIME_CHARS),
        random_base62(ID_RANDOM_CHARS)
    )
}

/// `value` in exactly `width` base62 digits (the alphabet is in ASCII order, so fixed-width
/// numbers sort as text the way they sort as numbers).
fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// A new secret API key, `sk_…`.
/// What the database keeps of an API key (or a session or portal token): its SHA-256, never the
/// key itself.
pub fn hash_key(key: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes()).to_vec()
}

pub fn new_api_key() -> String {
    format!("sk_{}", random_base62(API_KEY_RANDOM_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_enough_randomness() {
        let id = new_id(WEBHOOK);
        assert!(id.starts_with("wh_"));
        assert_eq!(id.len(), 3 + ID_TIME_CHARS + ID_RANDOM_CHARS);
        assert_ne!(new_id(EVENT), new_id(EVENT));
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let first = new_id(EVENT);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id(EVENT);
        assert!(first[..4 + ID_TIME_CHARS] < second[..4 + ID_TIME_CHARS]);
        assert!(base62_fixed(61, 3) < base62_fixed(62, 3));
        assert_eq!(base62_fixed(62 * 62 + 1, 3), "101");
    }

    #[test]
    fn generated_api_keys_have_at_least_32_random_characters() {
        let key = new_api_key();
        assert!(key.starts_with("sk_"));
        assert!(key.len() - 3 >= 32);
        assert!(key[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
