//! The operating system's RNG in the shape the RustCrypto key generators take. Every secret in
//! this module comes from here or from `getrandom::fill` directly (docs/ARCHITECTURE.md, principle 6).

use rsa::rand_core::{TryCryptoRng, TryRng};

/// Stateless handle on `getrandom`; each call reads fresh bytes from the OS.
pub(crate) struct OsRng;

impl TryRng for OsRng {
    type Error = getrandom::Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        getrandom::u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        getrandom::u64()
    }

    fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), Self::Error> {
        getrandom::fill(destination)
    }
}

impl TryCryptoRng for OsRng {}

/// `length` bytes from the OS RNG.
pub(crate) fn random_bytes(length: usize) -> Result<zeroize::Zeroizing<Vec<u8>>, getrandom::Error> {
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; length]);
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}
