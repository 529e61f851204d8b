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

include!("shared.rs");
