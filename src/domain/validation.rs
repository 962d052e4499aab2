//! The one shape of "this value is not acceptable": which field, why, and whether it is a plain
//! validation failure or a URL on a blocked address. The HTTP layer maps it to a 422.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKind {
    ValidationFailed,
    BlockedAddress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub kind: InvalidKind,
    /// Dotted path of the field at fault, e.g. `data.transcript[0].role`.
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: InvalidKind::ValidationFailed,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn blocked(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: InvalidKind::BlockedAddress,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

/// Free text (descriptions, names) may hold any character but NUL (U+0000), which PostgreSQL
/// cannot store in text: refused on every backend, so both accept the same values.
pub fn check_no_nul(field: &str, text: &str) -> Result<(), Invalid> {
    if text.contains('\0') {
        return Err(Invalid::field(
            field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

/// Length in characters (Unicode scalar values), as the contract counts them.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}
