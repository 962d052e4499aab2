//! Public identifiers: a type prefix (`wh_`, `evt_`, …) and random base62 characters, so an id
//! says what it names and cannot be guessed.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How many random characters an id carries: 22 base62 characters are about 131 bits.
const ID_RANDOM_CHARS: usize = 22;
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
    format!("{prefix}_{}", random_base62(ID_RANDOM_CHARS))
}

/// A new secret API key, `sk_…`.
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
        assert_eq!(id.len(), 3 + ID_RANDOM_CHARS);
        assert_ne!(new_id(EVENT), new_id(EVENT));
    }

    #[test]
    fn generated_api_keys_have_at_least_32_random_characters() {
        let key = new_api_key();
        assert!(key.starts_with("sk_"));
        assert!(key.len() - 3 >= 32);
        assert!(key[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
