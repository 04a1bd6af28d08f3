//! Validation problems reported in mutation payloads (`userErrors`), and the
//! mapping of named database constraints to them where the query runs.

use async_graphql::{Enum, SimpleObject};

/// Why an input was refused.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// The value is malformed or out of range.
    Invalid,
    /// The value must be unique and is already used.
    Taken,
    /// A referenced object does not exist (or is not yours).
    NotFound,
    /// The change conflicts with the object's current state.
    Conflict,
    /// The same key occurs more than once in one batch.
    Duplicate,
    /// The caller may see the object but not change it.
    Forbidden,
}

/// A problem with the input that the caller can fix.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// Path to the input field, e.g. `["input", "storeNumber"]`.
    pub field: Vec<String>,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs.
    pub code: UserErrorCode,
}

impl UserError {
    /// A problem with `field` (a dotted path below `input`).
    pub fn new(field: &str, code: UserErrorCode, message: impl Into<String>) -> Self {
        let mut path = vec!["input".to_owned()];
        path.extend(
            field
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        Self {
            field: path,
            message: message.into(),
            code,
        }
    }
}

/// Collects the problems of one input before anything is written.
#[derive(Default, Debug)]
pub struct Violations(Vec<UserError>);

impl Violations {
    /// Records a problem.
    pub fn add(&mut self, field: &str, code: UserErrorCode, message: impl Into<String>) {
        self.0.push(UserError::new(field, code, message));
    }

    /// Records an `Invalid` problem unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.add(field, UserErrorCode::Invalid, message);
        }
    }

    /// The problems, if there are any.
    pub fn into_result(self) -> Result<(), Vec<UserError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// A named constraint and the user error its violation means.
pub struct ConstraintError {
    /// Constraint name from the migration.
    pub constraint: &'static str,
    /// Input field it concerns.
    pub field: &'static str,
    /// Code.
    pub code: UserErrorCode,
    /// Message. Never echoes stored values: a unique key is per tenant, and
    /// the message must not tell one tenant anything about another.
    pub message: &'static str,
}

/// Turns a violation of one of `known` constraints into its user error;
/// any other error is returned as it is.
pub fn on_constraint(
    err: sqlx::Error,
    known: &[ConstraintError],
) -> Result<UserError, sqlx::Error> {
    let hit = err
        .as_database_error()
        .and_then(|db| db.constraint())
        .and_then(|name| known.iter().find(|k| k.constraint == name));
    match hit {
        Some(k) => Ok(UserError::new(k.field, k.code, k.message)),
        None => Err(err),
    }
}

/// Length of `s` in characters is within `min..=max`.
pub fn len_between(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}
