//! The storage layer's error: which database, what kind of trouble, and
//! the driver's own error as its cause.
//!
//! The kind is what callers decide on: the loop keeps a fire's row and
//! tries again when the database is [`Kind::Busy`] or [`Kind::Unavailable`],
//! and gives up at once on a corrupt file or a schema it does not know.

use std::fmt;

/// What kind of trouble the database is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Another connection holds a lock (SQLite's busy timeout ran out, a
    /// PostgreSQL lock or serialization conflict): it may pass.
    Busy,
    /// The server cannot be reached, the connection was lost, or the
    /// database cannot take writes for now (a full disk, a read-only
    /// standby after a failover).
    Unavailable,
    /// There is no database at that location.
    Missing,
    /// It is not a database, or not one of ours, or its schema is newer.
    Corrupt,
    /// The operating system or the server refused access.
    Denied,
    /// Anything else (a full disk, a constraint, a driver error).
    Other,
}

/// An error of the storage layer, with its cause.
#[derive(Debug)]
pub struct StoreError {
    /// The database as the user named it, without a password.
    pub location: String,
    pub kind: Kind,
    pub message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    pub fn new(location: impl Into<String>, kind: Kind, message: impl Into<String>) -> StoreError {
        StoreError {
            location: location.into(),
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Keeps `cause` as this error's [`source`](std::error::Error::source).
    pub fn caused_by(
        mut self,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        self.source = Some(Box::new(cause));
        self
    }

    /// The trouble may pass by itself: worth trying again later.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, Kind::Busy | Kind::Unavailable)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "history database `{}`: {}", self.location, self.message)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
