//! SQLite uses the shared row mapping and column lists of `store::rows`.

pub(crate) use crate::store::rows::{
    attempt_columns, attempt_from, delivery_summary_from, event_columns, event_from,
    event_type_from, page, webhook_columns, webhook_from,
};
