//! What the dashboard needs beyond the API's records: sign-in sessions, portal links and
//! delivery stats.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::time::Millis;
use crate::store::{NewPortalLink, NewSession, PortalGrant, Session, StoreResult};

pub fn create_session(conn: &Connection, s: &NewSession) -> StoreResult<()> {
    // Sessions are short-lived; dropping the expired ones at each sign-in keeps the table small
    // without a sweeper.
    conn.prepare_cached("DELETE FROM dashboard_sessions WHERE expires_at <= ?1")?
        .execute([s.created_at])?;
    conn.prepare_cached(
        "INSERT INTO dashboard_sessions (token_hash, workspace_id, csrf_token, read_only,
             created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        s.token_hash,
        s.workspace_id,
        s.csrf_token,
        s.read_only,
        s.created_at,
        s.expires_at
    ])?;
    Ok(())
}

pub fn session(conn: &Connection, token_hash: &[u8], now: Millis) -> StoreResult<Option<Session>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.workspace_id, w.name, s.csrf_token, s.read_only, s.expires_at
             FROM dashboard_sessions s JOIN workspaces w ON w.id = s.workspace_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        )?
        .query_row(params![token_hash, now], |r| {
            Ok(Session {
                workspace_id: r.get(0)?,
                workspace_name: r.get(1)?,
                csrf_token: r.get(2)?,
                read_only: r.get(3)?,
                expires_at: r.get(4)?,
            })
        })
        .optional()?)
}

pub fn delete_session(conn: &Connection, token_hash: &[u8]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM dashboard_sessions WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

pub fn create_portal_link(conn: &Connection, link: &NewPortalLink) -> StoreResult<bool> {
    // Links live minutes; dropping the expired ones at each mint keeps the table small.
    conn.prepare_cached("DELETE FROM portal_links WHERE expires_at <= ?1")?
        .execute([link.created_at])?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO portal_links (token_hash, workspace_id, read_only, created_at, expires_at)
             SELECT ?1, id, ?3, ?4, ?5 FROM workspaces WHERE id = ?2",
        )?
        .execute(params![
            link.token_hash,
            link.workspace_id,
            link.read_only,
            link.created_at,
            link.expires_at
        ])?;
    Ok(inserted == 1)
}

pub fn redeem_portal_link(
    conn: &Connection,
    token_hash: &[u8],
    now: Millis,
) -> StoreResult<Option<PortalGrant>> {
    // Deleting is redeeming: the link is gone whether or not it was still good.
    Ok(conn
        .prepare_cached(
            "DELETE FROM portal_links WHERE token_hash = ?1
             RETURNING workspace_id, read_only, expires_at",
        )?
        .query_row(params![token_hash], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?
        .filter(|(_, _, expires_at)| *expires_at > now)
        .map(|(workspace_id, read_only, _)| PortalGrant {
            workspace_id,
            read_only,
        }))
}

pub fn pending_deliveries(
    conn: &Connection,
    workspace_id: &str,
    webhook_id: &str,
    cap: u64,
) -> StoreResult<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries
                 WHERE webhook_id = ?1 AND workspace_id = ?2 AND state = 'pending' LIMIT ?3)",
        )?
        .query_row(
            params![
                webhook_id,
                workspace_id,
                i64::try_from(cap).unwrap_or(i64::MAX)
            ],
            |r| r.get(0),
        )?;
    Ok(u64::try_from(n).unwrap_or(0))
}
