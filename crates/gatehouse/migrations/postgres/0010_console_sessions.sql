-- Web console sessions: a person signs in with a personal access token and gets a session
-- cookie. Only the SHA-256 of the cookie's value is kept; the session acts as the token it was
-- opened with (`token_hash` = that token's `secret_hash`), so revoking or expiring the token,
-- disabling its owner or taking a role away ends or narrows the session at once.

CREATE TABLE console_sessions (
    session_hash  BYTEA PRIMARY KEY,
    token_hash    BYTEA NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_by_last_seen ON console_sessions (last_seen_at);
