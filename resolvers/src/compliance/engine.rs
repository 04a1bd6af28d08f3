//! The rules engine: a pure function from a location's facts and the
//! requirements of its jurisdictions to a status per requirement, an overall
//! status with its reason, the alerts that should be open, and the day the
//! answer could next change on its own (so time-driven changes, such as a
//! card expiring overnight, are re-evaluated without any new fact).

mod facts;
mod rules;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

pub use facts::*;
use rules::{food_handler, inspection, manager, permit};

use crate::enums::{AlertKind, AlertSeverity, ComplianceStatus};

/// A credential or permit expiring within this many days puts the location
/// at risk and raises an alert.
pub const WARNING_DAYS: u64 = 30;

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// An employee.
    Employee(Uuid),
    /// A credential.
    Credential(Uuid),
    /// A permit.
    Permit(Uuid),
    /// A finding.
    Finding(Uuid),
    /// The location itself.
    Location(Uuid),
}

impl Subject {
    /// `(subject_type, subject_id)` as stored.
    pub fn as_db(&self) -> (&'static str, Uuid) {
        match *self {
            Subject::Employee(id) => ("employee", id),
            Subject::Credential(id) => ("credential", id),
            Subject::Permit(id) => ("permit", id),
            Subject::Finding(id) => ("finding", id),
            Subject::Location(id) => ("location", id),
        }
    }
}

/// An alert that should be open.
#[derive(Clone, Debug)]
pub struct AlertDraft {
    /// The requirement behind it.
    pub requirement_id: Uuid,
    /// Kind.
    pub kind: AlertKind,
    /// Severity.
    pub severity: AlertSeverity,
    /// Subject.
    pub subject: Subject,
    /// Message for people.
    pub message: String,
    /// When something must be done by.
    pub due_on: Option<NaiveDate>,
}

/// The status of one requirement at the location.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Requirement id.
    pub requirement_id: Uuid,
    /// Status.
    pub status: ComplianceStatus,
    /// Why, in one sentence.
    pub reason: String,
}

/// The engine's answer for one location.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Per requirement, in input order.
    pub outcomes: Vec<Outcome>,
    /// The worst status.
    pub status: ComplianceStatus,
    /// The reason of the worst outcome, prefixed by its requirement.
    pub reason: String,
    /// Alerts that should be open.
    pub alerts: Vec<AlertDraft>,
    /// The first day the evaluation may change without new facts.
    pub review_on: Option<NaiveDate>,
}

/// Evaluates a location.
pub fn evaluate(facts: &LocationFacts) -> Evaluation {
    let mut acc = Acc {
        today: facts.today,
        alerts: Vec::new(),
        review: None,
    };
    let outcomes: Vec<Outcome> = facts
        .requirements
        .iter()
        .map(|req| {
            let (status, reason) = match &req.rule {
                Rule::FoodHandlerCard { kind, grace_days } => {
                    food_handler(facts, req.id, *kind, *grace_days, &mut acc)
                }
                Rule::CertifiedManager { kind, min } => {
                    manager(facts, req.id, *kind, *min, &mut acc)
                }
                Rule::Permit { kind } => permit(facts, req.id, *kind, &mut acc),
                Rule::RoutineInspection { interval_days } => {
                    inspection(facts, req.id, *interval_days, &mut acc)
                }
            };
            Outcome {
                requirement_id: req.id,
                status,
                reason,
            }
        })
        .collect();
    // the first of equally bad outcomes gives the reason (max_by_key keeps the last)
    let worst = outcomes
        .iter()
        .zip(&facts.requirements)
        .rev()
        .max_by_key(|(o, _)| o.status);
    let (status, reason) = match worst {
        Some((o, req)) if o.status != ComplianceStatus::Compliant => {
            (o.status, format!("{}: {}", req.title, o.reason))
        }
        _ => (
            ComplianceStatus::Compliant,
            format!("all {} applicable requirements are met", outcomes.len()),
        ),
    };
    Evaluation {
        outcomes,
        status,
        reason,
        alerts: acc.alerts,
        review_on: acc.review,
    }
}

struct Acc {
    today: NaiveDate,
    alerts: Vec<AlertDraft>,
    review: Option<NaiveDate>,
}

impl Acc {
    /// Notes a day on which the answer changes; only future days count.
    fn review_at(&mut self, day: NaiveDate) {
        if day > self.today && self.review.is_none_or(|r| day < r) {
            self.review = Some(day);
        }
    }

    /// Notes an expiry: the answer changes when the warning window opens
    /// and again on the expiry day.
    fn expiry(&mut self, expires_on: NaiveDate) {
        self.review_at(expires_on);
        if let Some(warn) = expires_on.checked_sub_days(Days::new(WARNING_DAYS)) {
            self.review_at(warn);
        }
    }

    fn expiring_soon(&self, expires_on: NaiveDate) -> bool {
        expires_on
            .checked_sub_days(Days::new(WARNING_DAYS))
            .is_some_and(|warn| self.today >= warn)
    }

    fn alert(
        &mut self,
        requirement_id: Uuid,
        kind: AlertKind,
        severity: AlertSeverity,
        subject: Subject,
        message: String,
        due_on: Option<NaiveDate>,
    ) {
        self.alerts.push(AlertDraft {
            requirement_id,
            kind,
            severity,
            subject,
            message,
            due_on,
        });
    }
}
