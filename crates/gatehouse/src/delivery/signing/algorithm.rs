//! The JWT algorithms a webhook policy may use, by Xurrent's lower-case names (`jwt_alg`), and
//! their JOSE names (RFC 7518 section 3.1; `EdDSA` from RFC 8037). `none` is never accepted:
//! a policy exists to sign.

use std::fmt;
use std::str::FromStr;

use super::SigningError;

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
    type Err = SigningError;

    /// Parses the API's lower-case name. The JOSE spelling (`RS256`, `EdDSA`) is accepted too,
    /// since it names the same thing and people paste it from JWT libraries.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let lower = name.trim().to_ascii_lowercase();
        if lower == "none" {
            return Err(SigningError::AlgorithmNone);
        }
        JwtAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == lower)
            .ok_or_else(|| SigningError::UnknownAlgorithm(name.to_owned()))
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                matches!(error, SigningError::AlgorithmNone),
                "{name}: {error}"
            );
            assert!(error.to_string().contains("refused"));
        }
    }

    #[test]
    fn unknown_names_are_refused_and_listed() {
        let error = "rs1024".parse::<JwtAlgorithm>().unwrap_err();
        assert!(matches!(error, SigningError::UnknownAlgorithm(_)));
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
}
