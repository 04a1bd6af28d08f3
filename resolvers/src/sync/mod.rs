//! Batch upserts for ERP and HRIS connectors: the chain's store list from
//! the ERP, its workforce and their credentials from the HRIS, keyed by the
//! source system's own ids.
//!
//! A batch is checked record by record: each failing record gets its own
//! `userErrors` (with the record's index in the field path) and the others
//! apply, unless the caller asks for `atomic: true`, in which case one
//! failure applies nothing. The whole batch runs in one transaction with a
//! fixed number of statements (resolve references, read current rows,
//! insert, update, audit), plus a compliance re-evaluation per affected
//! location, so a hundred records cost about what one does.

mod credentials;
mod employees;
mod locations;

use async_graphql::{Enum, MergedObject, SimpleObject, ID};
use std::collections::HashMap;
use uuid::Uuid;

use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{UserError, UserErrorCode};

/// Most records one call may carry.
pub const MAX_BATCH: usize = 500;

/// Every sync mutation.
#[derive(MergedObject, Default)]
pub struct SyncMutation(
    employees::EmployeeSyncMutation,
    credentials::CredentialSyncMutation,
    locations::LocationSyncMutation,
);

/// What happened to one record of a batch.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// A new object was created.
    Created,
    /// The object existed and changed.
    Updated,
    /// The object already matched the record.
    Unchanged,
    /// The record was refused; see `userErrors` with its index.
    Failed,
    /// The record was valid but nothing was applied, because the batch was
    /// atomic and another record failed.
    Skipped,
}

/// The outcome of one record.
#[derive(SimpleObject, Clone, Debug)]
pub struct SyncRecordResult {
    /// Position of the record in the input list.
    pub index: i32,
    /// The record's external id, as sent.
    pub external_id: String,
    /// What happened.
    pub status: SyncStatus,
    /// The object's global id, when it exists.
    pub id: Option<ID>,
}

/// Result of a sync mutation.
#[derive(SimpleObject, Debug)]
pub struct SyncPayload {
    /// One result per input record, in input order.
    pub results: Vec<SyncRecordResult>,
    /// Records that created an object.
    pub created: i32,
    /// Records that changed an object.
    pub updated: i32,
    /// Records that matched what was stored.
    pub unchanged: i32,
    /// Records refused.
    pub failed: i32,
    /// Why records were refused; each field path names the record's index,
    /// e.g. `["input", "employees", "3", "hireDate"]`.
    pub user_errors: Vec<UserError>,
}

/// The results of a batch as it is worked through.
pub(crate) struct Batch {
    list: &'static str,
    results: Vec<SyncRecordResult>,
    /// Errors with the index of their record, reported in record order.
    errors: Vec<(usize, UserError)>,
}

impl Batch {
    /// A batch of `external_ids` under `input.<list>`; refuses an empty or
    /// oversized batch as a whole.
    pub(crate) fn new<'a>(
        list: &'static str,
        external_ids: impl ExactSizeIterator<Item = &'a str>,
    ) -> Result<Self, ApiError> {
        let n = external_ids.len();
        if n == 0 || n > MAX_BATCH {
            return Err(ApiError::bad_input(format!(
                "`{list}` must hold 1 to {MAX_BATCH} records, got {n}; split larger syncs into several calls"
            )));
        }
        let results = external_ids
            .enumerate()
            .map(|(i, ext)| SyncRecordResult {
                index: i as i32,
                external_id: ext.to_owned(),
                status: SyncStatus::Unchanged,
                id: None,
            })
            .collect();
        Ok(Self {
            list,
            results,
            errors: Vec::new(),
        })
    }

    /// Refuses record `i` for a problem with its `field`.
    pub(crate) fn fail(&mut self, i: usize, field: &str, code: UserErrorCode, message: &str) {
        self.results[i].status = SyncStatus::Failed;
        let path = format!("{}.{i}.{field}", self.list);
        self.errors.push((i, UserError::new(&path, code, message)));
    }

    /// Refuses record `i` for an invalid `field` unless `ok`.
    pub(crate) fn check(&mut self, ok: bool, i: usize, field: &str, message: &str) {
        if !ok {
            self.fail(i, field, UserErrorCode::Invalid, message);
        }
    }

    /// Whether record `i` is still good.
    pub(crate) fn ok(&self, i: usize) -> bool {
        self.results[i].status != SyncStatus::Failed
    }

    /// Indices of records still good.
    pub(crate) fn live(&self) -> Vec<usize> {
        (0..self.results.len()).filter(|&i| self.ok(i)).collect()
    }

    /// Whether any record failed.
    pub(crate) fn any_failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Records what happened to record `i` and the object it is about.
    pub(crate) fn done(&mut self, i: usize, status: SyncStatus, node: (NodeType, Uuid)) {
        self.results[i].status = status;
        self.results[i].id = Some(ids::encode(node.0, node.1));
    }

    /// Refuses every record whose key (by `key_of`) occurs more than once:
    /// which of them should win is not ours to guess.
    pub(crate) fn refuse_duplicates(&mut self, field: &str, keys: &[&str], what: &str) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for k in keys {
            *seen.entry(k).or_default() += 1;
        }
        for (i, k) in keys.iter().enumerate() {
            if seen[k] > 1 {
                self.fail(
                    i,
                    field,
                    UserErrorCode::Duplicate,
                    &format!("this {what} occurs more than once in the batch"),
                );
            }
        }
    }

    /// The payload. After an atomic batch with failures, nothing applied:
    /// the good records are reported as skipped.
    pub(crate) fn finish(mut self, applied: bool) -> SyncPayload {
        if !applied {
            for r in &mut self.results {
                if r.status != SyncStatus::Failed {
                    r.status = SyncStatus::Skipped;
                }
            }
        }
        let count = |s: SyncStatus| self.results.iter().filter(|r| r.status == s).count() as i32;
        self.errors.sort_by_key(|(i, _)| *i);
        SyncPayload {
            created: count(SyncStatus::Created),
            updated: count(SyncStatus::Updated),
            unchanged: count(SyncStatus::Unchanged),
            failed: count(SyncStatus::Failed),
            user_errors: self.errors.into_iter().map(|(_, e)| e).collect(),
            results: self.results,
        }
    }

    /// The audit details of an applied batch: counts and the ids touched.
    pub(crate) fn audit_details(&self, ty: NodeType) -> serde_json::Value {
        let ids_with = |s: SyncStatus| -> Vec<ID> {
            self.results
                .iter()
                .filter(|r| r.status == s)
                .filter_map(|r| r.id.clone())
                .collect()
        };
        serde_json::json!({
            "type": ty.name(),
            "records": self.results.len(),
            "created": ids_with(SyncStatus::Created),
            "updated": ids_with(SyncStatus::Updated),
            "failed": self.results.iter().filter(|r| r.status == SyncStatus::Failed).count(),
        })
    }
}

/// An external id is 1 to 128 characters of printable text.
pub(crate) fn valid_external_id(s: &str) -> bool {
    crate::payload::len_between(s, 1, 128) && !s.chars().any(char::is_control)
}
