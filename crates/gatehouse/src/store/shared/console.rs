//! Web console sessions. Only hashes are stored: of the cookie, and of the token the session
//! acts as.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::auth::TokenHash;
use crate::domain::truncate_to_micros;
use crate::store::dialect::Dialect;
use crate::store::{ConsoleSession, ConsoleSessionStore, StoreError, StoreResult};

use super::Backend;
use super::parse_account_id;

#[derive(FromRow)]
pub(super) struct ConsoleSessionRow {
    session_hash: Vec<u8>,
    token_hash: Vec<u8>,
    account_id: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl ConsoleSessionRow {
    fn into_session(self) -> StoreResult<ConsoleSession> {
        Ok(ConsoleSession {
            session_hash: self.session_hash,
            token_hash: TokenHash::from_bytes(&self.token_hash)
                .ok_or_else(|| StoreError::Corrupt("a console session's token hash".to_owned()))?,
            account_id: parse_account_id(&self.account_id)?,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
        })
    }
}

#[async_trait]
impl ConsoleSessionStore for Backend {
    async fn insert_console_session(
        &self,
        session: &ConsoleSession,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < $1 OR expires_at <= $2")
            .bind(truncate_to_micros(idle_before))
            .bind(truncate_to_micros(session.created_at))
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (session_hash, token_hash, account_id, created_at, \
             last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.session_hash.as_slice())
        .bind(session.token_hash.as_bytes().as_slice())
        .bind(session.account_id.as_str())
        .bind(truncate_to_micros(session.created_at))
        .bind(truncate_to_micros(session.last_seen_at))
        .bind(truncate_to_micros(session.expires_at))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn console_session(&self, session_hash: &[u8]) -> StoreResult<Option<ConsoleSession>> {
        let row: Option<ConsoleSessionRow> = sqlx::query_as(
            "SELECT session_hash, token_hash, account_id, created_at, last_seen_at, expires_at \
             FROM console_sessions WHERE session_hash = $1",
        )
        .bind(session_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(ConsoleSessionRow::into_session).transpose()
    }

    async fn touch_console_session(
        &self,
        session_hash: &[u8],
        seen_at: DateTime<Utc>,
        unless_seen_after: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2 WHERE session_hash = $1 AND \
                     last_seen_at <= $3",
        )
        .bind(session_hash)
        .bind(truncate_to_micros(seen_at))
        .bind(truncate_to_micros(unless_seen_after))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn delete_console_session(&self, session_hash: &[u8]) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(self.writer())
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
