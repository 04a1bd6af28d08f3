//! Unit tests of the rules engine: every rule, the overall status and
//! reason, the alerts, and the day the answer next changes (`review_on`).
//!
//! All tests evaluate on a fixed day, [`today`] = 2026-06-15, and express
//! other days relative to it with [`plus`] and [`minus`].

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::engine::*;
use crate::enums::*;

// ---------------------------------------------------------------- builders

const LOC: Uuid = Uuid::from_u128(0x10c);
const REQ_FH: Uuid = Uuid::from_u128(0xf1);
const REQ_MGR: Uuid = Uuid::from_u128(0xf2);
const REQ_PERMIT: Uuid = Uuid::from_u128(0xf3);
const REQ_INSP: Uuid = Uuid::from_u128(0xf4);

const FH_TITLE: &str = "California Food Handler Card";
const MGR_TITLE: &str = "Certified Food Protection Manager";
const PERMIT_TITLE: &str = "Public Health Permit";
const INSP_TITLE: &str = "Routine Inspection";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).expect("a valid date")
}

fn plus(days: u64) -> NaiveDate {
    today()
        .checked_add_days(Days::new(days))
        .expect("date in range")
}

fn minus(days: u64) -> NaiveDate {
    today()
        .checked_sub_days(Days::new(days))
        .expect("date in range")
}

fn food_handler_req(grace_days: u32) -> RequirementFacts {
    RequirementFacts {
        id: REQ_FH,
        title: FH_TITLE.to_owned(),
        rule: Rule::FoodHandlerCard {
            kind: CredentialKind::FoodHandlerCard,
            grace_days,
        },
    }
}

fn manager_req(min: u32) -> RequirementFacts {
    RequirementFacts {
        id: REQ_MGR,
        title: MGR_TITLE.to_owned(),
        rule: Rule::CertifiedManager {
            kind: CredentialKind::FoodProtectionManager,
            min,
        },
    }
}

fn permit_req(kind: PermitKind) -> RequirementFacts {
    RequirementFacts {
        id: REQ_PERMIT,
        title: PERMIT_TITLE.to_owned(),
        rule: Rule::Permit { kind },
    }
}

fn inspection_req(interval_days: u32) -> RequirementFacts {
    RequirementFacts {
        id: REQ_INSP,
        title: INSP_TITLE.to_owned(),
        rule: Rule::RoutineInspection { interval_days },
    }
}

/// A location with the given requirements and no other facts.
fn facts(requirements: Vec<RequirementFacts>) -> LocationFacts {
    LocationFacts {
        location_id: LOC,
        today: today(),
        requirements,
        employees: Vec::new(),
        permits: Vec::new(),
        last_routine_inspection: None,
        open_findings: Vec::new(),
    }
}

fn credential(
    n: u128,
    kind: CredentialKind,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
) -> CredentialFacts {
    CredentialFacts {
        id: id(n),
        kind,
        issued_on,
        expires_on,
    }
}

/// A food handler card issued three years before it expires.
fn fh_card(n: u128, expires_on: NaiveDate) -> CredentialFacts {
    let issued_on = expires_on
        .checked_sub_days(Days::new(3 * 365))
        .expect("date in range");
    credential(n, CredentialKind::FoodHandlerCard, issued_on, expires_on)
}

/// A food protection manager certificate issued five years before it expires.
fn fpm_cert(n: u128, expires_on: NaiveDate) -> CredentialFacts {
    let issued_on = expires_on
        .checked_sub_days(Days::new(5 * 365))
        .expect("date in range");
    credential(
        n,
        CredentialKind::FoodProtectionManager,
        issued_on,
        expires_on,
    )
}

/// A food-handling employee.
fn handler(n: u128, hire_date: NaiveDate, credentials: Vec<CredentialFacts>) -> EmployeeFacts {
    EmployeeFacts {
        id: id(n),
        name: format!("Employee {n}"),
        handles_food: true,
        hire_date,
        credentials,
    }
}

/// An employee who does not handle food.
fn office(n: u128, hire_date: NaiveDate, credentials: Vec<CredentialFacts>) -> EmployeeFacts {
    EmployeeFacts {
        handles_food: false,
        ..handler(n, hire_date, credentials)
    }
}

/// Hired long ago: the grace period is long over.
fn veteran() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 6).expect("a valid date")
}

fn permit(n: u128, kind: PermitKind, issued_on: NaiveDate, expires_on: NaiveDate) -> PermitFacts {
    PermitFacts {
        id: id(n),
        kind,
        number: format!("P-{n}"),
        issued_on,
        expires_on,
    }
}

/// An annual health permit.
fn health_permit(n: u128, expires_on: NaiveDate) -> PermitFacts {
    let issued_on = expires_on
        .checked_sub_days(Days::new(365))
        .expect("date in range");
    permit(n, PermitKind::Health, issued_on, expires_on)
}

fn finding(
    n: u128,
    critical: bool,
    inspected_on: NaiveDate,
    due_on: Option<NaiveDate>,
) -> FindingFacts {
    FindingFacts {
        id: id(n),
        code: format!("V{n}"),
        critical,
        inspected_on,
        due_on,
    }
}

// ----------------------------------------------------------------- asserts

type AlertKey = (Uuid, AlertKind, AlertSeverity, Subject, Option<NaiveDate>);

/// The comparable part of the alerts, in emission order.
fn alerts(ev: &Evaluation) -> Vec<AlertKey> {
    ev.alerts
        .iter()
        .map(|a| (a.requirement_id, a.kind, a.severity, a.subject, a.due_on))
        .collect()
}

/// The only outcome, checked to belong to `req`.
fn single(ev: &Evaluation, req: Uuid) -> &Outcome {
    assert_eq!(ev.outcomes.len(), 1, "outcomes: {:#?}", ev.outcomes);
    let o = &ev.outcomes[0];
    assert_eq!(o.requirement_id, req);
    o
}

fn statuses(ev: &Evaluation) -> Vec<(Uuid, ComplianceStatus)> {
    ev.outcomes
        .iter()
        .map(|o| (o.requirement_id, o.status))
        .collect()
}

use AlertSeverity::{Critical, Info, Warning};
use ComplianceStatus::{AtRisk, Compliant, NonCompliant};

// ------------------------------------------------------ food handler rule

#[test]
fn food_handler_valid_card_far_from_expiry_is_compliant() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(100))])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, Compliant);
    assert_eq!(
        o.reason,
        "all 1 food employees hold a valid food handler card"
    );
    assert_eq!(ev.status, Compliant);
    assert_eq!(ev.reason, "all 1 applicable requirements are met");
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    // the warning window opens 30 days before the expiry
    assert_eq!(ev.review_on, Some(plus(70)));
}

#[test]
fn food_handler_card_expiring_within_30_days_is_at_risk() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(10))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(ev.status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpiring,
            Warning,
            Subject::Credential(id(11)),
            Some(plus(10)),
        )]
    );
    assert_eq!(
        ev.alerts[0].message,
        "Employee 1's food handler card expires on 2026-06-25"
    );
    // next change: the card expires
    assert_eq!(ev.review_on, Some(plus(10)));
}

#[test]
fn food_handler_new_hire_without_card_in_grace_is_at_risk() {
    let mut f = facts(vec![food_handler_req(30)]);
    // hired 10 days ago: 20 days of grace left
    f.employees = vec![handler(1, minus(10), vec![])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Warning,
            Subject::Employee(id(1)),
            Some(plus(20)),
        )]
    );
    // the grace deadline
    assert_eq!(ev.review_on, Some(plus(20)));
}

#[test]
fn food_handler_no_card_past_grace_is_non_compliant() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, minus(45), vec![])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "1 of 1 food employees lack a valid food handler card"
    );
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(
        ev.reason,
        format!("{FH_TITLE}: 1 of 1 food employees lack a valid food handler card")
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Critical,
            Subject::Employee(id(1)),
            Some(minus(15)),
        )]
    );
    // nothing changes by itself
    assert_eq!(ev.review_on, None);
}

#[test]
fn food_handler_grace_ends_on_the_deadline_day() {
    // hired exactly 30 days ago: the deadline is today, the card is due now
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, minus(30), vec![])];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Critical,
            Subject::Employee(id(1)),
            Some(today()),
        )]
    );
    assert_eq!(ev.review_on, None);

    // hired 29 days ago: one more day of grace
    f.employees = vec![handler(1, minus(29), vec![])];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Warning,
            Subject::Employee(id(1)),
            Some(plus(1)),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn food_handler_zero_grace_requires_a_card_from_the_hire_day() {
    let mut f = facts(vec![food_handler_req(0)]);
    f.employees = vec![handler(1, today(), vec![])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Critical,
            Subject::Employee(id(1)),
            Some(today()),
        )]
    );
}

#[test]
fn food_handler_expired_card_past_grace_is_non_compliant() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, minus(5))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpired,
            Critical,
            Subject::Credential(id(11)),
            Some(minus(5)),
        )]
    );
    assert_eq!(
        ev.alerts[0].message,
        "Employee 1's food handler card expired on 2026-06-10"
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn food_handler_expired_alert_names_the_latest_expired_card() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![
            fh_card(11, minus(400)),
            fh_card(12, minus(3)),
            fh_card(13, minus(800)),
        ],
    )];

    let ev = evaluate(&f);

    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpired,
            Critical,
            Subject::Credential(id(12)),
            Some(minus(3)),
        )]
    );
}

#[test]
fn food_handler_expired_card_within_grace_is_only_at_risk() {
    // a new hire bringing a card that has just expired still has the grace period
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, minus(5), vec![fh_card(11, minus(2))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Warning,
            Subject::Employee(id(1)),
            Some(plus(25)),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(25)));
}

#[test]
fn food_handler_manager_certificate_satisfies_the_rule() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(200))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(170)));
}

#[test]
fn food_handler_expiring_manager_certificate_raises_credential_expiring() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(12))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpiring,
            Warning,
            Subject::Credential(id(11)),
            Some(plus(12)),
        )]
    );
}

#[test]
fn food_handler_other_credential_kinds_do_not_satisfy_the_rule() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![credential(
            11,
            CredentialKind::AllergenAwareness,
            minus(100),
            plus(600),
        )],
    )];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    // an unrelated credential is neither valid nor "expired": the card is missing
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Critical,
            Subject::Employee(id(1)),
            Some(NaiveDate::from_ymd_opt(2020, 2, 5).expect("a valid date")),
        )]
    );
    // the allergen certificate's expiry does not matter to this rule
    assert_eq!(ev.review_on, None);
}

#[test]
fn food_handler_ignores_employees_who_do_not_handle_food() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![
        office(1, veteran(), vec![]),
        handler(2, veteran(), vec![fh_card(21, plus(400))]),
        // would be expiring, but does not count
        office(3, veteran(), vec![fh_card(31, plus(5))]),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, Compliant);
    assert_eq!(
        o.reason,
        "all 1 food employees hold a valid food handler card"
    );
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(370)));
}

#[test]
fn food_handler_with_no_food_employees_is_compliant() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![office(1, minus(100), vec![])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, Compliant);
    assert_eq!(
        o.reason,
        "all 0 food employees hold a valid food handler card"
    );
    assert!(ev.alerts.is_empty());
    assert_eq!(ev.review_on, None);
}

#[test]
fn food_handler_card_expiring_today_is_expired() {
    // expires_on is the first day the card is no longer valid
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, today())])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpired,
            Critical,
            Subject::Credential(id(11)),
            Some(today()),
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn food_handler_card_expiring_tomorrow_is_still_valid() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(1))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(ev.alerts[0].kind, AlertKind::CredentialExpiring);
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn food_handler_card_expiring_in_30_days_is_at_risk() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(30))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialExpiring,
            Warning,
            Subject::Credential(id(11)),
            Some(plus(30)),
        )]
    );
    // the warning window opened today, so the next change is the expiry
    assert_eq!(ev.review_on, Some(plus(30)));
}

#[test]
fn food_handler_card_expiring_in_31_days_is_compliant() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(31))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    // tomorrow the warning window opens
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn food_handler_card_issued_in_the_future_is_not_valid_yet() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![credential(
            11,
            CredentialKind::FoodHandlerCard,
            plus(3),
            plus(3 + 3 * 365),
        )],
    )];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, NonCompliant);
    // not valid and not expired either: missing
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_FH,
            AlertKind::CredentialMissing,
            Critical,
            Subject::Employee(id(1)),
            Some(NaiveDate::from_ymd_opt(2020, 2, 5).expect("a valid date")),
        )]
    );
}

#[test]
fn food_handler_uses_the_longest_valid_card() {
    // a renewed card next to the old, soon-expiring one
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![
            fh_card(11, plus(5)),
            fh_card(12, plus(700)),
            fh_card(13, minus(400)),
        ],
    )];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_FH).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(670)));
}

#[test]
fn food_handler_at_risk_reason_counts_expiring_cards_and_pending_hires() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![
        handler(1, veteran(), vec![fh_card(11, plus(20))]),
        handler(2, minus(3), vec![]),
        handler(3, veteran(), vec![fh_card(31, plus(500))]),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, AtRisk);
    assert_eq!(
        o.reason,
        "1 food handler cards expire within 30 days and 1 new hires are still in their grace period"
    );
    assert_eq!(
        alerts(&ev),
        vec![
            (
                REQ_FH,
                AlertKind::CredentialExpiring,
                Warning,
                Subject::Credential(id(11)),
                Some(plus(20)),
            ),
            (
                REQ_FH,
                AlertKind::CredentialMissing,
                Warning,
                Subject::Employee(id(2)),
                Some(plus(27)),
            ),
        ]
    );
    // earliest of: card 11 expires (+20), grace of 2 ends (+27), card 31 warns (+470)
    assert_eq!(ev.review_on, Some(plus(20)));
}

#[test]
fn food_handler_one_missing_card_makes_the_rule_non_compliant() {
    let mut f = facts(vec![food_handler_req(60)]);
    f.employees = vec![
        handler(1, veteran(), vec![fh_card(11, plus(15))]),
        handler(2, minus(61), vec![]),
        handler(3, minus(10), vec![]),
        handler(4, veteran(), vec![fh_card(41, minus(1))]),
        handler(5, veteran(), vec![fh_card(51, plus(900))]),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_FH);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "2 of 5 food employees lack a valid food handler card"
    );
    // one alert per employee with a problem, in employee order
    assert_eq!(
        alerts(&ev),
        vec![
            (
                REQ_FH,
                AlertKind::CredentialExpiring,
                Warning,
                Subject::Credential(id(11)),
                Some(plus(15)),
            ),
            (
                REQ_FH,
                AlertKind::CredentialMissing,
                Critical,
                Subject::Employee(id(2)),
                Some(minus(1)),
            ),
            (
                REQ_FH,
                AlertKind::CredentialMissing,
                Warning,
                Subject::Employee(id(3)),
                Some(plus(50)),
            ),
            (
                REQ_FH,
                AlertKind::CredentialExpired,
                Critical,
                Subject::Credential(id(41)),
                Some(minus(1)),
            ),
        ]
    );
    assert_eq!(ev.review_on, Some(plus(15)));
}

// --------------------------------------------------- certified manager rule

#[test]
fn manager_missing_is_non_compliant() {
    let mut f = facts(vec![manager_req(1)]);
    // food handler cards do not make a manager
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(500))])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "0 of 1 required certified food protection managers on staff"
    );
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(ev.reason, format!("{MGR_TITLE}: {}", o.reason));
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_MGR,
            AlertKind::ManagerMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn manager_with_expired_certificate_is_missing() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, today())])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_MGR,
            AlertKind::ManagerMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn manager_with_valid_certificate_is_compliant() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(400))])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, Compliant);
    assert_eq!(o.reason, "1 certified food protection managers on staff");
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(370)));
}

#[test]
fn manager_who_does_not_handle_food_counts() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![office(1, veteran(), vec![fpm_cert(11, plus(400))])];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, Compliant);
    assert!(ev.alerts.is_empty());
}

#[test]
fn manager_expiring_within_30_days_is_at_risk() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(20))])];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "manager certification expires on 2026-07-05");
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_MGR,
            AlertKind::ManagerExpiring,
            Warning,
            Subject::Credential(id(11)),
            Some(plus(20)),
        )]
    );
    assert_eq!(
        ev.alerts[0].message,
        "Employee 1's manager certification expires on 2026-07-05"
    );
    assert_eq!(ev.review_on, Some(plus(20)));
}

#[test]
fn manager_expiring_boundaries() {
    let mut f = facts(vec![manager_req(1)]);

    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(30))])];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_MGR).status, AtRisk);
    assert_eq!(ev.review_on, Some(plus(30)));

    f.employees = vec![handler(1, veteran(), vec![fpm_cert(11, plus(31))])];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_MGR).status, Compliant);
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn manager_minimum_of_two_with_one_is_non_compliant() {
    let mut f = facts(vec![manager_req(2)]);
    f.employees = vec![
        handler(1, veteran(), vec![fpm_cert(11, plus(400))]),
        handler(2, veteran(), vec![fh_card(21, plus(400))]),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "1 of 2 required certified food protection managers on staff"
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_MGR,
            AlertKind::ManagerMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
}

#[test]
fn manager_counts_employees_not_certificates() {
    // one employee holding two certificates is still one manager
    let mut f = facts(vec![manager_req(2)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![fpm_cert(11, plus(400)), fpm_cert(12, plus(800))],
    )];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "1 of 2 required certified food protection managers on staff"
    );
}

#[test]
fn manager_minimum_of_two_met_is_compliant() {
    let mut f = facts(vec![manager_req(2)]);
    f.employees = vec![
        handler(1, veteran(), vec![fpm_cert(11, plus(400))]),
        handler(2, veteran(), vec![fpm_cert(21, plus(100))]),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_MGR);
    assert_eq!(o.status, Compliant);
    assert_eq!(o.reason, "2 certified food protection managers on staff");
    assert!(ev.alerts.is_empty());
    assert_eq!(ev.review_on, Some(plus(70)));
}

#[test]
fn manager_minimum_of_two_with_one_expiring_is_at_risk() {
    let mut f = facts(vec![manager_req(2)]);
    f.employees = vec![
        handler(1, veteran(), vec![fpm_cert(11, plus(400))]),
        handler(2, veteran(), vec![fpm_cert(21, plus(9))]),
    ];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, AtRisk);
    // the alert is about the certificate that expires first
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_MGR,
            AlertKind::ManagerExpiring,
            Warning,
            Subject::Credential(id(21)),
            Some(plus(9)),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(9)));
}

#[test]
fn manager_expiring_is_fine_when_another_one_lasts() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![
        handler(1, veteran(), vec![fpm_cert(11, plus(10))]),
        handler(2, veteran(), vec![fpm_cert(21, plus(400))]),
    ];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    // the first certificate's expiry may change the answer (reason, count)
    assert_eq!(ev.review_on, Some(plus(10)));
}

#[test]
fn manager_uses_each_employees_longest_valid_certificate() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![fpm_cert(11, plus(10)), fpm_cert(12, plus(1000))],
    )];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(970)));
}

#[test]
fn manager_minimum_of_zero_is_always_compliant() {
    let f = facts(vec![manager_req(0)]);

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_MGR).status, Compliant);
    assert!(ev.alerts.is_empty());
}

// -------------------------------------------------------------- permit rule

#[test]
fn permit_valid_is_compliant() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![health_permit(7, plus(200))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_PERMIT);
    assert_eq!(o.status, Compliant);
    assert_eq!(o.reason, "permit P-7 is valid until 2027-01-01");
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(170)));
}

#[test]
fn permit_expiring_within_30_days_is_at_risk() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![health_permit(7, plus(25))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_PERMIT);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "permit P-7 expires on 2026-07-10");
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitExpiring,
            Warning,
            Subject::Permit(id(7)),
            Some(plus(25)),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(25)));
}

#[test]
fn permit_expiring_boundaries() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);

    f.permits = vec![health_permit(7, plus(30))];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_PERMIT).status, AtRisk);
    assert_eq!(ev.review_on, Some(plus(30)));

    f.permits = vec![health_permit(7, plus(31))];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_PERMIT).status, Compliant);
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn permit_lapsed_is_non_compliant() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![health_permit(7, minus(4))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_PERMIT);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(o.reason, "permit P-7 lapsed on 2026-06-11");
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitLapsed,
            Critical,
            Subject::Permit(id(7)),
            Some(minus(4)),
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn permit_expiring_today_has_lapsed() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![health_permit(7, today())];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_PERMIT).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitLapsed,
            Critical,
            Subject::Permit(id(7)),
            Some(today()),
        )]
    );
}

#[test]
fn permit_lapsed_alert_names_the_latest_lapsed_permit() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![
        health_permit(6, minus(370)),
        health_permit(7, minus(5)),
        health_permit(8, minus(735)),
    ];

    let ev = evaluate(&f);

    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitLapsed,
            Critical,
            Subject::Permit(id(7)),
            Some(minus(5)),
        )]
    );
}

#[test]
fn permit_missing_is_non_compliant() {
    let f = facts(vec![permit_req(PermitKind::Health)]);

    let ev = evaluate(&f);

    let o = single(&ev, REQ_PERMIT);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(o.reason, "no health permit on file");
    assert_eq!(
        ev.reason,
        format!("{PERMIT_TITLE}: no health permit on file")
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn permit_of_another_kind_does_not_count() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![
        permit(7, PermitKind::Fire, minus(10), plus(355)),
        // an expired liquor license is not a lapsed health permit either
        permit(8, PermitKind::Liquor, minus(400), minus(35)),
    ];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_PERMIT).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
    // the fire permit's expiry is irrelevant
    assert_eq!(ev.review_on, None);
}

#[test]
fn permit_uses_the_longest_valid_permit() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![
        permit(6, PermitKind::Health, minus(350), plus(15)),
        permit(7, PermitKind::Health, minus(2), plus(363)),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_PERMIT);
    assert_eq!(o.status, Compliant);
    assert_eq!(o.reason, "permit P-7 is valid until 2027-06-13");
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(333)));
}

#[test]
fn permit_issued_for_a_future_day_is_not_valid_yet() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![permit(7, PermitKind::Health, plus(5), plus(370))];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_PERMIT).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitMissing,
            Critical,
            Subject::Location(LOC),
            None,
        )]
    );
    // it becomes valid then
    assert_eq!(ev.review_on, Some(plus(5)));
}

#[test]
fn permit_future_renewal_after_a_lapse() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![
        permit(6, PermitKind::Health, minus(370), minus(5)),
        permit(7, PermitKind::Health, plus(9), plus(374)),
        permit(8, PermitKind::Health, plus(4), plus(369)),
    ];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_PERMIT).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_PERMIT,
            AlertKind::PermitLapsed,
            Critical,
            Subject::Permit(id(6)),
            Some(minus(5)),
        )]
    );
    // the earliest of the future permits
    assert_eq!(ev.review_on, Some(plus(4)));
}

#[test]
fn permit_future_issue_day_does_not_override_an_earlier_review() {
    let mut f = facts(vec![food_handler_req(30), permit_req(PermitKind::Health)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(2))])];
    f.permits = vec![permit(7, PermitKind::Health, plus(5), plus(370))];

    let ev = evaluate(&f);

    assert_eq!(
        statuses(&ev),
        vec![(REQ_FH, AtRisk), (REQ_PERMIT, NonCompliant)]
    );
    assert_eq!(ev.review_on, Some(plus(2)));
}

// ---------------------------------------------------- routine inspection rule

#[test]
fn inspection_recent_without_findings_is_compliant() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(100));

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, Compliant);
    assert_eq!(
        o.reason,
        "inspections are current and all findings are corrected"
    );
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    // last inspection + interval + 1 is the first overdue day
    assert_eq!(ev.review_on, Some(plus(266)));
}

#[test]
fn inspection_older_than_the_interval_is_overdue() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(400));

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "no routine inspection since 2025-05-11");
    assert_eq!(ev.status, AtRisk);
    assert_eq!(
        ev.reason,
        format!("{INSP_TITLE}: no routine inspection since 2025-05-11")
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::InspectionOverdue,
            Warning,
            Subject::Location(LOC),
            Some(minus(35)),
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn inspection_interval_boundaries() {
    let mut f = facts(vec![inspection_req(365)]);

    // the last day of the interval is still on time
    f.last_routine_inspection = Some(minus(365));
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_INSP).status, Compliant);
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    assert_eq!(ev.review_on, Some(plus(1)));

    // the day after it is overdue
    f.last_routine_inspection = Some(minus(366));
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_INSP).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::InspectionOverdue,
            Warning,
            Subject::Location(LOC),
            Some(minus(1)),
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn inspection_none_on_file_is_at_risk() {
    let f = facts(vec![inspection_req(365)]);

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "no routine inspection on file");
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::InspectionOverdue,
            Warning,
            Subject::Location(LOC),
            None,
        )]
    );
    assert_eq!(ev.review_on, None);
}

#[test]
fn inspection_critical_finding_past_due_is_non_compliant() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(20));
    f.open_findings = vec![finding(5, true, minus(20), Some(minus(10)))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "critical finding V5 is past its correction date 2026-06-05"
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOverdue,
            Critical,
            Subject::Finding(id(5)),
            Some(minus(10)),
        )]
    );
    // only the inspection interval remains time-driven
    assert_eq!(ev.review_on, Some(plus(346)));
}

#[test]
fn inspection_non_critical_finding_past_due_is_at_risk() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(20));
    f.open_findings = vec![finding(5, false, minus(20), Some(minus(1)))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, AtRisk);
    assert_eq!(
        o.reason,
        "finding V5 is past its correction date 2026-06-14"
    );
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOverdue,
            Warning,
            Subject::Finding(id(5)),
            Some(minus(1)),
        )]
    );
}

#[test]
fn inspection_open_finding_not_yet_due_is_at_risk() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(20));
    f.open_findings = vec![finding(5, false, minus(20), Some(plus(10)))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "finding V5 must be corrected by 2026-06-25");
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOpen,
            Info,
            Subject::Finding(id(5)),
            Some(plus(10)),
        )]
    );
    // the day after the due date it becomes overdue
    assert_eq!(ev.review_on, Some(plus(11)));
}

#[test]
fn inspection_open_critical_finding_not_yet_due_is_a_warning() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(2));
    f.open_findings = vec![finding(5, true, minus(2), Some(plus(3)))];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_INSP).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOpen,
            Warning,
            Subject::Finding(id(5)),
            Some(plus(3)),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(4)));
}

#[test]
fn inspection_finding_due_today_is_not_yet_overdue() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(7));
    f.open_findings = vec![finding(5, true, minus(7), Some(today()))];

    let ev = evaluate(&f);

    assert_eq!(single(&ev, REQ_INSP).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOpen,
            Warning,
            Subject::Finding(id(5)),
            Some(today()),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn inspection_critical_finding_without_due_date_is_due_on_the_inspection_day() {
    let mut f = facts(vec![inspection_req(365)]);

    // found yesterday: overdue today
    f.last_routine_inspection = Some(minus(1));
    f.open_findings = vec![finding(5, true, minus(1), None)];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_INSP).status, NonCompliant);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOverdue,
            Critical,
            Subject::Finding(id(5)),
            Some(minus(1)),
        )]
    );

    // found today: still open until tomorrow
    f.last_routine_inspection = Some(today());
    f.open_findings = vec![finding(5, true, today(), None)];
    let ev = evaluate(&f);
    assert_eq!(single(&ev, REQ_INSP).status, AtRisk);
    assert_eq!(
        alerts(&ev),
        vec![(
            REQ_INSP,
            AlertKind::FindingOpen,
            Warning,
            Subject::Finding(id(5)),
            Some(today()),
        )]
    );
    assert_eq!(ev.review_on, Some(plus(1)));
}

#[test]
fn inspection_worst_finding_gives_the_reason_and_every_finding_an_alert() {
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(400));
    f.open_findings = vec![
        finding(4, false, minus(30), Some(plus(6))),
        finding(5, true, minus(30), Some(minus(2))),
        finding(6, false, minus(30), Some(minus(3))),
    ];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, NonCompliant);
    assert_eq!(
        o.reason,
        "critical finding V5 is past its correction date 2026-06-13"
    );
    assert_eq!(
        alerts(&ev),
        vec![
            (
                REQ_INSP,
                AlertKind::FindingOpen,
                Info,
                Subject::Finding(id(4)),
                Some(plus(6)),
            ),
            (
                REQ_INSP,
                AlertKind::FindingOverdue,
                Critical,
                Subject::Finding(id(5)),
                Some(minus(2)),
            ),
            (
                REQ_INSP,
                AlertKind::FindingOverdue,
                Warning,
                Subject::Finding(id(6)),
                Some(minus(3)),
            ),
            (
                REQ_INSP,
                AlertKind::InspectionOverdue,
                Warning,
                Subject::Location(LOC),
                Some(minus(35)),
            ),
        ]
    );
    assert_eq!(ev.review_on, Some(plus(7)));
}

#[test]
fn inspection_first_at_risk_reason_is_kept() {
    // two at-risk causes: the first one found gives the reason
    let mut f = facts(vec![inspection_req(365)]);
    f.last_routine_inspection = Some(minus(400));
    f.open_findings = vec![finding(4, false, minus(400), Some(plus(6)))];

    let ev = evaluate(&f);

    let o = single(&ev, REQ_INSP);
    assert_eq!(o.status, AtRisk);
    assert_eq!(o.reason, "finding V4 must be corrected by 2026-06-21");
}

#[test]
fn inspection_review_is_the_earliest_of_findings_and_interval() {
    let mut f = facts(vec![inspection_req(90)]);
    f.last_routine_inspection = Some(minus(85));
    f.open_findings = vec![finding(4, false, minus(85), Some(plus(30)))];

    let ev = evaluate(&f);

    // interval ends at +5, overdue from +6; the finding is overdue from +31
    assert_eq!(ev.review_on, Some(plus(6)));
}

// ------------------------------------------------------------------ overall

fn everything_compliant() -> LocationFacts {
    let mut f = facts(vec![
        food_handler_req(30),
        manager_req(1),
        permit_req(PermitKind::Health),
        inspection_req(365),
    ]);
    f.employees = vec![
        handler(1, veteran(), vec![fpm_cert(11, plus(900))]),
        handler(2, veteran(), vec![fh_card(21, plus(500))]),
    ];
    f.permits = vec![health_permit(7, plus(200))];
    f.last_routine_inspection = Some(minus(100));
    f
}

#[test]
fn overall_all_compliant() {
    let f = everything_compliant();

    let ev = evaluate(&f);

    assert_eq!(ev.status, Compliant);
    assert_eq!(ev.reason, "all 4 applicable requirements are met");
    assert_eq!(
        statuses(&ev),
        vec![
            (REQ_FH, Compliant),
            (REQ_MGR, Compliant),
            (REQ_PERMIT, Compliant),
            (REQ_INSP, Compliant),
        ]
    );
    assert!(ev.alerts.is_empty(), "alerts: {:#?}", ev.alerts);
    // the permit's warning window opens first: 200 - 30
    assert_eq!(ev.review_on, Some(plus(170)));
}

#[test]
fn overall_without_requirements_is_compliant() {
    let mut f = facts(vec![]);
    f.employees = vec![handler(1, minus(100), vec![])];

    let ev = evaluate(&f);

    assert_eq!(ev.status, Compliant);
    assert_eq!(ev.reason, "all 0 applicable requirements are met");
    assert!(ev.outcomes.is_empty());
    assert!(ev.alerts.is_empty());
    assert_eq!(ev.review_on, None);
}

#[test]
fn overall_status_is_the_worst_outcome() {
    let mut f = everything_compliant();
    // at risk: a card expires soon
    f.employees[1].credentials = vec![fh_card(21, plus(10))];
    // non-compliant: the permit lapsed
    f.permits = vec![health_permit(7, minus(1))];

    let ev = evaluate(&f);

    assert_eq!(
        statuses(&ev),
        vec![
            (REQ_FH, AtRisk),
            (REQ_MGR, Compliant),
            (REQ_PERMIT, NonCompliant),
            (REQ_INSP, Compliant),
        ]
    );
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(
        ev.reason,
        "Public Health Permit: permit P-7 lapsed on 2026-06-14"
    );
    // alerts keep their requirement
    assert_eq!(
        alerts(&ev),
        vec![
            (
                REQ_FH,
                AlertKind::CredentialExpiring,
                Warning,
                Subject::Credential(id(21)),
                Some(plus(10)),
            ),
            (
                REQ_PERMIT,
                AlertKind::PermitLapsed,
                Critical,
                Subject::Permit(id(7)),
                Some(minus(1)),
            ),
        ]
    );
    assert_eq!(ev.review_on, Some(plus(10)));
}

#[test]
fn overall_at_risk_reason_is_prefixed_by_its_requirement() {
    let mut f = everything_compliant();
    f.last_routine_inspection = None;

    let ev = evaluate(&f);

    assert_eq!(ev.status, AtRisk);
    assert_eq!(
        ev.reason,
        "Routine Inspection: no routine inspection on file"
    );
    assert_eq!(ev.outcomes[3].reason, "no routine inspection on file");
}

#[test]
fn overall_outcomes_follow_requirement_input_order() {
    let mut f = everything_compliant();
    f.requirements.reverse();
    f.permits.clear();

    let ev = evaluate(&f);

    assert_eq!(
        statuses(&ev),
        vec![
            (REQ_INSP, Compliant),
            (REQ_PERMIT, NonCompliant),
            (REQ_MGR, Compliant),
            (REQ_FH, Compliant),
        ]
    );
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(ev.reason, "Public Health Permit: no health permit on file");
}

// --------------------------------------------------------------- review_on

#[test]
fn review_on_is_the_earliest_change_across_requirements() {
    let mut f = everything_compliant();
    // new hire: grace ends in 12 days
    f.employees.push(handler(3, minus(18), vec![]));
    // finding due in 40 days
    f.open_findings = vec![finding(4, false, minus(100), Some(plus(40)))];

    let ev = evaluate(&f);

    assert_eq!(ev.review_on, Some(plus(12)));

    // without the new hire, the finding turning overdue (+41) comes first,
    // before the permit's warning window (+170)
    f.employees.pop();
    let ev = evaluate(&f);
    assert_eq!(ev.review_on, Some(plus(41)));
}

#[test]
fn review_on_is_never_today_or_in_the_past() {
    let mut f = facts(vec![
        food_handler_req(30),
        permit_req(PermitKind::Health),
        inspection_req(365),
    ]);
    // warning window opens today: only the expiry counts
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(30))])];
    // already lapsed, opened its window long ago
    f.permits = vec![health_permit(7, minus(10))];
    // interval ended yesterday
    f.last_routine_inspection = Some(minus(366));
    // overdue finding
    f.open_findings = vec![finding(4, true, minus(50), Some(minus(20)))];

    let ev = evaluate(&f);

    assert_eq!(ev.review_on, Some(plus(30)));
    assert!(ev.review_on.is_some_and(|d| d > today()));
}

#[test]
fn review_on_is_none_when_nothing_changes_by_itself() {
    let mut f = facts(vec![
        food_handler_req(30),
        manager_req(1),
        permit_req(PermitKind::Health),
        inspection_req(365),
    ]);
    f.employees = vec![
        handler(1, veteran(), vec![]),
        handler(2, veteran(), vec![fh_card(21, minus(3))]),
    ];
    f.permits = vec![health_permit(7, minus(3))];
    f.open_findings = vec![finding(4, true, minus(10), None)];

    let ev = evaluate(&f);

    assert_eq!(
        statuses(&ev),
        vec![
            (REQ_FH, NonCompliant),
            (REQ_MGR, NonCompliant),
            (REQ_PERMIT, NonCompliant),
            (REQ_INSP, NonCompliant),
        ]
    );
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(ev.review_on, None);
}

#[test]
fn review_on_evaluating_on_the_review_day_changes_the_answer() {
    // a card valid for 100 more days: review in 70 days, when it turns at risk
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(1, veteran(), vec![fh_card(11, plus(100))])];
    let ev = evaluate(&f);
    assert_eq!(ev.status, Compliant);
    assert_eq!(ev.review_on, Some(plus(70)));

    f.today = plus(69);
    let ev = evaluate(&f);
    assert_eq!(ev.status, Compliant);
    assert_eq!(ev.review_on, Some(plus(70)));

    f.today = plus(70);
    let ev = evaluate(&f);
    assert_eq!(ev.status, AtRisk);
    assert_eq!(ev.review_on, Some(plus(100)));

    f.today = plus(100);
    let ev = evaluate(&f);
    assert_eq!(ev.status, NonCompliant);
    assert_eq!(ev.alerts[0].kind, AlertKind::CredentialExpired);
    assert_eq!(ev.review_on, None);
}

// ------------------------------------------------------------ engine bugs

#[test]
fn review_on_includes_a_future_food_handler_card_issue_day() {
    let mut f = facts(vec![food_handler_req(30)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![credential(
            11,
            CredentialKind::FoodHandlerCard,
            plus(3),
            plus(3 + 3 * 365),
        )],
    )];
    assert_eq!(evaluate(&f).status, NonCompliant);

    // on that day the card is valid and the answer changes
    let mut later = f.clone();
    later.today = plus(3);
    assert_eq!(evaluate(&later).status, Compliant);

    assert_eq!(evaluate(&f).review_on, Some(plus(3)));
}

#[test]
fn review_on_includes_a_future_manager_certificate_issue_day() {
    let mut f = facts(vec![manager_req(1)]);
    f.employees = vec![handler(
        1,
        veteran(),
        vec![credential(
            11,
            CredentialKind::FoodProtectionManager,
            plus(3),
            plus(3 + 5 * 365),
        )],
    )];
    assert_eq!(evaluate(&f).status, NonCompliant);

    let mut later = f.clone();
    later.today = plus(3);
    assert_eq!(evaluate(&later).status, Compliant);

    assert_eq!(evaluate(&f).review_on, Some(plus(3)));
}

#[test]
fn review_on_includes_a_renewal_starting_before_the_current_expiry() {
    let mut f = facts(vec![permit_req(PermitKind::Health)]);
    f.permits = vec![
        permit(6, PermitKind::Health, minus(349), plus(16)),
        permit(7, PermitKind::Health, plus(5), plus(370)),
    ];
    assert_eq!(evaluate(&f).status, AtRisk);

    // the renewal takes over on its issue day: compliant from then on
    let mut later = f.clone();
    later.today = plus(5);
    assert_eq!(evaluate(&later).status, Compliant);

    // but the engine only schedules the old permit's expiry (+16)
    assert_eq!(evaluate(&f).review_on, Some(plus(5)));
}

#[test]
fn alerts_are_unique_per_requirement_kind_and_subject() {
    // e.g. a Houston location: Harris County health permit + Houston food dealer's permit
    let mut f = facts(vec![
        permit_req(PermitKind::Health),
        RequirementFacts {
            id: id(0xf5),
            title: "Food Dealer's Permit".to_owned(),
            rule: Rule::Permit {
                kind: PermitKind::FoodDealer,
            },
        },
    ]);
    f.permits.clear();

    let ev = evaluate(&f);

    assert_eq!(ev.status, NonCompliant);
    // unique per (requirement, kind, subject): the store's upsert key
    let mut keys: Vec<(Uuid, AlertKind, (&str, Uuid))> = ev
        .alerts
        .iter()
        .map(|a| (a.requirement_id, a.kind, a.subject.as_db()))
        .collect();
    let all = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), all, "duplicate alerts: {:#?}", ev.alerts);
}

#[test]
fn subject_as_db_spells_the_subject_type() {
    let u = id(42);
    assert_eq!(Subject::Employee(u).as_db(), ("employee", u));
    assert_eq!(Subject::Credential(u).as_db(), ("credential", u));
    assert_eq!(Subject::Permit(u).as_db(), ("permit", u));
    assert_eq!(Subject::Finding(u).as_db(), ("finding", u));
    assert_eq!(Subject::Location(u).as_db(), ("location", u));
}
