//! The rules engine: a pure function from a location's facts and the
//! requirements of its jurisdictions to a status per requirement, an overall
//! status with its reason, the alerts that should be open, and the day the
//! answer could next change on its own (so time-driven changes, such as a
//! card expiring overnight, are re-evaluated without any new fact).

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use crate::enums::{AlertKind, AlertSeverity, ComplianceStatus, CredentialKind, PermitKind};

/// A credential or permit expiring within this many days puts the location
/// at risk and raises an alert.
pub const WARNING_DAYS: u64 = 30;

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

fn valid_on(issued_on: NaiveDate, expires_on: NaiveDate, day: NaiveDate) -> bool {
    issued_on <= day && day < expires_on
}

fn food_handler(
    facts: &LocationFacts,
    req: Uuid,
    kind: CredentialKind,
    grace_days: u32,
    acc: &mut Acc,
) -> (ComplianceStatus, String) {
    let today = facts.today;
    let handlers: Vec<&EmployeeFacts> = facts.employees.iter().filter(|e| e.handles_food).collect();
    let (mut missing, mut pending, mut expiring) = (0usize, 0usize, 0usize);
    for emp in &handlers {
        let satisfies = |c: &&CredentialFacts| {
            c.kind == kind || c.kind == CredentialKind::FoodProtectionManager
        };
        // a card issued for a later day changes the answer on that day
        for c in emp
            .credentials
            .iter()
            .filter(satisfies)
            .filter(|c| c.issued_on > today)
        {
            acc.review_at(c.issued_on);
        }
        let best = emp
            .credentials
            .iter()
            .filter(satisfies)
            .filter(|c| valid_on(c.issued_on, c.expires_on, today))
            .max_by_key(|c| c.expires_on);
        if let Some(card) = best {
            acc.expiry(card.expires_on);
            if acc.expiring_soon(card.expires_on) {
                expiring += 1;
                acc.alert(
                    req,
                    AlertKind::CredentialExpiring,
                    AlertSeverity::Warning,
                    Subject::Credential(card.id),
                    format!(
                        "{}'s food handler card expires on {}",
                        emp.name, card.expires_on
                    ),
                    Some(card.expires_on),
                );
            }
            continue;
        }
        let deadline = emp
            .hire_date
            .checked_add_days(Days::new(u64::from(grace_days)))
            .unwrap_or(emp.hire_date);
        let lapsed = emp
            .credentials
            .iter()
            .filter(satisfies)
            .filter(|c| c.expires_on <= today)
            .max_by_key(|c| c.expires_on);
        if today < deadline {
            pending += 1;
            acc.review_at(deadline);
            acc.alert(
                req,
                AlertKind::CredentialMissing,
                AlertSeverity::Warning,
                Subject::Employee(emp.id),
                format!("{} needs a food handler card by {deadline}", emp.name),
                Some(deadline),
            );
        } else {
            missing += 1;
            match lapsed {
                Some(old) => acc.alert(
                    req,
                    AlertKind::CredentialExpired,
                    AlertSeverity::Critical,
                    Subject::Credential(old.id),
                    format!(
                        "{}'s food handler card expired on {}",
                        emp.name, old.expires_on
                    ),
                    Some(old.expires_on),
                ),
                None => acc.alert(
                    req,
                    AlertKind::CredentialMissing,
                    AlertSeverity::Critical,
                    Subject::Employee(emp.id),
                    format!(
                        "{} has no food handler card; it was due by {deadline}",
                        emp.name
                    ),
                    Some(deadline),
                ),
            }
        }
    }
    let n = handlers.len();
    if missing > 0 {
        (
            ComplianceStatus::NonCompliant,
            format!("{missing} of {n} food employees lack a valid food handler card"),
        )
    } else if pending + expiring > 0 {
        (
            ComplianceStatus::AtRisk,
            format!(
                "{expiring} food handler cards expire within {WARNING_DAYS} days and {pending} new hires are still in their grace period"
            ),
        )
    } else {
        (
            ComplianceStatus::Compliant,
            format!("all {n} food employees hold a valid food handler card"),
        )
    }
}

fn manager(
    facts: &LocationFacts,
    req: Uuid,
    kind: CredentialKind,
    min: u32,
    acc: &mut Acc,
) -> (ComplianceStatus, String) {
    let today = facts.today;
    for c in facts
        .employees
        .iter()
        .flat_map(|e| &e.credentials)
        .filter(|c| c.kind == kind && c.issued_on > today)
    {
        acc.review_at(c.issued_on);
    }
    let mut certs: Vec<(&EmployeeFacts, &CredentialFacts)> = facts
        .employees
        .iter()
        .filter_map(|e| {
            e.credentials
                .iter()
                .filter(|c| c.kind == kind && valid_on(c.issued_on, c.expires_on, today))
                .max_by_key(|c| c.expires_on)
                .map(|c| (e, c))
        })
        .collect();
    certs.sort_by_key(|(_, c)| c.expires_on);
    for (_, c) in &certs {
        acc.expiry(c.expires_on);
    }
    let min = min as usize;
    if certs.len() < min {
        acc.alert(
            req,
            AlertKind::ManagerMissing,
            AlertSeverity::Critical,
            Subject::Location(facts.location_id),
            if certs.is_empty() {
                "no certified food protection manager on staff".to_owned()
            } else {
                format!(
                    "{} of {min} required certified food protection managers on staff",
                    certs.len()
                )
            },
            None,
        );
        return (
            ComplianceStatus::NonCompliant,
            format!(
                "{} of {min} required certified food protection managers on staff",
                certs.len()
            ),
        );
    }
    let lasting = certs
        .iter()
        .filter(|(_, c)| !acc.expiring_soon(c.expires_on))
        .count();
    if lasting < min {
        let (emp, cert) = certs[0];
        acc.alert(
            req,
            AlertKind::ManagerExpiring,
            AlertSeverity::Warning,
            Subject::Credential(cert.id),
            format!(
                "{}'s manager certification expires on {}",
                emp.name, cert.expires_on
            ),
            Some(cert.expires_on),
        );
        return (
            ComplianceStatus::AtRisk,
            format!("manager certification expires on {}", cert.expires_on),
        );
    }
    (
        ComplianceStatus::Compliant,
        format!(
            "{} certified food protection managers on staff",
            certs.len()
        ),
    )
}

fn permit(
    facts: &LocationFacts,
    req: Uuid,
    kind: PermitKind,
    acc: &mut Acc,
) -> (ComplianceStatus, String) {
    let today = facts.today;
    let of_kind = facts.permits.iter().filter(|p| p.kind == kind);
    // a permit issued for a later day (a renewal) changes the answer then
    for p in of_kind.clone().filter(|p| p.issued_on > today) {
        acc.review_at(p.issued_on);
    }
    let current = of_kind
        .clone()
        .filter(|p| valid_on(p.issued_on, p.expires_on, today))
        .max_by_key(|p| p.expires_on);
    if let Some(p) = current {
        acc.expiry(p.expires_on);
        if acc.expiring_soon(p.expires_on) {
            acc.alert(
                req,
                AlertKind::PermitExpiring,
                AlertSeverity::Warning,
                Subject::Permit(p.id),
                format!("permit {} expires on {}", p.number, p.expires_on),
                Some(p.expires_on),
            );
            return (
                ComplianceStatus::AtRisk,
                format!("permit {} expires on {}", p.number, p.expires_on),
            );
        }
        return (
            ComplianceStatus::Compliant,
            format!("permit {} is valid until {}", p.number, p.expires_on),
        );
    }
    match of_kind
        .filter(|p| p.expires_on <= today)
        .max_by_key(|p| p.expires_on)
    {
        Some(p) => {
            acc.alert(
                req,
                AlertKind::PermitLapsed,
                AlertSeverity::Critical,
                Subject::Permit(p.id),
                format!("permit {} lapsed on {}", p.number, p.expires_on),
                Some(p.expires_on),
            );
            (
                ComplianceStatus::NonCompliant,
                format!("permit {} lapsed on {}", p.number, p.expires_on),
            )
        }
        None => {
            acc.alert(
                req,
                AlertKind::PermitMissing,
                AlertSeverity::Critical,
                Subject::Location(facts.location_id),
                format!("no {} permit on file", kind.as_db().replace('_', " ")),
                None,
            );
            (
                ComplianceStatus::NonCompliant,
                format!("no {} permit on file", kind.as_db().replace('_', " ")),
            )
        }
    }
}

fn inspection(
    facts: &LocationFacts,
    req: Uuid,
    interval_days: u32,
    acc: &mut Acc,
) -> (ComplianceStatus, String) {
    let today = facts.today;
    let mut status = ComplianceStatus::Compliant;
    let mut reason = String::new();
    let mut worsen = |s: ComplianceStatus, r: String| {
        if s > status {
            status = s;
            reason = r;
        }
    };
    for f in &facts.open_findings {
        let due = f.due_on.unwrap_or(f.inspected_on);
        if due < today {
            let (s, sev) = if f.critical {
                (ComplianceStatus::NonCompliant, AlertSeverity::Critical)
            } else {
                (ComplianceStatus::AtRisk, AlertSeverity::Warning)
            };
            let what = if f.critical {
                "critical finding"
            } else {
                "finding"
            };
            acc.alert(
                req,
                AlertKind::FindingOverdue,
                sev,
                Subject::Finding(f.id),
                format!("{what} {} was due for correction on {due}", f.code),
                Some(due),
            );
            worsen(
                s,
                format!("{what} {} is past its correction date {due}", f.code),
            );
        } else {
            acc.review_at(due.checked_add_days(Days::new(1)).unwrap_or(due));
            let sev = if f.critical {
                AlertSeverity::Warning
            } else {
                AlertSeverity::Info
            };
            acc.alert(
                req,
                AlertKind::FindingOpen,
                sev,
                Subject::Finding(f.id),
                format!("finding {} must be corrected by {due}", f.code),
                Some(due),
            );
            worsen(
                ComplianceStatus::AtRisk,
                format!("finding {} must be corrected by {due}", f.code),
            );
        }
    }
    let interval = Days::new(u64::from(interval_days));
    match facts.last_routine_inspection {
        Some(last) => {
            let due = last.checked_add_days(interval).unwrap_or(last);
            if today > due {
                acc.alert(
                    req,
                    AlertKind::InspectionOverdue,
                    AlertSeverity::Warning,
                    Subject::Location(facts.location_id),
                    format!("no routine inspection since {last}"),
                    Some(due),
                );
                worsen(
                    ComplianceStatus::AtRisk,
                    format!("no routine inspection since {last}"),
                );
            } else {
                acc.review_at(due.checked_add_days(Days::new(1)).unwrap_or(due));
            }
        }
        None => {
            acc.alert(
                req,
                AlertKind::InspectionOverdue,
                AlertSeverity::Warning,
                Subject::Location(facts.location_id),
                "no routine inspection on file".to_owned(),
                None,
            );
            worsen(
                ComplianceStatus::AtRisk,
                "no routine inspection on file".to_owned(),
            );
        }
    }
    if status == ComplianceStatus::Compliant {
        reason = "inspections are current and all findings are corrected".to_owned();
    }
    (status, reason)
}
