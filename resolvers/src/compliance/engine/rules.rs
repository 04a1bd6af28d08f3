//! The four rules, each from the facts to a status and its reason, noting
//! alerts and review days on the way.

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::{Acc, CredentialFacts, EmployeeFacts, LocationFacts, Subject, WARNING_DAYS};
use crate::enums::{AlertKind, AlertSeverity, ComplianceStatus, CredentialKind, PermitKind};

fn valid_on(issued_on: NaiveDate, expires_on: NaiveDate, day: NaiveDate) -> bool {
    issued_on <= day && day < expires_on
}

pub(super) fn food_handler(
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

pub(super) fn manager(
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

pub(super) fn permit(
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

pub(super) fn inspection(
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
