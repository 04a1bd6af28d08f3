//! Secrets at rest and in cookies: AES-256-GCM under keys derived (HKDF)
//! from one master key, one key per purpose, so a ciphertext made for one
//! purpose never opens as another.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::AuthError;

const VERSION: u8 = 1;

/// The gateway's master key (32 bytes). Its `Debug` shows nothing.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// What a sealed value is for; each purpose gets its own derived key.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// Private halves of the gateway's signing keys.
    SigningKey,
    /// SSO client secrets.
    ClientSecret,
    /// The short-lived login-transaction cookie.
    LoginCookie,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SigningKey => b"prep/seal/signing-key/v1",
            Purpose::ClientSecret => b"prep/seal/sso-client-secret/v1",
            Purpose::LoginCookie => b"prep/seal/login-cookie/v1",
        }
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| AuthError::Key("the system random source failed".into()))?;
        Ok(Self(bytes))
    }

    /// Parses the file form: 32 bytes, base64.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| AuthError::Key("the master key is not valid base64".into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| AuthError::Key("the master key must be 32 bytes".into()))?;
        Ok(Self(bytes))
    }

    /// Reads the key from `path`, or, when `create` is set and the file does
    /// not exist, generates one and writes it there readable by the owner only.
    pub fn load_or_create(path: &Path, create: bool) -> Result<Self, AuthError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = Self::generate()?;
                crate::keys::write_private(
                    path,
                    format!("{}\n", STANDARD.encode(key.0)).as_bytes(),
                )
                .map_err(|e| AuthError::Key(format!("{}: {e}", path.display())))?;
                Ok(key)
            }
            Err(e) => Err(AuthError::Key(format!("{}: {e}", path.display()))),
        }
    }

    /// The sealer for one purpose.
    pub fn sealer(&self, purpose: Purpose) -> Sealer {
        let mut key = [0u8; 32];
        derive(&self.0, purpose.label(), &mut key);
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("32 bytes is an AES-256 key");
        Sealer {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    /// An HMAC key for one purpose (CSRF tokens).
    pub fn mac_key(&self, label: &'static [u8]) -> hmac::Key {
        let mut key = [0u8; 32];
        derive(&self.0, label, &mut key);
        hmac::Key::new(hmac::HMAC_SHA256, &key)
    }
}

fn derive(master: &[u8; 32], label: &'static [u8], out: &mut [u8; 32]) {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"prep-gateway").extract(master);
    let labels = [label];
    prk.expand(&labels, Len32)
        .and_then(|okm| okm.fill(out))
        .expect("32 bytes is within HKDF-SHA256's output limit");
}

/// Seals and opens values for one purpose. `context` binds a ciphertext to
/// where it belongs (a tenant and row id), so it cannot be moved elsewhere.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// `version || nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| AuthError::Key("the system random source failed".into()))?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut buf,
            )
            .map_err(|_| AuthError::Key("sealing failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Opens a value sealed with the same purpose and context; any change to
    /// it, or another context, fails.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, AuthError> {
        let bad = || AuthError::Sealed;
        let (&version, rest) = sealed.split_first().ok_or_else(bad)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| bad())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_purpose_and_context() {
        let master = MasterKey::generate().expect("key");
        let a = master.sealer(Purpose::ClientSecret);
        let sealed = a.seal(b"s3cret", b"tenant-1").expect("seal");
        assert_eq!(a.open(&sealed, b"tenant-1").expect("open"), b"s3cret");
        assert!(a.open(&sealed, b"tenant-2").is_err(), "other context");
        let b = master.sealer(Purpose::LoginCookie);
        assert!(b.open(&sealed, b"tenant-1").is_err(), "other purpose");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(a.open(&tampered, b"tenant-1").is_err(), "tampered");
        assert!(a.open(&[], b"").is_err() && a.open(&[1, 2, 3], b"").is_err());
        let again = MasterKey::from_base64(&STANDARD.encode(master.0)).expect("parse");
        assert_eq!(
            again
                .sealer(Purpose::ClientSecret)
                .open(&sealed, b"tenant-1")
                .expect("open"),
            b"s3cret"
        );
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
    }
}
