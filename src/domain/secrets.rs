//! The random secrets people carry (session ids, one-time links, API tokens) and how they
//! are kept: only as SHA-256, never in clear. They are 160 bits or more of randomness, so a
//! fast hash loses nothing (a password, by contrast, is hashed with argon2id).
//!
//! API tokens look like `txa_` and 32 base32 characters of randomness and a 7-character
//! checksum (CRC-32 of the rest): the prefix lets secret scanners recognise a leaked token,
//! as GitHub's do, and the checksum lets them (and the server) tell a token from a typo
//! without a database lookup.

use rand::RngCore;
use sha2::{Digest, Sha256};

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A new random secret of `bytes` bytes, in base32.
pub fn random_secret(rng: &mut impl RngCore, bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rng.fill_bytes(&mut raw);
    base32(&raw)
}

/// How a secret is kept: its SHA-256.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// What every API token starts with.
pub const TOKEN_PREFIX: &str = "txa_";

fn checksum(body: &str) -> String {
    let crc = crc32fast::hash(body.as_bytes());
    let mut s = base32(&crc.to_be_bytes());
    s.truncate(7);
    s
}

/// A new API token.
pub fn new_api_token(rng: &mut impl RngCore) -> String {
    let body = random_secret(rng, 20);
    let sum = checksum(&body);
    format!("{TOKEN_PREFIX}{body}{sum}")
}

/// Whether `token` is shaped as an API token, checksum included.
pub fn is_api_token(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else {
        return false;
    };
    if rest.len() != 39 || !rest.bytes().all(|b| BASE32.contains(&b)) {
        return false;
    }
    let (body, sum) = rest.split_at(32);
    checksum(body) == sum
}

/// The part of a token kept in clear to tell tokens apart in lists: `txa_` and 4 more.
pub fn token_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX.len() + 4).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn api_tokens_carry_a_prefix_and_a_checksum() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let token = new_api_token(&mut rng);
        assert!(token.starts_with("txa_") && token.len() == 43, "{token}");
        assert!(is_api_token(&token));
        let mut typo = token.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!is_api_token(&String::from_utf8(typo).unwrap()));
        assert!(!is_api_token("txa_short"));
        assert!(!is_api_token(&token.replace("txa_", "tx_a")));
        assert_eq!(token_prefix(&token).len(), 8);
        assert_eq!(secret_hash(&token).len(), 32);
        assert_ne!(new_api_token(&mut rng), token);
    }

    #[test]
    fn base32_is_rfc_4648_lower_case() {
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }
}
