//! What a use case answers when it cannot do what was asked, in the service's terms; each
//! adapter turns it into its own answer (the API's JSON error, the dashboard's page).

use crate::domain::Invalid;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The workspace has no such resource (another workspace's ids included).
    #[error("no such {0} in this workspace")]
    NotFound(&'static str),
    /// A value was refused, with the field at fault.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Something the operator must fix first (the sentence says what).
    #[error("{0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}
