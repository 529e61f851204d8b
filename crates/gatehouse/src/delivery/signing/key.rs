//! A webhook policy's private signing key. It is generated here with the OS RNG, leaves this
//! type only as PKCS#8 DER (to be encrypted by the `ServerKey` before it is stored) and shows
//! its public half as SPKI PEM (`public_key_pem`, returned once on create) and as a JWK
//! (RFC 7517/7518/8037).
//!
//! One type for every algorithm, because a policy's algorithm is data: the key remembers the
//! algorithm it was made for and signs only with it.
//!
//! Keys are generated and encoded with the RustCrypto crates (`rsa`, `p256`, …; ring can't
//! generate RSA keys). Signing goes through ring where it is the faster (RSA, ES256, Ed25519):
//! ring's constant-time RSA is about six times faster than the `rsa` crate's (BENCHMARKS.md),
//! which bounds signed deliveries per second. ES384, ES512 and the HMACs stay with RustCrypto. The RustCrypto key types it wraps zeroize
//! themselves on drop; the HMAC secret is held in `Zeroizing`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::SigningError;
use super::rng::{OsRng, random_bytes};
use super::{JwtAlgorithm, KeyFamily};

/// The RSA modulus size of generated keys, in bits: the floor RFC 7518 section 3.3 sets and
/// the issue asks for. Imported keys may be larger, never smaller.
pub const RSA_KEY_BITS: usize = 2048;

/// A private key for one JWT algorithm.
pub struct SigningKey {
    algorithm: JwtAlgorithm,
    material: Material,
    /// The same key loaded into ring, which signs with it when present.
    ring: Option<RingKey>,
}

enum RingKey {
    Rsa(ring::signature::RsaKeyPair),
    Ecdsa(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
}

/// The signature of `key` (an ECDSA curve or Ed25519) over `input`, in its fixed-width JOSE
/// encoding: `r || s` for ECDSA, the 64 bytes for Ed25519. One `signature::Signer` trait
/// serves the ECDSA and Ed25519 keys alike.
fn signature_bytes<S: rsa::signature::SignatureEncoding>(
    key: &impl rsa::signature::Signer<S>,
    input: &[u8],
) -> Result<Vec<u8>, String> {
    key.try_sign(input)
        .map(|signature| signature.to_vec())
        .map_err(|error| error.to_string())
}

/// `der` (PKCS#8) loaded into ring for `algorithm`, when ring signs with it.
fn ring_key(algorithm: JwtAlgorithm, der: &[u8]) -> Option<RingKey> {
    use ring::signature;
    let random = ring::rand::SystemRandom::new();
    match algorithm.key_family() {
        KeyFamily::Rsa => signature::RsaKeyPair::from_pkcs8(der)
            .ok()
            .map(RingKey::Rsa),
        KeyFamily::Ecdsa => {
            // ring's P-384 signs at about half the `p384` crate's rate (BENCHMARKS.md); it
            // has no P-521.
            let curve = match algorithm {
                JwtAlgorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                _ => return None,
            };
            signature::EcdsaKeyPair::from_pkcs8(curve, der, &random)
                .ok()
                .map(RingKey::Ecdsa)
        }
        KeyFamily::EdDsa => signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .ok()
            .map(RingKey::Ed25519),
        KeyFamily::Hmac => None,
    }
}

enum Material {
    // Boxed: the RSA key is large beside the others.
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(Box<p521::ecdsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Hmac(Zeroizing<Vec<u8>>),
}

impl SigningKey {
    /// A new key for `algorithm`: RSA of `RSA_KEY_BITS`, the curve an ES algorithm names,
    /// Ed25519 for EdDSA, or as many random bytes as the HS algorithm's hash is long
    /// (RFC 7518 section 3.2's minimum).
    ///
    /// RSA generation takes a while (tens of milliseconds to seconds): call it off the async
    /// executor (`spawn_blocking`).
    pub fn generate(algorithm: JwtAlgorithm) -> Result<Self, SigningError> {
        let generation_failed = |reason: String| SigningError::KeyGeneration {
            algorithm: algorithm.jose_name(),
            reason,
        };
        let material = match algorithm {
            JwtAlgorithm::Rs256
            | JwtAlgorithm::Rs384
            | JwtAlgorithm::Rs512
            | JwtAlgorithm::Ps256
            | JwtAlgorithm::Ps384
            | JwtAlgorithm::Ps512 => {
                let key = rsa::PrivateKey::new(&mut OsRng, RSA_KEY_BITS)
                    .map_err(|error| generation_failed(error.to_string()))?;
                Material::Rsa(Box::new(key))
            }
            JwtAlgorithm::Es256 => Material::P256(generate_ecdsa(algorithm)?),
            JwtAlgorithm::Es384 => Material::P384(generate_ecdsa(algorithm)?),
            JwtAlgorithm::Es512 => Material::P521(Box::new(generate_ecdsa(algorithm)?)),
            JwtAlgorithm::EdDsa => {
                let seed = random_bytes(ed25519_dalek::SECRET_KEY_LENGTH)
                    .map_err(|error| SigningError::Random(error.to_string()))?;
                let key = ed25519_dalek::SigningKey::try_from(seed.as_slice())
                    .map_err(|error| generation_failed(error.to_string()))?;
                Material::Ed25519(Box::new(key))
            }
            JwtAlgorithm::Hs256 | JwtAlgorithm::Hs384 | JwtAlgorithm::Hs512 => {
                let secret = random_bytes(hmac_key_bytes(algorithm))
                    .map_err(|error| SigningError::Random(error.to_string()))?;
                Material::Hmac(secret)
            }
        };
        Self::with_material(algorithm, material)
    }

    /// The key holding `material`, with its `ring` twin prepared from the same DER.
    fn with_material(algorithm: JwtAlgorithm, material: Material) -> Result<Self, SigningError> {
        let mut key = SigningKey {
            algorithm,
            material,
            ring: None,
        };
        key.ring = ring_key(algorithm, &key.to_pkcs8_der()?);
        Ok(key)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The private key as PKCS#8 DER — for the HS algorithms, the raw secret bytes. Encrypt it
    /// before storing it; the buffer is wiped when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, SigningError> {
        let document = match &self.material {
            Material::Rsa(key) => key.to_pkcs8_der(),
            Material::P256(key) => key.to_pkcs8_der(),
            Material::P384(key) => key.to_pkcs8_der(),
            Material::P521(key) => key.to_pkcs8_der(),
            Material::Ed25519(key) => key.to_pkcs8_der(),
            Material::Hmac(secret) => return Ok(secret.clone()),
        }
        .map_err(|error| SigningError::Encoding(error.to_string()))?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The key `to_pkcs8_der` wrote, for `algorithm`. Refuses a key of another family or curve
    /// than the algorithm names, an RSA key under `RSA_KEY_BITS`, and an HMAC secret shorter
    /// than the algorithm's hash.
    pub fn from_pkcs8_der(algorithm: JwtAlgorithm, der: &[u8]) -> Result<Self, SigningError> {
        let invalid = |reason: String| SigningError::InvalidKey {
            algorithm: algorithm.jose_name(),
            reason,
        };
        let material = match algorithm.key_family() {
            KeyFamily::Rsa => {
                let key = rsa::PrivateKey::from_pkcs8_der(der)
                    .map_err(|error| invalid(error.to_string()))?;
                let bits = key.n().bit_width();
                if (bits as usize) < RSA_KEY_BITS {
                    return Err(invalid(format!(
                        "the modulus has {bits} bits, fewer than {RSA_KEY_BITS}"
                    )));
                }
                Material::Rsa(Box::new(key))
            }
            KeyFamily::Ecdsa => match algorithm {
                JwtAlgorithm::Es256 => Material::P256(
                    p256::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|error| invalid(error.to_string()))?,
                ),
                JwtAlgorithm::Es384 => Material::P384(
                    p384::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|error| invalid(error.to_string()))?,
                ),
                _ => Material::P521(Box::new(
                    p521::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|error| invalid(error.to_string()))?,
                )),
            },
            KeyFamily::EdDsa => Material::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|error| invalid(error.to_string()))?,
            )),
            KeyFamily::Hmac => {
                let minimum = hmac_key_bytes(algorithm);
                if der.len() < minimum {
                    return Err(invalid(format!(
                        "the secret has {} bytes, fewer than {minimum}",
                        der.len()
                    )));
                }
                Material::Hmac(Zeroizing::new(der.to_vec()))
            }
        };
        Self::with_material(algorithm, material)
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), what PyJWT, `jose` and
    /// OpenSSL load. `None` for the HS algorithms, which have no public half.
    pub fn public_key_pem(&self) -> Result<Option<String>, SigningError> {
        let pem = match &self.material {
            Material::Rsa(key) => key.to_public_key().to_public_key_pem(LineEnding::LF),
            Material::P256(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
            Material::P384(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
            Material::P521(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
            Material::Ed25519(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
            Material::Hmac(_) => return Ok(None),
        };
        pem.map(Some)
            .map_err(|error| SigningError::Encoding(error.to_string()))
    }

    /// The public key as a JWK (RFC 7517) with `kid`, `alg` and `use: "sig"`: `RSA` with `n`
    /// and `e`, `EC` with `crv`, `x`, `y` (each the curve's full field length), or `OKP`
    /// Ed25519 with `x` (RFC 8037). `None` for the HS algorithms: a shared secret is never
    /// published.
    pub fn public_jwk(&self, kid: &str) -> Option<Value> {
        let mut jwk = match &self.material {
            Material::Rsa(key) => json!({
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(key.n_bytes()),
                "e": URL_SAFE_NO_PAD.encode(key.e_bytes()),
            }),
            Material::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                ec_jwk("P-256", point.x()?, point.y()?)
            }
            Material::P384(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                ec_jwk("P-384", point.x()?, point.y()?)
            }
            Material::P521(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                ec_jwk("P-521", point.x()?, point.y()?)
            }
            Material::Ed25519(key) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            }),
            Material::Hmac(_) => return None,
        };
        let object = jwk.as_object_mut()?;
        object.insert("kid".to_owned(), Value::from(kid));
        object.insert("alg".to_owned(), Value::from(self.algorithm.jose_name()));
        object.insert("use".to_owned(), Value::from("sig"));
        Some(jwk)
    }

    /// The JWS signature over `signing_input` in its JOSE form: RSA signatures as long as the
    /// modulus, ECDSA as the fixed-length `r || s` (RFC 7518 section 3.4, not DER), Ed25519's
    /// 64 bytes, or the HMAC tag.
    pub(crate) fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SigningError> {
        let failed = |reason: String| SigningError::Signing {
            algorithm: self.algorithm.jose_name(),
            reason,
        };
        if let Some(key) = &self.ring {
            return self.sign_with_ring(key, signing_input).map_err(failed);
        }
        match (&self.material, self.algorithm) {
            (Material::Rsa(key), algorithm) => {
                let signature = match algorithm {
                    JwtAlgorithm::Rs256 => key.pkcs1v15_sign::<Sha256>(signing_input),
                    JwtAlgorithm::Rs384 => key.pkcs1v15_sign::<Sha384>(signing_input),
                    JwtAlgorithm::Rs512 => key.pkcs1v15_sign::<Sha512>(signing_input),
                    // PSS with a salt as long as the hash, as RFC 7518 section 3.5 requires.
                    JwtAlgorithm::Ps256 => key.pss_sign::<Sha256>(signing_input),
                    JwtAlgorithm::Ps384 => key.pss_sign::<Sha384>(signing_input),
                    _ => key.pss_sign::<Sha512>(signing_input),
                };
                signature.map_err(|error| failed(error.to_string()))
            }
            (Material::P256(key), _) => {
                signature_bytes::<p256::ecdsa::Signature>(key, signing_input).map_err(failed)
            }
            (Material::P384(key), _) => {
                signature_bytes::<p384::ecdsa::Signature>(key, signing_input).map_err(failed)
            }
            (Material::P521(key), _) => {
                signature_bytes::<p521::ecdsa::Signature>(key.as_ref(), signing_input)
                    .map_err(failed)
            }
            (Material::Ed25519(key), _) => {
                signature_bytes::<ed25519_dalek::Signature>(key.as_ref(), signing_input)
                    .map_err(failed)
            }
            (Material::Hmac(secret), JwtAlgorithm::Hs256) => {
                hmac_tag::<Sha256>(secret, signing_input).map_err(failed)
            }
            (Material::Hmac(secret), JwtAlgorithm::Hs384) => {
                hmac_tag::<Sha384>(secret, signing_input).map_err(failed)
            }
            (Material::Hmac(secret), _) => {
                hmac_tag::<Sha512>(secret, signing_input).map_err(failed)
            }
        }
    }
}

impl SigningKey {
    /// Whether ring signs with this key (RSA, ES256, EdDSA).
    pub fn signs_with_ring(&self) -> bool {
        self.ring.is_some()
    }

    fn sign_with_ring(&self, key: &RingKey, signing_input: &[u8]) -> Result<Vec<u8>, String> {
        use ring::signature;
        let random = ring::rand::SystemRandom::new();
        match key {
            RingKey::Rsa(key) => {
                let padding: &'static dyn signature::RsaEncoding = match self.algorithm {
                    JwtAlgorithm::Rs256 => &signature::RSA_PKCS1_SHA256,
                    JwtAlgorithm::Rs384 => &signature::RSA_PKCS1_SHA384,
                    JwtAlgorithm::Rs512 => &signature::RSA_PKCS1_SHA512,
                    // PSS with a salt as long as the hash, as RFC 7518 section 3.5 requires.
                    JwtAlgorithm::Ps256 => &signature::RSA_PSS_SHA256,
                    JwtAlgorithm::Ps384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(padding, &random, signing_input, &mut signature)
                    .map_err(|_| "ring refused to sign".to_owned())?;
                Ok(signature)
            }
            RingKey::Ecdsa(key) => key
                .sign(&random, signing_input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| "ring refused to sign".to_owned()),
            RingKey::Ed25519(key) => Ok(key.sign(signing_input).as_ref().to_vec()),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The HMAC secret length for an HS algorithm: its hash's output size.
fn hmac_key_bytes(algorithm: JwtAlgorithm) -> usize {
    match algorithm {
        JwtAlgorithm::Hs384 => 48,
        JwtAlgorithm::Hs512 => 64,
        _ => 32,
    }
}

fn generate_ecdsa<K: p256::elliptic_curve::Generate>(
    algorithm: JwtAlgorithm,
) -> Result<K, SigningError> {
    K::try_generate_from_rng(&mut OsRng).map_err(|error| SigningError::KeyGeneration {
        algorithm: algorithm.jose_name(),
        reason: error.to_string(),
    })
}

fn ec_jwk(curve: &str, x: &[u8], y: &[u8]) -> Value {
    json!({
        "kty": "EC",
        "crv": curve,
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
    })
}

fn hmac_tag<D>(secret: &[u8], message: &[u8]) -> Result<Vec<u8>, String>
where
    D: hmac::EagerHash,
    Hmac<D>: KeyInit + Mac,
{
    let mut mac =
        <Hmac<D> as KeyInit>::new_from_slice(secret).map_err(|error| error.to_string())?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::delivery::signing::test_keys::{test_key, verify_for_tests};

    #[test]
    fn every_algorithm_signs_what_its_public_key_verifies() {
        for algorithm in JwtAlgorithm::ALL {
            let key = test_key(algorithm);
            let signature = key.sign(b"header.claims").unwrap();
            assert!(
                verify_for_tests(&key, b"header.claims", &signature),
                "{algorithm}"
            );
            assert!(
                !verify_for_tests(&key, b"header.claimz", &signature),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn signatures_have_the_jose_length_of_their_algorithm() {
        let expected_bytes = [
            (JwtAlgorithm::Rs256, 256),
            (JwtAlgorithm::Ps512, 256),
            (JwtAlgorithm::Es256, 64),
            (JwtAlgorithm::Es384, 96),
            (JwtAlgorithm::Es512, 132),
            (JwtAlgorithm::EdDsa, 64),
            (JwtAlgorithm::Hs256, 32),
            (JwtAlgorithm::Hs384, 48),
            (JwtAlgorithm::Hs512, 64),
        ];
        for (algorithm, bytes) in expected_bytes {
            let key = test_key(algorithm);
            // ECDSA's r and s are fixed-width: many signatures, never a short one.
            for round in 0..20 {
                let input = format!("input {round}");
                assert_eq!(
                    key.sign(input.as_bytes()).unwrap().len(),
                    bytes,
                    "{algorithm}"
                );
            }
        }
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_key() {
        for algorithm in JwtAlgorithm::ALL {
            let key = test_key(algorithm);
            let der = key.to_pkcs8_der().unwrap();
            let again = SigningKey::from_pkcs8_der(algorithm, &der).unwrap();
            assert_eq!(
                again.public_key_pem().unwrap(),
                key.public_key_pem().unwrap()
            );
            let signature = again.sign(b"input").unwrap();
            assert!(verify_for_tests(&key, b"input", &signature), "{algorithm}");
        }
    }

    #[test]
    fn a_key_of_another_family_or_curve_is_refused() {
        let p256_der = test_key(JwtAlgorithm::Es256).to_pkcs8_der().unwrap();
        for algorithm in [
            JwtAlgorithm::Rs256,
            JwtAlgorithm::Es384,
            JwtAlgorithm::Es512,
            JwtAlgorithm::EdDsa,
        ] {
            let error = SigningKey::from_pkcs8_der(algorithm, &p256_der).unwrap_err();
            assert!(
                matches!(error, SigningError::InvalidKey { .. }),
                "{algorithm}: {error}"
            );
        }
        assert!(SigningKey::from_pkcs8_der(JwtAlgorithm::Es256, b"not der").is_err());
        assert!(SigningKey::from_pkcs8_der(JwtAlgorithm::Hs512, &[7u8; 32]).is_err());
    }

    #[test]
    fn generated_keys_have_the_sizes_the_issue_names() {
        let rsa = test_key(JwtAlgorithm::Ps256);
        let Material::Rsa(key) = &rsa.material else {
            panic!("not RSA")
        };
        assert_eq!(key.n().bit_width(), 2048);
        for (algorithm, bytes) in [
            (JwtAlgorithm::Hs256, 32),
            (JwtAlgorithm::Hs384, 48),
            (JwtAlgorithm::Hs512, 64),
        ] {
            assert_eq!(
                SigningKey::generate(algorithm)
                    .unwrap()
                    .to_pkcs8_der()
                    .unwrap()
                    .len(),
                bytes
            );
        }
        // Two generated secrets differ: the RNG is wired in.
        let one = SigningKey::generate(JwtAlgorithm::Hs256)
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        let two = SigningKey::generate(JwtAlgorithm::Hs256)
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        assert_ne!(one, two);
    }

    #[test]
    fn public_key_pem_is_spki_and_absent_for_hmac() {
        for algorithm in JwtAlgorithm::ALL {
            let pem = test_key(algorithm).public_key_pem().unwrap();
            if algorithm.is_asymmetric() {
                let pem = pem.unwrap();
                assert!(
                    pem.starts_with("-----BEGIN PUBLIC KEY-----\n"),
                    "{algorithm}"
                );
                assert!(
                    pem.trim_end().ends_with("-----END PUBLIC KEY-----"),
                    "{algorithm}"
                );
            } else {
                assert_eq!(pem, None);
            }
        }
    }

    fn decoded_length(jwk: &Value, field: &str) -> usize {
        URL_SAFE_NO_PAD
            .decode(jwk[field].as_str().unwrap())
            .unwrap()
            .len()
    }

    #[test]
    fn jwks_carry_the_fields_rfc_7518_and_8037_name() {
        let rsa = test_key(JwtAlgorithm::Rs384).public_jwk("key-1").unwrap();
        assert_eq!(rsa["kty"], "RSA");
        assert_eq!(rsa["alg"], "RS384");
        assert_eq!(rsa["kid"], "key-1");
        assert_eq!(rsa["use"], "sig");
        assert_eq!(rsa["e"], "AQAB");
        assert_eq!(decoded_length(&rsa, "n"), 256);

        for (algorithm, curve, bytes) in [
            (JwtAlgorithm::Es256, "P-256", 32),
            (JwtAlgorithm::Es384, "P-384", 48),
            (JwtAlgorithm::Es512, "P-521", 66),
        ] {
            let jwk = test_key(algorithm).public_jwk("k").unwrap();
            assert_eq!(jwk["kty"], "EC");
            assert_eq!(jwk["crv"], curve);
            assert_eq!(jwk["alg"], algorithm.jose_name());
            assert_eq!(decoded_length(&jwk, "x"), bytes, "{algorithm}");
            assert_eq!(decoded_length(&jwk, "y"), bytes, "{algorithm}");
            assert!(jwk.get("d").is_none());
        }

        let ed = test_key(JwtAlgorithm::EdDsa).public_jwk("k").unwrap();
        assert_eq!(ed["kty"], "OKP");
        assert_eq!(ed["crv"], "Ed25519");
        assert_eq!(ed["alg"], "EdDSA");
        assert_eq!(decoded_length(&ed, "x"), 32);
        assert!(ed.get("d").is_none());

        assert_eq!(test_key(JwtAlgorithm::Hs256).public_jwk("k"), None);
    }

    #[test]
    fn ring_signs_for_the_algorithms_it_has_and_rustcrypto_for_the_rest() {
        for algorithm in JwtAlgorithm::ALL {
            let expected = !matches!(
                algorithm,
                JwtAlgorithm::Es384
                    | JwtAlgorithm::Es512
                    | JwtAlgorithm::Hs256
                    | JwtAlgorithm::Hs384
                    | JwtAlgorithm::Hs512
            );
            let key = test_key(algorithm);
            assert_eq!(key.signs_with_ring(), expected, "{algorithm}");
            // Loaded back from storage, too.
            let stored =
                SigningKey::from_pkcs8_der(algorithm, &key.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(
                stored.signs_with_ring(),
                expected,
                "{algorithm} from PKCS#8"
            );
        }
    }

    #[test]
    fn keys_can_move_to_a_signing_thread() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<SigningKey>();
        assert_send_sync::<super::super::ServerKey>();
        assert_send_sync::<super::super::standard_webhooks::WebhookSecret>();
    }

    #[test]
    fn debug_never_shows_key_material() {
        for algorithm in [JwtAlgorithm::Hs256, JwtAlgorithm::EdDsa] {
            let key = test_key(algorithm);
            let secret_hex = hex::encode(&*key.to_pkcs8_der().unwrap());
            let debug = format!("{key:?}");
            assert!(debug.contains("[redacted]"));
            assert!(!debug.contains(&secret_hex[secret_hex.len() - 16..]));
        }
    }

    /// Measures RSA key generation in this build's profile (BENCHMARKS.md-style figure; run
    /// with `--nocapture` to see it). A policy is created rarely, so a second is tolerable,
    /// but a debug build's default would make every test that creates a policy crawl.
    #[test]
    fn rsa_key_generation_time() {
        let started = Instant::now();
        let key = SigningKey::generate(JwtAlgorithm::Rs256).unwrap();
        let elapsed = started.elapsed();
        eprintln!("generate(rs256): {} ms", elapsed.as_millis());
        assert_eq!(key.algorithm(), JwtAlgorithm::Rs256);
    }
}
