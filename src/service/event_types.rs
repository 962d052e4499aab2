//! The registered event types as every process sees them. Each process keeps them compiled in
//! memory (`domain::event_type::Registry`); before it lists them, or refuses a name it does not
//! know, it picks up the ones registered since, possibly through another process sharing the
//! database. Only new types are compiled, so bringing the registry up to date costs one small
//! read.

use std::sync::Arc;

use crate::domain::event_type::{EventType, Registry};
use crate::store::{Store, StoreResult};

/// Adds the types registered in the database that the registry does not have yet.
pub async fn refresh(store: &dyn Store, registry: &Registry) -> StoreResult<()> {
    for def in store.event_types().await? {
        if !registry.contains(&def.name) {
            match EventType::compile(def) {
                Ok(compiled) => registry.insert(compiled),
                Err(e) => {
                    tracing::warn!(error = %e.message, "a stored event type does not compile")
                }
            }
        }
    }
    Ok(())
}

/// Every registered type, by name, including those registered through other processes.
pub async fn current(store: &dyn Store, registry: &Registry) -> StoreResult<Vec<Arc<EventType>>> {
    refresh(store, registry).await?;
    Ok(registry.all())
}

/// Brings the registry up to date when it does not know one of `names`, so a type another
/// process registered is not refused here.
pub async fn refresh_for<'a>(
    store: &dyn Store,
    registry: &Registry,
    names: impl IntoIterator<Item = &'a String>,
) -> StoreResult<()> {
    if names.into_iter().any(|name| !registry.contains(name)) {
        refresh(store, registry).await?;
    }
    Ok(())
}
