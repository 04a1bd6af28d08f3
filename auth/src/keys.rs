use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::AuthError;

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// The gateway's Ed25519 signing key (PKCS#8). Its `Debug` never shows the
/// key material.
pub struct SigningKey {
    pkcs8: Vec<u8>,
    public: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key.
    pub fn generate() -> Result<Self, AuthError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| AuthError::Key("the system random source failed".into()))?;
        Self::from_pkcs8(doc.as_ref().to_vec())
    }

    /// Parses a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let body = pem
            .trim()
            .strip_prefix(PEM_BEGIN)
            .and_then(|rest| rest.strip_suffix(PEM_END))
            .ok_or_else(|| AuthError::Key("expected a PKCS#8 PEM private key".into()))?;
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(b64)
            .map_err(|_| AuthError::Key("the PEM body is not valid base64".into()))?;
        Self::from_pkcs8(der)
    }

    /// Reads the key from `path`, or, when `create` is set and the file does
    /// not exist, generates one and writes it there readable by the owner only.
    pub fn load_or_create(path: &Path, create: bool) -> Result<Self, AuthError> {
        match std::fs::read_to_string(path) {
            Ok(pem) => Self::from_pem(&pem),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = Self::generate()?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| AuthError::Key(format!("{}: {e}", dir.display())))?;
                }
                write_private(path, key.to_pem().as_bytes())
                    .map_err(|e| AuthError::Key(format!("{}: {e}", path.display())))?;
                Ok(key)
            }
            Err(e) => Err(AuthError::Key(format!("{}: {e}", path.display()))),
        }
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> Result<Self, AuthError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
            .map_err(|_| AuthError::Key("not an Ed25519 PKCS#8 key".into()))?;
        let public = pair.public_key().as_ref().to_vec();
        let digest = ring::digest::digest(&ring::digest::SHA256, &public);
        let kid = URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12]);
        Ok(Self { pkcs8, public, kid })
    }

    /// The PEM encoding, for writing the key to its file.
    pub fn to_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.pkcs8);
        let mut pem = String::from(PEM_BEGIN);
        for chunk in b64.as_bytes().chunks(64) {
            pem.push('\n');
            pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        }
        pem.push('\n');
        pem.push_str(PEM_END);
        pem.push('\n');
        pem
    }

    /// The key id published with tokens: a digest of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(crate) fn public_key(&self) -> &[u8] {
        &self.public
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::SigningKey;

    #[test]
    fn pem_round_trips_and_debug_hides_the_key() {
        let key = SigningKey::generate().expect("generate");
        let again = SigningKey::from_pem(&key.to_pem()).expect("parse");
        assert_eq!(key.kid(), again.kid());
        let shown = format!("{key:?}");
        assert!(!shown.contains("pkcs8") && shown.contains(key.kid()));
        assert!(SigningKey::from_pem("not a key").is_err());
    }
}
