//! PostgreSQL: the shared store several `gatehouse serve` processes can use at once.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};

use super::Store;
use crate::domain::{
    Account, AccountId, Actor, Event, NewEvent, Person, PersonId, PersonalAccessToken, TokenId,
};

type Db = Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: Pool<Postgres>,
}

type Backend = PostgresStore;

impl PostgresStore {
    pub async fn connect(database_url: &str) -> Result<Self, super::StoreError> {
        Self::connect_with(PgConnectOptions::from_str(database_url)?).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, super::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

/// The channel every process listens on; the payload is empty, a wake-up is all it carries.
const CREDENTIALS_CHANNEL: &str = "gatehouse_credentials";

/// Queued in the transaction, so PostgreSQL delivers it exactly when (and only if) it commits.
async fn notify_credentials_changed(
    connection: &mut sqlx::PgConnection,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CREDENTIALS_CHANNEL)
        .execute(connection)
        .await?;
    Ok(())
}

/// Listens for credential changes in the background. When the listening connection is lost,
/// notifications may have been missed, so that counts as a change too.
fn follow_credential_changes(
    pool: &Pool<Postgres>,
    on_change: std::sync::Arc<dyn Fn() + Send + Sync>,
) {
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            let listening = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CREDENTIALS_CHANNEL).await?;
                loop {
                    listener.try_recv().await?;
                    on_change();
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            if let Err(error) = listening.await {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, "lost the credential-change listener; retrying");
            }
            on_change();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

const DIALECT: scim::sql::Dialect = scim::sql::Dialect::Postgres;

include!("shared.rs");
include!("shared_scim.rs");
include!("shared_scim_groups.rs");
