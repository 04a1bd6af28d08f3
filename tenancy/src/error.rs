/// Failures of the tenant-scoped database layer.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    /// The database could not be reached or a statement failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A write was attempted through a read-only scope: a programming error.
    #[error("write attempted through a read-only tenant scope")]
    ReadOnlyScope,
    /// A statement waited too long for the request's one transaction: a
    /// resolver asked for it while holding it. A programming error.
    #[error("the request's transaction was requested while held")]
    Reentrant,
    /// The tenant holds its whole share of database connections (or the
    /// pool is exhausted): refused fast, answered `OVERLOADED`.
    #[error("overloaded: {0}")]
    Overloaded(&'static str),
    /// One-transaction mode was finished without a transaction: a
    /// programming error.
    #[error("no transaction is open for this request")]
    NotInTransaction,
}
