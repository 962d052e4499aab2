//! Group commit. Accepting an event and recording an attempt are the two writes on the hot path,
//! and SQLite has one writer: instead of one transaction (and one fsync) each, concurrent requests
//! queue here and a single task applies whatever has queued up in ONE transaction, then answers
//! every caller. Nobody is answered before the commit, so a 202 still means "on disk".

use sqlx::{Connection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{events, queue};
use crate::store::{Attempt, Ingested, NewAttempt, NewEvent, StoreError, StoreResult};

/// Most operations committed together; bounds the time one commit takes.
const MAX_BATCH: usize = 512;

pub enum Op {
    Ingest(Box<NewEvent>, oneshot::Sender<StoreResult<Ingested>>),
    Record(Box<NewAttempt>, oneshot::Sender<StoreResult<Attempt>>),
}

enum Done {
    Ingested(StoreResult<Ingested>),
    Recorded(StoreResult<Attempt>),
}

#[derive(Clone)]
pub struct Writer(mpsc::Sender<Op>);

impl Writer {
    pub fn spawn(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx));
        Self(tx)
    }

    pub async fn ingest(&self, event: &NewEvent) -> StoreResult<Ingested> {
        let (tx, rx) = oneshot::channel();
        self.submit(Op::Ingest(Box::new(event.clone()), tx), rx)
            .await
    }

    pub async fn record(&self, attempt: &NewAttempt) -> StoreResult<Attempt> {
        let (tx, rx) = oneshot::channel();
        self.submit(Op::Record(Box::new(attempt.clone()), tx), rx)
            .await
    }

    async fn submit<T>(&self, op: Op, rx: oneshot::Receiver<StoreResult<T>>) -> StoreResult<T> {
        let gone = || StoreError::Unavailable("the database writer stopped".into());
        self.0.send(op).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Op>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        match apply(&pool, &batch).await {
            Ok(results) => answer(batch, results),
            // One bad operation must not fail its neighbours: retry each on its own.
            Err(_) if batch.len() > 1 => {
                for op in batch {
                    let single = [op];
                    match apply(&pool, &single).await {
                        Ok(results) => answer(Vec::from(single), results),
                        Err(e) => fail(Vec::from(single), e),
                    }
                }
            }
            Err(e) => fail(batch, e),
        }
    }
}

/// Applies the batch in one `BEGIN IMMEDIATE` transaction; any error rolls all of it back.
async fn apply(pool: &SqlitePool, batch: &[Op]) -> StoreResult<Vec<Done>> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(batch.len());
    for op in batch {
        results.push(match op {
            Op::Ingest(event, _) => Done::Ingested(Ok(events::ingest_in(&mut tx, event).await?)),
            Op::Record(attempt, _) => Done::Recorded(Ok(queue::record_in(&mut tx, attempt).await?)),
        });
    }
    tx.commit().await?;
    Ok(results)
}

fn answer(batch: Vec<Op>, results: Vec<Done>) {
    for (op, done) in batch.into_iter().zip(results) {
        match (op, done) {
            (Op::Ingest(_, reply), Done::Ingested(result)) => drop(reply.send(result)),
            (Op::Record(_, reply), Done::Recorded(result)) => drop(reply.send(result)),
            _ => {}
        }
    }
}

fn fail(batch: Vec<Op>, error: StoreError) {
    let copy = |e: &StoreError| match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Internal(m) => StoreError::Internal(m.clone()),
    };
    for op in batch {
        match op {
            Op::Ingest(_, reply) => drop(reply.send(Err(copy(&error)))),
            Op::Record(_, reply) => drop(reply.send(Err(copy(&error)))),
        }
    }
}
