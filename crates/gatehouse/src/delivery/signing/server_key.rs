//! The server key: 32 bytes that encrypt signing keys (and webhook secrets) at rest with
//! AES-256-GCM, so a copy of the database alone signs nothing (docs/ARCHITECTURE.md, principle 6).
//!
//! It comes from `GATEHOUSE_SECRET_KEY` (standard base64 of 32 bytes) or, when that is not set,
//! from `<data dir>/secret.key`, which the first start creates with mode 0600. Losing it makes
//! every stored private key unreadable: policies must then be rotated (new key pairs, new
//! public keys handed to receivers).
//!
//! Ciphertext layout: `version (1 byte) || nonce (12 bytes) || AES-256-GCM ciphertext and tag`.
//! The version byte is authenticated with the caller's associated data, which should name what
//! the plaintext belongs to (e.g. the policy and key id) so a ciphertext cannot be moved to
//! another row.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::rng::random_bytes;

/// The server key's length in bytes (AES-256).
pub const SERVER_KEY_BYTES: usize = 32;
/// The ciphertext format this build writes.
const FORMAT_VERSION: u8 = 1;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// Why the server key could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum ServerKeyError {
    #[error("the server key is not valid base64")]
    NotBase64,
    #[error(
        "the server key has {0} bytes; it must have exactly 32 (e.g. `openssl rand -base64 32`)"
    )]
    WrongLength(usize),
    #[error("could not read or create the server key file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("could not encrypt: {0}")]
    Encryption(String),
    #[error("the ciphertext is too short to be one")]
    Truncated,
    #[error("the ciphertext has format version {0}, which this build cannot read")]
    UnknownVersion(u8),
    #[error("the ciphertext does not decrypt with this server key: wrong key or tampered data")]
    Decryption,
}

/// The key that encrypts secrets at rest. `Debug` is redacted; the key schedule is wiped on drop.
pub struct ServerKey {
    cipher: Aes256Gcm,
}

impl ServerKey {
    /// A new random key from the OS RNG.
    pub fn generate() -> Result<Self, ServerKeyError> {
        let bytes = random_bytes(SERVER_KEY_BYTES)
            .map_err(|error| ServerKeyError::Random(error.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// The key from its base64 form (`GATEHOUSE_SECRET_KEY`, or the key file's content).
    pub fn from_base64(text: &str) -> Result<Self, ServerKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| ServerKeyError::NotBase64)?,
        );
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ServerKeyError> {
        if bytes.len() != SERVER_KEY_BYTES {
            return Err(ServerKeyError::WrongLength(bytes.len()));
        }
        let cipher = Aes256Gcm::new_from_slice(bytes)
            .map_err(|_| ServerKeyError::WrongLength(bytes.len()))?;
        Ok(ServerKey { cipher })
    }

    /// The key in the file at `path`, or — when there is no file — a new key written there
    /// with mode 0600 (its directory created if need be). Safe when several processes start
    /// at once on one data directory: the file appears whole or not at all (written aside,
    /// then hard-linked into place, which fails if another process got there first), and every
    /// process ends up with the key in the file.
    pub fn load_or_create(path: &Path) -> Result<Self, ServerKeyError> {
        let io_error = |source: io::Error| ServerKeyError::Io {
            path: path.to_owned(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => return Self::from_base64(&Zeroizing::new(text)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(error)),
        }

        let bytes = random_bytes(SERVER_KEY_BYTES)
            .map_err(|error| ServerKeyError::Random(error.to_string()))?;
        let key = Self::from_bytes(&bytes)?;
        let text = Zeroizing::new(format!("{}\n", STANDARD.encode(&*bytes)));

        if let Some(directory) = path
            .parent()
            .filter(|directory| !directory.as_os_str().is_empty())
        {
            fs::create_dir_all(directory).map_err(io_error)?;
        }
        let suffix = hex::encode(
            &*random_bytes(8).map_err(|error| ServerKeyError::Random(error.to_string()))?,
        );
        let temporary = path.with_file_name(format!(
            ".{}.{suffix}.tmp",
            path.file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("secret.key")
        ));
        let written = write_private_file(&temporary, text.as_bytes())
            .and_then(|()| fs::hard_link(&temporary, path));
        // The temporary name goes in every case; the key, if linked, stays under `path`.
        let _ = fs::remove_file(&temporary);
        match written {
            Ok(()) => {
                sync_directory(path);
                Ok(key)
            }
            // Another process created the file between our read and our link: use its key.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let text = Zeroizing::new(fs::read_to_string(path).map_err(io_error)?);
                Self::from_base64(&text)
            }
            Err(error) => Err(io_error(error)),
        }
    }

    /// Encrypts `plaintext`, binding it to `associated_data` (which is not stored: the same
    /// bytes must be given to `decrypt`). A fresh random nonce each time.
    pub fn encrypt(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, ServerKeyError> {
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce_bytes)
            .map_err(|error| ServerKeyError::Random(error.to_string()))?;
        let nonce = Nonce::from(nonce_bytes);
        let aad = versioned_aad(FORMAT_VERSION, associated_data);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|error| ServerKeyError::Encryption(error.to_string()))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The plaintext `encrypt` sealed with the same `associated_data`. A wrong key, other
    /// associated data or any changed byte is `ServerKeyError::Decryption`.
    pub fn decrypt(
        &self,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ServerKeyError> {
        let (&version, rest) = sealed.split_first().ok_or(ServerKeyError::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(ServerKeyError::UnknownVersion(version));
        }
        if rest.len() < NONCE_BYTES + TAG_BYTES {
            return Err(ServerKeyError::Truncated);
        }
        let (nonce_bytes, ciphertext) = rest.split_at(NONCE_BYTES);
        let nonce_bytes: [u8; NONCE_BYTES] = nonce_bytes
            .try_into()
            .map_err(|_| ServerKeyError::Truncated)?;
        let aad = versioned_aad(version, associated_data);
        self.cipher
            .decrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| ServerKeyError::Decryption)
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ServerKey([redacted])")
    }
}

fn versioned_aad(version: u8, associated_data: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + associated_data.len());
    aad.push(version);
    aad.extend_from_slice(associated_data);
    aad
}

/// Creates `path` (which must not exist) readable and writable by its owner only, writes
/// `contents` and flushes them to disk.
fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes the new directory entry durable; best effort (not every platform can open a
/// directory).
fn sync_directory(path: &Path) {
    if let Some(directory) = path
        .parent()
        .filter(|directory| !directory.as_os_str().is_empty())
        && let Ok(handle) = fs::File::open(directory)
    {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_decrypt_gives_the_plaintext_back() {
        let key = ServerKey::generate().unwrap();
        let sealed = key.encrypt(b"private key der", b"policy 7 key 2").unwrap();
        assert_eq!(sealed[0], FORMAT_VERSION);
        assert_eq!(
            sealed.len(),
            1 + NONCE_BYTES + b"private key der".len() + TAG_BYTES
        );
        assert_eq!(
            &*key.decrypt(&sealed, b"policy 7 key 2").unwrap(),
            b"private key der"
        );
        // A fresh nonce each time: the same plaintext never seals the same way twice.
        assert_ne!(
            key.encrypt(b"private key der", b"policy 7 key 2").unwrap(),
            sealed
        );
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let key = ServerKey::generate().unwrap();
        let sealed = key.encrypt(b"secret", b"aad").unwrap();
        for index in 1..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 0x01;
            assert!(
                matches!(
                    key.decrypt(&tampered, b"aad"),
                    Err(ServerKeyError::Decryption)
                ),
                "byte {index}"
            );
        }
        let mut other_version = sealed.clone();
        other_version[0] = 2;
        assert!(matches!(
            key.decrypt(&other_version, b"aad"),
            Err(ServerKeyError::UnknownVersion(2))
        ));
    }

    #[test]
    fn other_associated_data_or_a_wrong_key_is_an_error_not_a_panic() {
        let key = ServerKey::generate().unwrap();
        let sealed = key.encrypt(b"secret", b"policy 1").unwrap();
        assert!(matches!(
            key.decrypt(&sealed, b"policy 2"),
            Err(ServerKeyError::Decryption)
        ));
        let other = ServerKey::generate().unwrap();
        assert!(matches!(
            other.decrypt(&sealed, b"policy 1"),
            Err(ServerKeyError::Decryption)
        ));
        for short in [
            &sealed[..0],
            &sealed[..1],
            &sealed[..NONCE_BYTES + TAG_BYTES],
        ] {
            assert!(matches!(
                key.decrypt(short, b"policy 1"),
                Err(ServerKeyError::Truncated)
            ));
        }
    }

    #[test]
    fn the_key_must_be_32_bytes_of_base64() {
        assert!(ServerKey::from_base64(&STANDARD.encode([9u8; 32])).is_ok());
        assert!(matches!(
            ServerKey::from_base64(&STANDARD.encode([9u8; 16])),
            Err(ServerKeyError::WrongLength(16))
        ));
        assert!(matches!(
            ServerKey::from_base64("not base64!"),
            Err(ServerKeyError::NotBase64)
        ));
    }

    #[test]
    fn load_or_create_writes_a_private_file_once_and_reads_it_after() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("data").join("secret.key");
        let first = ServerKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = ServerKey::load_or_create(&path).unwrap();
        let sealed = first.encrypt(b"secret", b"").unwrap();
        assert_eq!(&*second.decrypt(&sealed, b"").unwrap(), b"secret");
        // The file is the env var's format, and nothing else was left in the directory.
        let text = fs::read_to_string(&path).unwrap();
        let from_env_format = ServerKey::from_base64(&text).unwrap();
        assert_eq!(&*from_env_format.decrypt(&sealed, b"").unwrap(), b"secret");
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("secret.key");
        let keys: Vec<ServerKey> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| ServerKey::load_or_create(&path).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        let sealed = keys[0].encrypt(b"secret", b"").unwrap();
        for key in &keys {
            assert_eq!(&*key.decrypt(&sealed, b"").unwrap(), b"secret");
        }
    }

    #[test]
    fn a_corrupt_key_file_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("secret.key");
        fs::write(&path, "short").unwrap();
        assert!(ServerKey::load_or_create(&path).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", ServerKey::generate().unwrap()),
            "ServerKey([redacted])"
        );
    }
}
