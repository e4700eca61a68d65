//! The connection a writer task keeps between its transactions. SQLite's page cache belongs to
//! a connection and goes stale when another connection writes, so a writer taking whichever
//! pooled connection was free read its indexes back from the file for every group; one kept
//! connection finds them cached.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection, Transaction};

use super::url::Backend;
use super::Database;
use crate::error::Result;

pub struct WriterConnection {
    db: Database,
    held: Option<PoolConnection<Any>>,
    announce_alarms: bool,
}

/// A write transaction on the writer's connection.
pub struct WriteTransaction<'c> {
    tx: Transaction<'c, Any>,
    /// Whether beginning took the whole database's write lock (SQLite), so rows need none.
    database_locked: bool,
    /// Whether alarm transitions written here go to the webhook's outbox.
    pub announce_alarms: bool,
}

impl WriterConnection {
    /// A writer's connection; with `announce_alarms`, the alarm transitions its transactions
    /// write go to the webhook's outbox too.
    pub fn new(db: Database, announce_alarms: bool) -> WriterConnection {
        WriterConnection {
            db,
            held: None,
            announce_alarms,
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): no statement inside waits for it, and none is spent taking it.
    pub async fn begin(&mut self) -> Result<WriteTransaction<'_>> {
        let connection = match &mut self.held {
            Some(connection) => connection,
            held => held.insert(self.db.pool().acquire().await?),
        };
        let database_locked = self.db.backend == Backend::Sqlite;
        let tx = if database_locked {
            (**connection).begin_with("BEGIN IMMEDIATE").await?
        } else {
            (**connection).begin().await?
        };
        Ok(WriteTransaction {
            tx,
            database_locked,
            announce_alarms: self.announce_alarms,
        })
    }

    /// Gives the connection back after a failure: the pool settles or closes it on release
    /// (a failed write may mean the connection can no longer write), and the next `begin`
    /// takes another.
    pub fn discard(&mut self) {
        self.held = None;
    }
}

impl WriteTransaction<'_> {
    /// Locks the machines' rows, in id order, where beginning did not lock the database, so
    /// concurrent writers for a machine queue here instead of racing on sequence ids.
    pub async fn lock_machines(&mut self, machine_ids: &[i64]) -> Result<()> {
        if self.database_locked {
            return Ok(());
        }
        super::readings::lock_machines(&mut self.tx, machine_ids).await
    }

    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl<'c> Deref for WriteTransaction<'c> {
    type Target = Transaction<'c, Any>;

    fn deref(&self) -> &Transaction<'c, Any> {
        &self.tx
    }
}

impl<'c> DerefMut for WriteTransaction<'c> {
    fn deref_mut(&mut self) -> &mut Transaction<'c, Any> {
        &mut self.tx
    }
}
