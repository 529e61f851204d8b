//! Web console sessions. A person pastes a personal access token once; the console answers with
//! a session cookie that acts as that token: every request re-checks the token (revoked,
//! expired, owner disabled, roles now), so the console can never do more than the token could
//! through the API. Sessions end after an idle time, after `CONSOLE_SESSION_MAX_HOURS`, or at
//! sign-out; only the SHA-256 of the cookie is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{AuthFailure, Principal, ServiceError, ServiceResult, Services};
use crate::auth::TokenSecret;
use crate::store::ConsoleSession;

pub const DEFAULT_CONSOLE_IDLE_TIMEOUT_MINS: i64 = 30;
/// However active, a session ends this long after sign-in.
pub const CONSOLE_SESSION_MAX_HOURS: i64 = 12;
/// `last_seen_at` is written at most this often per session, so reads don't become writes.
const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

/// The value of a session cookie: 256 random bits, base64url. `Debug` shows nothing of it.
pub struct ConsoleSessionCookie(Zeroizing<String>);

impl std::fmt::Debug for ConsoleSessionCookie {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ConsoleSessionCookie([redacted])")
    }
}

impl ConsoleSessionCookie {
    /// A new random value (also the sign-in form's anti-forgery cookie).
    pub fn generate() -> ServiceResult<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())
            .map_err(|error| ServiceError::Internal(format!("no randomness available: {error}")))?;
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    /// A cookie as the browser sent it back.
    pub fn from_header_value(value: &str) -> Self {
        Self(Zeroizing::new(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// The CSRF token of this session's forms: derived from the cookie, which a cross-site page
    /// can neither read nor send (HttpOnly, SameSite=Strict), so nothing needs storing.
    pub fn csrf_token(&self) -> String {
        let mut digest = Sha256::new();
        digest.update(b"gatehouse console csrf\0");
        digest.update(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.finalize())
    }
}

impl Services {
    /// Signs in with a personal access token: checks it as the API would and opens a session.
    pub async fn open_console_session(
        &self,
        token: &str,
    ) -> ServiceResult<(ConsoleSessionCookie, Principal)> {
        let secret = TokenSecret::parse(token.trim()).map_err(|error| {
            ServiceError::Unauthenticated(AuthFailure::Malformed(error.to_string()))
        })?;
        let token_hash = secret.hash();
        let principal = self.authenticate_hash(&token_hash, None).await?;
        let cookie = ConsoleSessionCookie::generate()?;
        let now = self.clock.now();
        let session = ConsoleSession {
            session_hash: cookie.hash(),
            token_hash,
            account_id: principal.account_id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(CONSOLE_SESSION_MAX_HOURS),
        };
        self.store
            .insert_console_session(&session, now - self.console_idle_timeout)
            .await?;
        Ok((cookie, principal))
    }

    /// Who a session cookie acts for, now; an ended session is forgotten on the way.
    pub async fn console_principal(
        &self,
        cookie: &ConsoleSessionCookie,
    ) -> ServiceResult<Principal> {
        let ended = ServiceError::Unauthenticated(AuthFailure::SessionEnded);
        let session_hash = cookie.hash();
        let Some(session) = self.store.console_session(&session_hash).await? else {
            return Err(ended);
        };
        let now = self.clock.now();
        if session.expires_at <= now || session.last_seen_at + self.console_idle_timeout <= now {
            self.store.delete_console_session(&session_hash).await?;
            return Err(ended);
        }
        let principal = match self
            .authenticate_hash(&session.token_hash, Some(session.account_id.as_str()))
            .await
        {
            Ok(principal) => principal,
            Err(error @ ServiceError::Unauthenticated(_)) => {
                self.store.delete_console_session(&session_hash).await?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let recent = now - Duration::seconds(LAST_SEEN_RESOLUTION_SECS);
        if session.last_seen_at <= recent {
            self.store
                .touch_console_session(&session_hash, now, recent)
                .await?;
        }
        Ok(principal)
    }

    /// Signs out: the session ends everywhere at once.
    pub async fn close_console_session(&self, cookie: &ConsoleSessionCookie) -> ServiceResult<()> {
        self.store.delete_console_session(&cookie.hash()).await?;
        Ok(())
    }
}
