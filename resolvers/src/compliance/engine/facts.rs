//! What the engine reads: a location's facts on one day and the rules of
//! the requirements that apply to it.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::enums::{CredentialKind, PermitKind};

/// A requirement's rule with its parameters.
#[derive(Clone, Debug)]
pub enum Rule {
    /// Every food-handling employee holds a valid card of `kind` (or a
    /// manager certification) once `grace_days` after hire have passed.
    FoodHandlerCard {
        /// The credential that satisfies the rule.
        kind: CredentialKind,
        /// Days after hire to obtain it.
        grace_days: u32,
    },
    /// At least `min` active employees hold a valid credential of `kind`.
    CertifiedManager {
        /// The certification.
        kind: CredentialKind,
        /// How many are needed per location.
        min: u32,
    },
    /// A valid permit of `kind` is on file.
    Permit {
        /// The permit kind.
        kind: PermitKind,
    },
    /// A routine inspection within `interval_days`, and findings corrected
    /// by their due dates.
    RoutineInspection {
        /// Maximum days between routine inspections.
        interval_days: u32,
    },
}

/// A requirement that applies to the location.
#[derive(Clone, Debug)]
pub struct RequirementFacts {
    /// Requirement id.
    pub id: Uuid,
    /// Human title, used in reasons.
    pub title: String,
    /// The rule.
    pub rule: Rule,
}

/// A credential held by an employee.
#[derive(Clone, Debug)]
pub struct CredentialFacts {
    /// Credential id.
    pub id: Uuid,
    /// Its kind.
    pub kind: CredentialKind,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

/// An active employee of the location.
#[derive(Clone, Debug)]
pub struct EmployeeFacts {
    /// Employee id.
    pub id: Uuid,
    /// Display name, used in alert messages.
    pub name: String,
    /// Whether food-handler rules apply.
    pub handles_food: bool,
    /// Hire date, start of the grace period.
    pub hire_date: NaiveDate,
    /// Credentials held.
    pub credentials: Vec<CredentialFacts>,
}

/// A permit of the location.
#[derive(Clone, Debug)]
pub struct PermitFacts {
    /// Permit id.
    pub id: Uuid,
    /// Its kind.
    pub kind: PermitKind,
    /// Permit number, used in messages.
    pub number: String,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

/// An unresolved finding of one of the location's inspections.
#[derive(Clone, Debug)]
pub struct FindingFacts {
    /// Finding id.
    pub id: Uuid,
    /// Violation code.
    pub code: String,
    /// Whether it is critical.
    pub critical: bool,
    /// Day of the inspection that found it.
    pub inspected_on: NaiveDate,
    /// Correction due date; critical findings without one are due at once.
    pub due_on: Option<NaiveDate>,
}

/// Everything the engine reads about one location.
#[derive(Clone, Debug)]
pub struct LocationFacts {
    /// The location id (subject of location-wide alerts).
    pub location_id: Uuid,
    /// The day to evaluate for.
    pub today: NaiveDate,
    /// Requirements of the location's jurisdictions in force today.
    pub requirements: Vec<RequirementFacts>,
    /// Active employees.
    pub employees: Vec<EmployeeFacts>,
    /// All permits on file.
    pub permits: Vec<PermitFacts>,
    /// Day of the latest routine inspection.
    pub last_routine_inspection: Option<NaiveDate>,
    /// Unresolved findings.
    pub open_findings: Vec<FindingFacts>,
}
