//! SQLite uses the shared row mapping and column lists of `store::rows`; `rusqlite` rows stream
//! from their statement, so pages are built row by row here.

use rusqlite::{CachedStatement, Params, Row};

use crate::store::rows::Columns;
pub(crate) use crate::store::rows::{
    attempt_columns, attempt_from, delivery_summary_from, event_columns, event_from,
    event_type_from, webhook_columns, webhook_from,
};
use crate::store::{Page, StoreResult};

/// Runs a query that fetches `LIMIT limit + 1` rows with a `seq` column and builds the page: the
/// extra row only says "there is more".
pub fn page<T>(
    mut query: CachedStatement<'_>,
    params: impl Params,
    limit: u32,
    convert: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let mut rows = query.query(params)?;
    let mut items = Vec::new();
    let mut last_seq = None;
    while let Some(row) = rows.next()? {
        if items.len() == limit as usize {
            return Ok(Page {
                items,
                next_cursor: last_seq,
            });
        }
        items.push(convert(row)?);
        last_seq = Some(row.int("seq")?);
    }
    Ok(Page {
        items,
        next_cursor: None,
    })
}

/// Every row of a query, converted.
pub fn all<T>(
    mut query: CachedStatement<'_>,
    params: impl Params,
    convert: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = query.query(params)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(convert(row)?);
    }
    Ok(items)
}
