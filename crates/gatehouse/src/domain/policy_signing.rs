//! How a webhook policy signs, as the policy records it: the JWT algorithm (`jwt_alg`, by
//! Xurrent's lower-case names and their JOSE names, RFC 7518 section 3.1 and `EdDSA` from
//! RFC 8037; `none` is never accepted: a policy exists to sign) and how long a signed message
//! stays valid (`jwt_claim_expires_in`). Plain values the store keeps and the signer reads;
//! the signing itself is `delivery::signing`'s.

use std::fmt;
use std::str::FromStr;

/// Why a policy's signing setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicySettingError {
    #[error(
        "unknown JWT algorithm {0:?}; expected one of rs256, rs384, rs512, ps256, ps384, ps512, \
         es256, es384, es512, eddsa, hs256, hs384, hs512"
    )]
    UnknownAlgorithm(String),
    #[error("the JWT algorithm \"none\" is refused: a policy's messages are always signed")]
    AlgorithmNone,
    #[error(
        "jwt_claim_expires_in must be 1 to 1440 minutes (\"00:01\" to \"24:00\"), not {0} minutes"
    )]
    ClaimExpiryOutOfRange(i64),
    #[error(
        "jwt_claim_expires_in must be whole minutes (15) or a duration \"hhh:mm\" (\"01:30\"), \
         not {0:?}"
    )]
    ClaimExpiryMalformed(String),
}

/// A JWS algorithm a policy signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
    EdDsa,
    Hs256,
    Hs384,
    Hs512,
}

/// The family of key an algorithm signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFamily {
    /// RSA, PKCS#1 v1.5 or PSS padding.
    Rsa,
    /// ECDSA over the NIST curve the algorithm names.
    Ecdsa,
    /// Ed25519.
    EdDsa,
    /// A shared secret for HMAC.
    Hmac,
}

impl JwtAlgorithm {
    /// Every algorithm, in the order the spec lists them.
    pub const ALL: [JwtAlgorithm; 13] = [
        JwtAlgorithm::Rs256,
        JwtAlgorithm::Rs384,
        JwtAlgorithm::Rs512,
        JwtAlgorithm::Ps256,
        JwtAlgorithm::Ps384,
        JwtAlgorithm::Ps512,
        JwtAlgorithm::Es256,
        JwtAlgorithm::Es384,
        JwtAlgorithm::Es512,
        JwtAlgorithm::EdDsa,
        JwtAlgorithm::Hs256,
        JwtAlgorithm::Hs384,
        JwtAlgorithm::Hs512,
    ];

    /// The lower-case name the API uses (`jwt_alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::Rs256 => "rs256",
            JwtAlgorithm::Rs384 => "rs384",
            JwtAlgorithm::Rs512 => "rs512",
            JwtAlgorithm::Ps256 => "ps256",
            JwtAlgorithm::Ps384 => "ps384",
            JwtAlgorithm::Ps512 => "ps512",
            JwtAlgorithm::Es256 => "es256",
            JwtAlgorithm::Es384 => "es384",
            JwtAlgorithm::Es512 => "es512",
            JwtAlgorithm::EdDsa => "eddsa",
            JwtAlgorithm::Hs256 => "hs256",
            JwtAlgorithm::Hs384 => "hs384",
            JwtAlgorithm::Hs512 => "hs512",
        }
    }

    /// The JOSE `alg` header value.
    pub fn jose_name(self) -> &'static str {
        match self {
            JwtAlgorithm::Rs256 => "RS256",
            JwtAlgorithm::Rs384 => "RS384",
            JwtAlgorithm::Rs512 => "RS512",
            JwtAlgorithm::Ps256 => "PS256",
            JwtAlgorithm::Ps384 => "PS384",
            JwtAlgorithm::Ps512 => "PS512",
            JwtAlgorithm::Es256 => "ES256",
            JwtAlgorithm::Es384 => "ES384",
            JwtAlgorithm::Es512 => "ES512",
            JwtAlgorithm::EdDsa => "EdDSA",
            JwtAlgorithm::Hs256 => "HS256",
            JwtAlgorithm::Hs384 => "HS384",
            JwtAlgorithm::Hs512 => "HS512",
        }
    }

    /// The kind of key the algorithm signs with.
    pub fn key_family(self) -> KeyFamily {
        match self {
            JwtAlgorithm::Rs256
            | JwtAlgorithm::Rs384
            | JwtAlgorithm::Rs512
            | JwtAlgorithm::Ps256
            | JwtAlgorithm::Ps384
            | JwtAlgorithm::Ps512 => KeyFamily::Rsa,
            JwtAlgorithm::Es256 | JwtAlgorithm::Es384 | JwtAlgorithm::Es512 => KeyFamily::Ecdsa,
            JwtAlgorithm::EdDsa => KeyFamily::EdDsa,
            JwtAlgorithm::Hs256 | JwtAlgorithm::Hs384 | JwtAlgorithm::Hs512 => KeyFamily::Hmac,
        }
    }

    /// Whether receivers verify with a public key (false for the HMAC algorithms, whose secret
    /// the receiver must share).
    pub fn is_asymmetric(self) -> bool {
        self.key_family() != KeyFamily::Hmac
    }
}

impl FromStr for JwtAlgorithm {
    type Err = PolicySettingError;

    /// Parses the API's lower-case name. The JOSE spelling (`RS256`, `EdDSA`) is accepted too,
    /// since it names the same thing and people paste it from JWT libraries.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let lower = name.trim().to_ascii_lowercase();
        if lower == "none" {
            return Err(PolicySettingError::AlgorithmNone);
        }
        JwtAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == lower)
            .ok_or_else(|| PolicySettingError::UnknownAlgorithm(name.to_owned()))
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How long a signed message stays valid (`jwt_claim_expires_in`), in minutes as Xurrent counts
/// it: 1 minute to a day. A policy without one sends no `exp` claim (Xurrent's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimExpiry {
    minutes: u16,
}

/// `jwt_claim_expires_in` as a request writes it: whole minutes (`15`), or Xurrent's duration
/// input `"hhh:mm"` (`"01:30"`, `"000:15"`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ClaimExpiryInput {
    Minutes(i64),
    Duration(String),
}

impl ClaimExpiry {
    pub const MIN_MINUTES: i64 = 1;
    pub const MAX_MINUTES: i64 = 1440;

    pub fn from_minutes(minutes: i64) -> Result<Self, PolicySettingError> {
        if !(Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&minutes) {
            return Err(PolicySettingError::ClaimExpiryOutOfRange(minutes));
        }
        let minutes = u16::try_from(minutes)
            .map_err(|_| PolicySettingError::ClaimExpiryOutOfRange(minutes))?;
        Ok(ClaimExpiry { minutes })
    }

    /// Reads what a request wrote: whole minutes, as a number or digits, or `"hhh:mm"`.
    pub fn from_input(input: &ClaimExpiryInput) -> Result<Self, PolicySettingError> {
        match input {
            ClaimExpiryInput::Minutes(minutes) => Self::from_minutes(*minutes),
            ClaimExpiryInput::Duration(text) => Self::from_minutes(duration_minutes(text)?),
        }
    }

    pub fn minutes(self) -> i64 {
        i64::from(self.minutes)
    }

    pub fn seconds(self) -> i64 {
        self.minutes() * 60
    }
}

/// The minutes of `"hhh:mm"` (one to three digits of hours, two of minutes below 60) or of
/// plain digits.
fn duration_minutes(text: &str) -> Result<i64, PolicySettingError> {
    let malformed = || PolicySettingError::ClaimExpiryMalformed(text.chars().take(20).collect());
    let digits = |part: &str, most: usize| -> Option<i64> {
        (!part.is_empty() && part.len() <= most && part.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let trimmed = text.trim();
    match trimmed.split_once(':') {
        None => digits(trimmed, 5).ok_or_else(malformed),
        Some((hours, minutes)) if minutes.len() == 2 => {
            let hours = digits(hours, 3).ok_or_else(malformed)?;
            let minutes = digits(minutes, 2)
                .filter(|minutes| *minutes < 60)
                .ok_or_else(malformed)?;
            Ok(hours * 60 + minutes)
        }
        Some(_) => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_expiry_reads_minutes_and_xurrents_hhh_mm() {
        let read =
            |input: ClaimExpiryInput| ClaimExpiry::from_input(&input).map(ClaimExpiry::minutes);
        let text = |text: &str| ClaimExpiryInput::Duration(text.to_owned());
        assert_eq!(read(ClaimExpiryInput::Minutes(15)), Ok(15));
        assert_eq!(read(text("15")), Ok(15));
        assert_eq!(read(text("01:30")), Ok(90));
        assert_eq!(read(text("000:05")), Ok(5));
        assert_eq!(read(text("24:00")), Ok(1440));
        assert_eq!(
            read(text("24:01")),
            Err(PolicySettingError::ClaimExpiryOutOfRange(1441))
        );
        assert_eq!(
            read(text("00:00")),
            Err(PolicySettingError::ClaimExpiryOutOfRange(0))
        );
        for bad in [
            "1:5", "1:60", "1000:00", ":30", "1:", "1h", "-1:00", "01:30:00", "",
        ] {
            let error = read(text(bad)).expect_err(bad);
            assert!(
                matches!(error, PolicySettingError::ClaimExpiryMalformed(_)),
                "{bad}: {error}"
            );
            assert!(error.to_string().contains("hhh:mm"), "{error}");
        }
        let input: ClaimExpiryInput = serde_json::from_str("\"02:00\"").expect("string");
        assert_eq!(read(input), Ok(120));
        let input: ClaimExpiryInput = serde_json::from_str("30").expect("number");
        assert_eq!(read(input), Ok(30));
    }

    #[test]
    fn every_name_parses_back_to_its_algorithm() {
        for algorithm in JwtAlgorithm::ALL {
            assert_eq!(
                algorithm.as_str().parse::<JwtAlgorithm>().unwrap(),
                algorithm
            );
            assert_eq!(
                algorithm.jose_name().parse::<JwtAlgorithm>().unwrap(),
                algorithm
            );
        }
    }

    #[test]
    fn none_is_refused_with_its_own_error() {
        for name in ["none", "None", "NONE"] {
            let error = name.parse::<JwtAlgorithm>().unwrap_err();
            assert!(
                matches!(error, PolicySettingError::AlgorithmNone),
                "{name}: {error}"
            );
            assert!(error.to_string().contains("refused"));
        }
    }

    #[test]
    fn unknown_names_are_refused_and_listed() {
        let error = "rs1024".parse::<JwtAlgorithm>().unwrap_err();
        assert!(matches!(error, PolicySettingError::UnknownAlgorithm(_)));
        assert!(error.to_string().contains("eddsa"));
        assert!("".parse::<JwtAlgorithm>().is_err());
    }

    #[test]
    fn jose_names_follow_rfc_7518_and_8037() {
        assert_eq!(JwtAlgorithm::EdDsa.jose_name(), "EdDSA");
        assert_eq!(JwtAlgorithm::Ps384.jose_name(), "PS384");
        assert!(!JwtAlgorithm::Hs256.is_asymmetric());
        assert!(JwtAlgorithm::Es512.is_asymmetric());
    }

    #[test]
    fn claim_expiry_is_one_minute_to_one_day() {
        assert_eq!(ClaimExpiry::from_minutes(1).unwrap().seconds(), 60);
        assert_eq!(ClaimExpiry::from_minutes(1440).unwrap().seconds(), 86_400);
        for minutes in [0, -1, 1441, i64::MAX] {
            let error = ClaimExpiry::from_minutes(minutes).unwrap_err();
            assert!(
                matches!(error, PolicySettingError::ClaimExpiryOutOfRange(value) if value == minutes)
            );
        }
    }
}
