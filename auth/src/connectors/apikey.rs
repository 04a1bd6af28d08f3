//! The connector API key format.
//!
//! `prep_live_<id>_<secret><check>`: a type prefix (`prep_live_`, or
//! `prep_test_` for sandbox tenants), the key's public id (32 hex digits,
//! so it is found by primary key, never by scanning), 43 base62 characters
//! of secret (256 bits), and a CRC-32 of everything before it in 6 base62
//! characters. The prefix makes a leaked key recognisable by secret
//! scanners; the checksum lets anyone tell a real key from a typo or a
//! truncation offline, and lets the gateway refuse such keys without a
//! database round trip. Only an HMAC of the id and secret is stored.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LEN: usize = 43;
const CHECK_LEN: usize = 6;
const ID_LEN: usize = 32;
const PREFIX_LEN: usize = 10;
/// What follows the prefix: id, separator, secret, check.
const BODY_LEN: usize = ID_LEN + 1 + SECRET_LEN + CHECK_LEN;
/// Length of every connector key.
pub const KEY_LEN: usize = PREFIX_LEN + BODY_LEN;

/// Which kind of tenant a key works for, shown in its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Production tenants: `prep_live_`.
    Live,
    /// Sandbox tenants: `prep_test_`.
    Test,
}

impl Environment {
    /// The key prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Environment::Live => "prep_live_",
            Environment::Test => "prep_test_",
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    /// The environment of a tenant.
    pub fn of_tenant(is_sandbox: bool) -> Self {
        if is_sandbox {
            Environment::Test
        } else {
            Environment::Live
        }
    }
}

/// Why a presented key is not even a key: decided offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Not a Prep connector key (another prefix: a SCIM token, another
    /// vendor's key).
    Prefix,
    /// Wrong length or characters (truncated, padded, mangled).
    Malformed,
    /// The checksum does not match (a typo, or a made-up key).
    Checksum,
}

/// A well-formed key, split.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// Live or test.
    pub environment: Environment,
    /// The key's id.
    pub id: Uuid,
    /// The secret characters.
    pub secret: &'a [u8],
}

/// Whether `token` carries a connector key prefix (so a bearer value is
/// judged as a key, not as a JWT).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with("prep_live_") || token.starts_with("prep_test_")
}

/// Splits and checks a presented key, without any I/O.
pub fn parse(key: &str) -> Result<ParsedKey<'_>, FormatError> {
    let environment = if key.starts_with(Environment::Live.prefix()) {
        Environment::Live
    } else if key.starts_with(Environment::Test.prefix()) {
        Environment::Test
    } else {
        return Err(FormatError::Prefix);
    };
    let (id, secret) = parse_with(key, environment.prefix())?;
    Ok(ParsedKey {
        environment,
        id,
        secret,
    })
}

/// Splits and checks a key of this format under any `prefix` (connector
/// keys, sandbox keys), without any I/O.
pub fn parse_with<'a>(key: &'a str, prefix: &str) -> Result<(Uuid, &'a [u8]), FormatError> {
    if !key.starts_with(prefix) {
        return Err(FormatError::Prefix);
    }
    let b = key.as_bytes();
    let p = prefix.len();
    if b.len() != p + BODY_LEN {
        return Err(FormatError::Malformed);
    }
    let id_hex = &b[p..p + ID_LEN];
    let sep = b[p + ID_LEN];
    let secret = &b[p + ID_LEN + 1..b.len() - CHECK_LEN];
    let check = &b[b.len() - CHECK_LEN..];
    let hex_ok = id_hex
        .iter()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    if !hex_ok || sep != b'_' || !secret.iter().chain(check).all(u8::is_ascii_alphanumeric) {
        return Err(FormatError::Malformed);
    }
    if check != checksum(&b[..b.len() - CHECK_LEN]) {
        return Err(FormatError::Checksum);
    }
    let id = std::str::from_utf8(id_hex)
        .ok()
        .and_then(|s| Uuid::try_parse(s).ok())
        .ok_or(FormatError::Malformed)?;
    Ok((id, secret))
}

/// A new key for `id`, with its secret drawn from the system's CSPRNG.
pub fn generate(environment: Environment, id: Uuid) -> Result<String, ring::error::Unspecified> {
    generate_with(environment.prefix(), id)
}

/// A new key of this format under any `prefix`.
pub fn generate_with(prefix: &str, id: Uuid) -> Result<String, ring::error::Unspecified> {
    let rng = SystemRandom::new();
    let mut secret = String::with_capacity(SECRET_LEN);
    let mut pool = [0u8; 64];
    while secret.len() < SECRET_LEN {
        rng.fill(&mut pool)?;
        // rejection sampling: 248 = 4 * 62, so every character is uniform
        for &byte in pool.iter().filter(|&&b| b < 248) {
            if secret.len() == SECRET_LEN {
                break;
            }
            secret.push(BASE62[usize::from(byte % 62)] as char);
        }
    }
    let body = format!("{prefix}{}_{secret}", id.simple());
    let check = checksum(body.as_bytes());
    Ok(body + std::str::from_utf8(&check).unwrap_or_default())
}

/// The stored MAC of a key: it binds the secret to its id.
pub fn mac(key: &hmac::Key, id: Uuid, secret: &[u8]) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(id.as_bytes());
    ctx.update(secret);
    ctx.sign()
}

/// Whether `secret` is the one whose MAC is `stored`, in constant time.
pub fn verify(key: &hmac::Key, id: Uuid, secret: &[u8], stored: &[u8]) -> bool {
    let mut material = Vec::with_capacity(16 + secret.len());
    material.extend_from_slice(id.as_bytes());
    material.extend_from_slice(secret);
    hmac::verify(key, &material, stored).is_ok()
}

/// What a key looks like in lists: its prefix and id, never its secret.
pub fn hint(environment: Environment, id: Uuid) -> String {
    format!("{}{}_…", environment.prefix(), id.simple())
}

/// CRC-32 (IEEE) of `data` as 6 base62 characters.
fn checksum(data: &[u8]) -> [u8; CHECK_LEN] {
    let mut n = crc32(data);
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn generated_keys_parse_back() {
        let id = Uuid::new_v4();
        let key = generate(Environment::Live, id).expect("rng");
        assert_eq!(key.len(), KEY_LEN);
        let parsed = parse(&key).expect("parse");
        assert_eq!(parsed.id, id);
        assert_eq!(parsed.environment, Environment::Live);
        assert_eq!(parsed.secret.len(), SECRET_LEN);
        let test = generate(Environment::Test, id).expect("rng");
        assert!(test.starts_with("prep_test_"));
        assert_eq!(parse(&test).map(|p| p.environment), Ok(Environment::Test));
        assert_ne!(key, generate(Environment::Live, id).expect("rng"));
    }

    #[test]
    fn damaged_keys_are_refused_offline() {
        let key = generate(Environment::Live, Uuid::new_v4()).expect("rng");
        assert_eq!(parse(&key[..KEY_LEN - 1]), Err(FormatError::Malformed));
        assert_eq!(parse(&format!("{key}x")), Err(FormatError::Malformed));
        assert_eq!(
            parse(&key.replacen("prep_live_", "prep_scim_", 1)),
            Err(FormatError::Prefix)
        );
        assert_eq!(parse("ghp_abc"), Err(FormatError::Prefix));
        assert_eq!(parse(""), Err(FormatError::Prefix));
        // one secret character changed: the checksum catches it
        let mut typo = key.clone().into_bytes();
        let i = PREFIX_LEN + ID_LEN + 5;
        typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).expect("ascii");
        assert_eq!(parse(&typo), Err(FormatError::Checksum));
        // a character outside base62
        let mut bad = key.into_bytes();
        bad[PREFIX_LEN + ID_LEN + 3] = b'-';
        assert_eq!(
            parse(&String::from_utf8(bad).expect("ascii")),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn the_mac_binds_secret_and_id() {
        let k = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let tag = mac(&k, a, b"secret");
        assert!(verify(&k, a, b"secret", tag.as_ref()));
        assert!(!verify(&k, b, b"secret", tag.as_ref()));
        assert!(!verify(&k, a, b"secreT", tag.as_ref()));
    }
}
