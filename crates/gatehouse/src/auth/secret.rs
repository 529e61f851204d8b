//! Bearer secrets and their stored hashes. This file owns the two secret formats — a personal
//! access token (`gth_pat_`) and an account's SCIM provisioning credential (`gth_scim_`), each
//! the prefix + 30 random base62 characters + a 6 character CRC32 checksum — their generation
//! from the operating system random number generator, their offline validation (so a mistyped
//! secret is rejected before any database lookup), and the SHA-256 hash that is the only form a
//! secret is ever stored in. Secrets never appear in `Debug` output or error messages, and
//! hashes are compared in constant time.

use std::fmt;
use std::hash::{Hash, Hasher};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix every personal access token starts with; it makes leaked tokens easy to recognise by
/// secret scanners.
pub const TOKEN_PREFIX: &str = "gth_pat_";

/// Prefix every SCIM provisioning credential starts with, so a scanner tells it from a token.
pub const PROVISIONING_PREFIX: &str = "gth_scim_";

/// Number of random base62 characters after the prefix (about 178 bits of entropy).
const RANDOM_LENGTH: usize = 30;

/// Number of base62 characters encoding the CRC32 checksum (62^6 > 2^32).
const CHECKSUM_LENGTH: usize = 6;

/// The base62 alphabet, in the order used for both random characters and checksum digits.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random bytes at or above this value are rejected so that `byte % 62` is uniform: 248 is the
/// largest multiple of 62 that fits in a byte, so each character has exactly four source values.
const REJECTION_LIMIT: u8 = 62 * 4;

/// The two kinds of bearer secret: same alphabet and checksum, told apart by their prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A person's personal access token (`gth_pat_`, 44 characters).
    Personal,
    /// An account's SCIM provisioning credential (`gth_scim_`, 45 characters).
    Provisioning,
}

impl TokenKind {
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Personal => TOKEN_PREFIX,
            Self::Provisioning => PROVISIONING_PREFIX,
        }
    }

    /// What the secret is called in messages.
    #[must_use]
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Personal => "personal access token",
            Self::Provisioning => "SCIM provisioning credential",
        }
    }

    /// The kind whose prefix `candidate` starts with, if any.
    #[must_use]
    pub fn of(candidate: &str) -> Option<Self> {
        [Self::Personal, Self::Provisioning]
            .into_iter()
            .find(|kind| candidate.starts_with(kind.prefix()))
    }

    /// Total length in characters (every character is ASCII).
    #[must_use]
    pub const fn length(self) -> usize {
        self.prefix().len() + RANDOM_LENGTH + CHECKSUM_LENGTH
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.noun())
    }
}

/// Why a string is not a well-formed secret of a kind. Messages never include the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// The string does not start with the kind's prefix.
    #[error("{0} does not start with the expected `{prefix}` prefix", prefix = .0.prefix())]
    MissingPrefix(TokenKind),
    /// The string is not exactly as long as the kind's secrets are.
    #[error("{0} must be exactly {length} characters long", length = .0.length())]
    WrongLength(TokenKind),
    /// A character after the prefix is outside `0-9A-Za-z`.
    #[error("{0} may only contain the characters 0-9, A-Z and a-z after its prefix")]
    InvalidCharacter(TokenKind),
    /// The trailing checksum does not match the rest of the secret, which usually means a typo.
    #[error("{0} checksum does not match; check it for a typo")]
    ChecksumMismatch(TokenKind),
}

/// The operating system random number generator could not provide randomness.
#[derive(Debug, thiserror::Error)]
#[error("the operating system random number generator failed: {0}")]
pub struct RandomnessError(#[from] getrandom::Error);

/// A bearer secret in clear text (a personal access token or a provisioning credential).
///
/// It exists only between generation and showing it to its owner once, or between reading it
/// from a request and hashing it. Read it with [`TokenSecret::expose`]; it deliberately has no
/// `Display`, and its `Debug` output is redacted.
pub struct TokenSecret {
    kind: TokenKind,
    value: String,
}

impl TokenSecret {
    /// Generates a fresh personal access token from the operating system random number
    /// generator.
    ///
    /// # Panics
    ///
    /// Panics if the operating system random number generator fails, which leaves no safe way to
    /// issue a token. Use [`TokenSecret::try_generate`] to handle that failure instead.
    #[must_use]
    pub fn generate() -> Self {
        Self::generate_of(TokenKind::Personal)
    }

    /// Generates a fresh secret of `kind`; panics as [`TokenSecret::generate`] does.
    #[must_use]
    pub fn generate_of(kind: TokenKind) -> Self {
        match Self::try_generate(kind) {
            Ok(secret) => secret,
            Err(error) => panic!("cannot generate a {kind}: {error}"),
        }
    }

    /// Generates a fresh secret of `kind`, reporting a failure of the operating system random
    /// number generator instead of panicking.
    ///
    /// # Errors
    ///
    /// Returns [`RandomnessError`] when the operating system cannot provide random bytes.
    pub fn try_generate(kind: TokenKind) -> Result<Self, RandomnessError> {
        let mut token = String::with_capacity(kind.length());
        token.push_str(kind.prefix());
        let mut random_characters = 0;
        let mut random_bytes = [0_u8; 64];
        while random_characters < RANDOM_LENGTH {
            getrandom::fill(&mut random_bytes)?;
            for character in random_bytes
                .iter()
                .filter_map(|&byte| base62_from_byte(byte))
            {
                if random_characters == RANDOM_LENGTH {
                    break;
                }
                token.push(char::from(character));
                random_characters += 1;
            }
        }
        random_bytes.fill(0);
        for digit in encode_checksum(crc32fast::hash(token.as_bytes())) {
            token.push(char::from(digit));
        }
        Ok(Self { kind, value: token })
    }

    /// Checks that `candidate` is a well-formed personal access token: prefix, length, alphabet
    /// and checksum, in that order. No database is consulted, so a mistyped token is rejected
    /// early. Surrounding whitespace is not trimmed.
    ///
    /// # Errors
    ///
    /// Returns the first [`TokenFormatError`] found.
    pub fn parse(candidate: &str) -> Result<Self, TokenFormatError> {
        Self::parse_of(TokenKind::Personal, candidate)
    }

    /// Checks that `candidate` is a well-formed secret of `kind`, as [`TokenSecret::parse`].
    ///
    /// # Errors
    ///
    /// Returns the first [`TokenFormatError`] found.
    pub fn parse_of(kind: TokenKind, candidate: &str) -> Result<Self, TokenFormatError> {
        let Some(after_prefix) = candidate.strip_prefix(kind.prefix()) else {
            return Err(TokenFormatError::MissingPrefix(kind));
        };
        if candidate.len() != kind.length() {
            return Err(TokenFormatError::WrongLength(kind));
        }
        if !after_prefix.bytes().all(|byte| ALPHABET.contains(&byte)) {
            return Err(TokenFormatError::InvalidCharacter(kind));
        }
        // Every byte is ASCII now, so this split lands on a character boundary.
        let (body, checksum) = candidate
            .split_at_checked(kind.length() - CHECKSUM_LENGTH)
            .ok_or(TokenFormatError::WrongLength(kind))?;
        if encode_checksum(crc32fast::hash(body.as_bytes())).as_slice() != checksum.as_bytes() {
            return Err(TokenFormatError::ChecksumMismatch(kind));
        }
        Ok(Self {
            kind,
            value: candidate.to_owned(),
        })
    }

    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The secret in clear text. This is the only way to read it; show it to its owner once and
    /// never log or store it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The SHA-256 hash of the full secret string, which is what gets stored and looked up.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.value.as_bytes()).into())
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "TokenSecret({}…redacted)", self.kind.prefix())
    }
}

/// SHA-256 of a full token string: the only form in which a token is stored.
///
/// Equality is constant time. `Debug` shows only the first four bytes.
#[derive(Clone)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Rebuilds a hash from stored bytes; `None` unless exactly 32 bytes are given.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// The raw 32 hash bytes, for storage.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares two hashes in constant time.
    #[must_use]
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for TokenHash {}

impl Hash for TokenHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// Maps a random byte to a base62 character, or `None` if the byte must be rejected to keep the
/// distribution uniform.
fn base62_from_byte(byte: u8) -> Option<u8> {
    (byte < REJECTION_LIMIT).then(|| ALPHABET[usize::from(byte % 62)])
}

/// Encodes a CRC32 value as six base62 digits, most significant first, zero-padded.
fn encode_checksum(value: u32) -> [u8; CHECKSUM_LENGTH] {
    let mut digits = [ALPHABET[0]; CHECKSUM_LENGTH];
    let mut remaining = value;
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(remaining % 62) as usize];
        remaining /= 62;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid token built from a fixed random part, so tests are reproducible.
    fn fixed_token() -> String {
        let body = format!("{TOKEN_PREFIX}{}", "aB3".repeat(10));
        let checksum = encode_checksum(crc32fast::hash(body.as_bytes()));
        format!("{body}{}", String::from_utf8_lossy(&checksum))
    }

    #[test]
    fn generated_token_has_prefix_length_and_alphabet() {
        let secret = TokenSecret::generate();
        let token = secret.expose();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), 44);
        assert!(
            token[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn generated_token_parses_back_to_the_same_secret() {
        let secret = TokenSecret::generate();
        let parsed = TokenSecret::parse(secret.expose()).expect("generated token must parse");
        assert_eq!(parsed.expose(), secret.expose());
        assert_eq!(parsed.hash(), secret.hash());
    }

    #[test]
    fn two_generated_tokens_differ() {
        assert_ne!(
            TokenSecret::generate().expose(),
            TokenSecret::generate().expose()
        );
    }

    #[test]
    fn fixed_token_parses() {
        assert!(TokenSecret::parse(&fixed_token()).is_ok());
    }

    #[test]
    fn every_single_character_substitution_after_the_prefix_is_rejected() {
        let token = TokenSecret::generate().expose().to_owned();
        for position in TOKEN_PREFIX.len()..TokenKind::Personal.length() {
            for &replacement in ALPHABET {
                if token.as_bytes()[position] == replacement {
                    continue;
                }
                let mut altered = token.clone().into_bytes();
                altered[position] = replacement;
                let altered = String::from_utf8(altered).expect("ASCII stays UTF-8");
                assert_eq!(
                    TokenSecret::parse(&altered).err(),
                    Some(TokenFormatError::ChecksumMismatch(TokenKind::Personal)),
                    "substitution at position {position} was accepted"
                );
            }
        }
    }

    #[test]
    fn token_with_wrong_prefix_is_rejected() {
        let token = fixed_token().replacen("gth_pat_", "ghp_pat_", 1);
        assert_eq!(
            TokenSecret::parse(&token).err(),
            Some(TokenFormatError::MissingPrefix(TokenKind::Personal))
        );
        assert_eq!(
            TokenSecret::parse("").err(),
            Some(TokenFormatError::MissingPrefix(TokenKind::Personal))
        );
    }

    #[test]
    fn token_with_wrong_length_is_rejected() {
        let token = fixed_token();
        assert_eq!(
            TokenSecret::parse(&token[..43]).err(),
            Some(TokenFormatError::WrongLength(TokenKind::Personal))
        );
        assert_eq!(
            TokenSecret::parse(&format!("{token}0")).err(),
            Some(TokenFormatError::WrongLength(TokenKind::Personal))
        );
        assert_eq!(
            TokenSecret::parse(TOKEN_PREFIX).err(),
            Some(TokenFormatError::WrongLength(TokenKind::Personal))
        );
    }

    #[test]
    fn token_with_character_outside_the_alphabet_is_rejected() {
        let token = fixed_token();
        let with_underscore = format!("{}_{}", &token[..20], &token[21..]);
        assert_eq!(
            TokenSecret::parse(&with_underscore).err(),
            Some(TokenFormatError::InvalidCharacter(TokenKind::Personal))
        );
        // A multi-byte character keeping the byte length at 44 must not cause a panic.
        let with_multibyte = format!("{}é{}", &token[..20], &token[22..]);
        assert_eq!(with_multibyte.len(), 44);
        assert_eq!(
            TokenSecret::parse(&with_multibyte).err(),
            Some(TokenFormatError::InvalidCharacter(TokenKind::Personal))
        );
    }

    #[test]
    fn format_error_messages_never_contain_the_token() {
        let token = fixed_token();
        let errors = [
            TokenFormatError::MissingPrefix(TokenKind::Personal),
            TokenFormatError::WrongLength(TokenKind::Personal),
            TokenFormatError::InvalidCharacter(TokenKind::Personal),
            TokenFormatError::ChecksumMismatch(TokenKind::Personal),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains(&token[TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + 8]));
        }
    }

    #[test]
    fn hash_is_sha256_of_the_full_token_string() {
        // Independently computed with `printf %s gth_pat_test | sha256sum`.
        let expected = "feb658d37853ec8a4100a7a89658cb57a22676600b8c28584e97d31b047dbda1";
        let secret = TokenSecret {
            kind: TokenKind::Personal,
            value: "gth_pat_test".to_owned(),
        };
        assert_eq!(hex::encode(secret.hash().as_bytes()), expected);
        assert_eq!(secret.hash(), secret.hash());
    }

    #[test]
    fn secret_debug_output_is_redacted() {
        let secret = TokenSecret::generate();
        let debug = format!("{secret:?}");
        assert_eq!(debug, "TokenSecret(gth_pat_…redacted)");
        assert!(!debug.contains(&secret.expose()[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn hash_debug_output_shows_only_first_four_bytes() {
        let hash = TokenSecret {
            kind: TokenKind::Personal,
            value: "gth_pat_test".to_owned(),
        }
        .hash();
        assert_eq!(format!("{hash:?}"), "TokenHash(feb658d3…)");
    }

    #[test]
    fn hash_round_trips_through_bytes() {
        let hash = TokenSecret::generate().hash();
        let restored = TokenHash::from_bytes(hash.as_bytes()).expect("32 bytes");
        assert_eq!(restored, hash);
        assert!(restored.ct_eq(&hash));
    }

    #[test]
    fn hash_from_bytes_rejects_wrong_length() {
        assert!(TokenHash::from_bytes(&[0_u8; 31]).is_none());
        assert!(TokenHash::from_bytes(&[0_u8; 33]).is_none());
        assert!(TokenHash::from_bytes(&[]).is_none());
    }

    #[test]
    fn different_tokens_have_unequal_hashes() {
        let first = TokenSecret::generate().hash();
        let second = TokenSecret::generate().hash();
        assert_ne!(first, second);
        assert!(!first.ct_eq(&second));
    }

    #[test]
    fn rejection_sampling_maps_each_character_from_exactly_four_bytes() {
        let mut counts = [0_usize; 62];
        for byte in u8::MIN..=u8::MAX {
            if let Some(character) = base62_from_byte(byte) {
                let index = ALPHABET
                    .iter()
                    .position(|&candidate| candidate == character)
                    .expect("character from alphabet");
                counts[index] += 1;
            }
        }
        assert!(counts.iter().all(|&count| count == 4));
        assert_eq!(base62_from_byte(247), Some(ALPHABET[247 % 62]));
        assert_eq!(base62_from_byte(248), None);
        assert_eq!(base62_from_byte(255), None);
    }

    #[test]
    fn checksum_encoding_is_zero_padded_base62() {
        assert_eq!(&encode_checksum(0), b"000000");
        assert_eq!(&encode_checksum(61), b"00000z");
        assert_eq!(&encode_checksum(62), b"000010");
        // 4294967295 = 4 * 62^5 + 42 * 62^4 + 41 * 62^3 + 15 * 62^2 + 12 * 62 + 3
        assert_eq!(&encode_checksum(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn a_provisioning_credential_has_its_own_prefix_and_is_no_personal_token() {
        let secret = TokenSecret::generate_of(TokenKind::Provisioning);
        let credential = secret.expose();
        assert!(credential.starts_with("gth_scim_"));
        assert_eq!(credential.len(), 45);
        assert_eq!(TokenKind::of(credential), Some(TokenKind::Provisioning));
        assert_eq!(
            TokenSecret::parse_of(TokenKind::Provisioning, credential)
                .expect("generated credential parses")
                .hash(),
            secret.hash()
        );
        assert_eq!(
            TokenSecret::parse(credential).err(),
            Some(TokenFormatError::MissingPrefix(TokenKind::Personal))
        );
        assert_eq!(format!("{secret:?}"), "TokenSecret(gth_scim_…redacted)");
        let mut typo = credential.to_owned().into_bytes();
        typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).expect("ASCII");
        assert_eq!(
            TokenSecret::parse_of(TokenKind::Provisioning, &typo).err(),
            Some(TokenFormatError::ChecksumMismatch(TokenKind::Provisioning))
        );
        assert_eq!(
            TokenFormatError::WrongLength(TokenKind::Provisioning).to_string(),
            "SCIM provisioning credential must be exactly 45 characters long"
        );
    }
}
