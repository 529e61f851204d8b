//! Test support for the signing modules: keys made once per process (RSA generation is the
//! slow part of the suite) and verification with the RustCrypto crates' own verifiers.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::key::SigningKey;
use super::{JwtAlgorithm, KeyFamily};

/// Verifies `signature` over `signing_input` with the crates' own verifiers and the public key
/// as `public_key_pem` shows it (so a test also proves the PEM is the key that signed).
pub(crate) fn verify_for_tests(key: &SigningKey, signing_input: &[u8], signature: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    use pkcs8::DecodePublicKey;

    fn hmac_verifies<D>(secret: &[u8], message: &[u8], tag: &[u8]) -> bool
    where
        D: hmac::EagerHash,
        Hmac<D>: KeyInit + Mac,
    {
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }

    let Some(pem) = key.public_key_pem().unwrap() else {
        // An HS key's "PKCS#8" form is its raw secret.
        let secret = key.to_pkcs8_der().unwrap();
        return match key.algorithm() {
            JwtAlgorithm::Hs256 => hmac_verifies::<Sha256>(&secret, signing_input, signature),
            JwtAlgorithm::Hs384 => hmac_verifies::<Sha384>(&secret, signing_input, signature),
            _ => hmac_verifies::<Sha512>(&secret, signing_input, signature),
        };
    };
    match key.algorithm() {
        JwtAlgorithm::Rs256 | JwtAlgorithm::Rs384 | JwtAlgorithm::Rs512 => {
            let public = rsa::PublicKey::from_public_key_pem(&pem).unwrap();
            match key.algorithm() {
                JwtAlgorithm::Rs256 => public.pkcs1v15_verify::<Sha256>(signing_input, signature),
                JwtAlgorithm::Rs384 => public.pkcs1v15_verify::<Sha384>(signing_input, signature),
                _ => public.pkcs1v15_verify::<Sha512>(signing_input, signature),
            }
            .is_ok()
        }
        JwtAlgorithm::Ps256 | JwtAlgorithm::Ps384 | JwtAlgorithm::Ps512 => {
            let public = rsa::PublicKey::from_public_key_pem(&pem).unwrap();
            match key.algorithm() {
                JwtAlgorithm::Ps256 => public.pss_verify::<Sha256>(signing_input, signature),
                JwtAlgorithm::Ps384 => public.pss_verify::<Sha384>(signing_input, signature),
                _ => public.pss_verify::<Sha512>(signing_input, signature),
            }
            .is_ok()
        }
        JwtAlgorithm::Es256 => {
            let public = p256::ecdsa::VerifyingKey::from_public_key_pem(&pem).unwrap();
            p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| public.verify(signing_input, &signature).is_ok())
        }
        JwtAlgorithm::Es384 => {
            let public = p384::ecdsa::VerifyingKey::from_public_key_pem(&pem).unwrap();
            p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| public.verify(signing_input, &signature).is_ok())
        }
        JwtAlgorithm::Es512 => {
            let public = p521::ecdsa::VerifyingKey::from_public_key_pem(&pem).unwrap();
            p521::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| public.verify(signing_input, &signature).is_ok())
        }
        JwtAlgorithm::EdDsa => {
            let public = ed25519_dalek::VerifyingKey::from_public_key_pem(&pem).unwrap();
            ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| public.verify_strict(signing_input, &signature).is_ok())
        }
        JwtAlgorithm::Hs256 | JwtAlgorithm::Hs384 | JwtAlgorithm::Hs512 => {
            unreachable!("HMAC keys have no public key")
        }
    }
}

/// Keys for tests, generated once per process: RSA generation is the slow part of the suite.
pub(crate) fn test_key(algorithm: JwtAlgorithm) -> SigningKey {
    use std::sync::OnceLock;
    static RSA_DER: OnceLock<Zeroizing<Vec<u8>>> = OnceLock::new();
    match algorithm.key_family() {
        KeyFamily::Rsa => {
            let der = RSA_DER.get_or_init(|| {
                SigningKey::generate(JwtAlgorithm::Rs256)
                    .unwrap()
                    .to_pkcs8_der()
                    .unwrap()
            });
            SigningKey::from_pkcs8_der(algorithm, der).unwrap()
        }
        _ => SigningKey::generate(algorithm).unwrap(),
    }
}
