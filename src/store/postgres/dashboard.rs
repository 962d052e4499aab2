//! What the dashboard needs beyond the API's records: sign-in sessions, portal links, delivery
//! stats, and secret rotation.

use super::PgStore;
use super::db::{Run, query};
use crate::domain::time::Millis;
use crate::domain::webhook::Secret;
use crate::store::rows::Columns;
use crate::store::{NewPortalLink, NewSession, PortalGrant, Session, StoreResult};

pub async fn create_session(store: &PgStore, s: &NewSession) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    // Dropping expired sessions at each sign-in keeps the table small without a sweeper.
    query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
    query(
        "INSERT INTO dashboard_sessions (token_hash, workspace_id, csrf_token, read_only,
             created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.token_hash)
    .bind(&s.workspace_id)
    .bind(&s.csrf_token)
    .bind(s.read_only)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn session(
    store: &PgStore,
    token_hash: &[u8],
    now: Millis,
) -> StoreResult<Option<Session>> {
    let row = query(
        "SELECT s.workspace_id, w.name, s.csrf_token, s.read_only, s.expires_at
         FROM dashboard_sessions s JOIN workspaces w ON w.id = s.workspace_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional_on(&store.db)
    .await?;
    row.map(|r| {
        Ok(Session {
            workspace_id: r.text("workspace_id")?,
            workspace_name: r.text("name")?,
            csrf_token: r.text("csrf_token")?,
            read_only: r.flag("read_only")?,
            expires_at: r.int("expires_at")?,
        })
    })
    .transpose()
}

pub async fn delete_session(store: &PgStore, token_hash: &[u8]) -> StoreResult<()> {
    query("DELETE FROM dashboard_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute_on(&store.db)
        .await?;
    Ok(())
}

pub async fn create_portal_link(store: &PgStore, link: &NewPortalLink) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    // Links live minutes; dropping the expired ones at each mint keeps the table small.
    query("DELETE FROM portal_links WHERE expires_at <= $1")
        .bind(link.created_at)
        .execute(&mut *tx)
        .await?;
    let inserted = query(
        "INSERT INTO portal_links (token_hash, workspace_id, read_only, created_at, expires_at)
         SELECT $1, id, $3, $4, $5 FROM workspaces WHERE id = $2",
    )
    .bind(&link.token_hash)
    .bind(&link.workspace_id)
    .bind(link.read_only)
    .bind(link.created_at)
    .bind(link.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn redeem_portal_link(
    store: &PgStore,
    token_hash: &[u8],
    now: Millis,
) -> StoreResult<Option<PortalGrant>> {
    // Deleting is redeeming: of two processes redeeming at once, one gets the row.
    let row = query(
        "DELETE FROM portal_links WHERE token_hash = $1
         RETURNING workspace_id, read_only, expires_at",
    )
    .bind(token_hash)
    .fetch_optional_on(&store.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.int("expires_at")? <= now {
        return Ok(None);
    }
    Ok(Some(PortalGrant {
        workspace_id: row.text("workspace_id")?,
        read_only: row.flag("read_only")?,
    }))
}

pub async fn pending_deliveries(
    store: &PgStore,
    workspace_id: &str,
    webhook_id: &str,
    cap: u64,
) -> StoreResult<u64> {
    let row = query(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM pending_deliveries
             WHERE webhook_id = $1 AND workspace_id = $2 LIMIT $3) AS p",
    )
    .bind(webhook_id)
    .bind(workspace_id)
    .bind(i64::try_from(cap).unwrap_or(i64::MAX))
    .fetch_one_on(&store.db)
    .await?;
    Ok(u64::try_from(row.int("n")?).unwrap_or(0))
}

pub async fn rotate_secret(
    store: &PgStore,
    workspace_id: &str,
    id: &str,
    secret: &Secret,
    now: Millis,
    old_expires_at: Millis,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    // Lock the webhook so concurrent rotations apply one after the other.
    let locked = query("SELECT 1 FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Ok(false);
    }
    query(
        "UPDATE webhook_secrets SET expires_at = $1 WHERE webhook_id = $2 AND expires_at IS NULL",
    )
    .bind(old_expires_at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // Secrets sign newest first (by created_at): a rotation in the same millisecond as the
    // previous secret's creation must still sort first.
    query(
        "INSERT INTO webhook_secrets (webhook_id, secret, created_at)
         SELECT $1, $2, GREATEST($3, COALESCE(MAX(created_at) + 1, $3)) FROM webhook_secrets WHERE webhook_id = $1",
    )
    .bind(id)
    .bind(store.sealer.seal(secret))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
