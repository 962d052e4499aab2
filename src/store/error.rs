//! What a store answers when it cannot do what was asked, in three kinds the callers act on
//! (retry later, a uniqueness rule, anything else), each keeping the database driver's own
//! error as its source, so logs and start-up messages say what really failed.

use std::sync::Arc;

/// The driver's error behind a store error, shared so the error stays cheap to clone.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused to work; the caller may retry later.
    #[error("database unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// A uniqueness rule was broken.
    #[error("conflict: {message}")]
    Conflict {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// Anything else: a bug or corrupt data.
    #[error("database error: {message}")]
    Internal {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            cause: None,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            cause: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal {
            message: message.into(),
            cause: None,
        }
    }

    /// The same error, caused by `cause`.
    pub fn caused_by(self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        let cause = Some(Arc::new(cause) as Cause);
        match self {
            Self::Unavailable { message, .. } => Self::Unavailable { message, cause },
            Self::Conflict { message, .. } => Self::Conflict { message, cause },
            Self::Internal { message, .. } => Self::Internal { message, cause },
        }
    }

    /// The driver's error behind this one, if any.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Self::Unavailable { cause, .. }
            | Self::Conflict { cause, .. }
            | Self::Internal { cause, .. } => cause.as_deref(),
        }
    }

    /// The error and every cause under it that adds something, for a log line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let said = cause.to_string();
            if !text.ends_with(&said) {
                text.push_str(": ");
                text.push_str(&said);
            }
            next = cause.source();
        }
        text
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error;
        let kind = match &e {
            Error::Database(db) if db.is_unique_violation() => Self::conflict(db.message()),
            Error::Io(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::Tls(_)
            | Error::Protocol(_) => Self::unavailable(e.to_string()),
            // PostgreSQL: connection exceptions (08…), shutdowns and resource limits (57…, 53…),
            // serialization failures (40…).
            Error::Database(db)
                if db.code().is_some_and(|c| {
                    c.starts_with("08")
                        || c.starts_with("57")
                        || c.starts_with("53")
                        || c.starts_with("40")
                }) =>
            {
                Self::unavailable(db.message())
            }
            _ => Self::internal(e.to_string()),
        };
        kind.caused_by(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::{ErrorCode, SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
        let kind = match &e {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure => Self::unavailable(e.to_string()),
                ErrorCode::ConstraintViolation
                    if matches!(
                        failure.extended_code,
                        SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
                    ) =>
                {
                    Self::conflict(e.to_string())
                }
                _ => Self::internal(e.to_string()),
            },
            _ => Self::internal(e.to_string()),
        };
        kind.caused_by(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driver_error_is_kept_as_the_cause_and_shown_in_the_chain() {
        let e: StoreError = rusqlite::Error::InvalidQuery.into();
        assert!(matches!(e, StoreError::Internal { cause: Some(_), .. }));
        assert!(std::error::Error::source(&e).is_some());
        let said = rusqlite::Error::InvalidQuery.to_string();
        assert_eq!(e.chain(), format!("database error: {said}"), "said once");
        let wrapped =
            StoreError::unavailable("the writer stopped").caused_by(rusqlite::Error::InvalidQuery);
        assert_eq!(
            wrapped.chain(),
            format!("database unavailable: the writer stopped: {said}")
        );
        assert_eq!(StoreError::conflict("x").chain(), "conflict: x");
    }
}
