/// Failures of the tenant-scoped database layer.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    /// The database could not be reached or a statement failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A write was attempted through a read-only scope: a programming error.
    #[error("write attempted through a read-only tenant scope")]
    ReadOnlyScope,
}
