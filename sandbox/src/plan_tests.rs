//! Tests of the in-memory plan: determinism, designed proportions, and the
//! schema's constraints, checked before any database sees the rows.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};

use crate::cities::{card_months, HOUSTON};
use crate::people::{
    EXPIRED_PER_MILLE, EXPIRING_PER_MILLE, FOOD_HANDLER_CARD, FOOD_PROTECTION_MANAGER,
    MISSING_PER_MILLE,
};
use crate::plan::{generate, trouble_count, LocationPlan, Plan};
use crate::SeedSpec;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).expect("a valid date")
}

fn plus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).expect("near today")
}

fn minus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).expect("near today")
}

#[derive(Debug, Default, PartialEq, Eq)]
struct CardMix {
    handlers: usize,
    expiring: usize,
    expired: usize,
    missing: usize,
}

/// Card state of crew food handlers hired over 20 days ago (managers hold
/// manager certifications instead; new hires are in their grace period).
fn card_mix(plan: &Plan, today: NaiveDate) -> CardMix {
    let mut mix = CardMix::default();
    for lp in &plan.locations {
        for e in &lp.employees {
            if !e.handles_food
                || e.job_title == "Kitchen Manager"
                || e.hire_date >= minus(today, 20)
            {
                continue;
            }
            mix.handlers += 1;
            let cards: Vec<_> = lp
                .credentials
                .iter()
                .filter(|c| c.employee_id == e.id && c.kind == FOOD_HANDLER_CARD)
                .collect();
            match cards.as_slice() {
                [] => mix.missing += 1,
                [c] if c.expires_on <= today => mix.expired += 1,
                [c] if c.expires_on <= plus(today, 30) => mix.expiring += 1,
                [_] => {}
                more => panic!("{} cards for one employee", more.len()),
            }
        }
    }
    mix
}

fn has_valid_manager(lp: &LocationPlan, today: NaiveDate) -> bool {
    lp.credentials.iter().any(|c| {
        c.kind == FOOD_PROTECTION_MANAGER
            && c.issued_on <= today
            && today < c.expires_on
            && lp
                .employees
                .iter()
                .any(|e| e.id == c.employee_id && e.status == "active")
    })
}

#[test]
fn same_spec_same_plan() {
    let a = generate(&SeedSpec::demo(), today(), 1);
    let b = generate(&SeedSpec::demo(), today(), 1);
    assert_eq!(a, b);
    let other_seed = SeedSpec {
        seed: 43,
        ..SeedSpec::demo()
    };
    assert_ne!(a, generate(&other_seed, today(), 1));
}

#[test]
fn tenants_share_facts_but_not_ids() {
    let a = generate(&SeedSpec::demo(), today(), 1);
    let b = generate(&SeedSpec::demo(), today(), 2);
    for (x, y) in a.locations.iter().zip(&b.locations) {
        assert_ne!(x.location.id, y.location.id);
        assert_eq!(x.location.name, y.location.name);
        assert_eq!(x.employees.len(), y.employees.len());
        for (e, f) in x.employees.iter().zip(&y.employees) {
            assert_eq!(
                (e.first_name, e.hire_date, e.status),
                (f.first_name, f.hire_date, f.status)
            );
        }
        assert_eq!(x.findings.len(), y.findings.len());
    }
}

#[test]
fn the_story_is_the_same_on_any_day() {
    let spec = SeedSpec::demo();
    let later = plus(today(), 400);
    let a = generate(&spec, today(), 1);
    let b = generate(&spec, later, 1);
    assert_eq!(card_mix(&a, today()), card_mix(&b, later));
    for (x, y) in a.locations.iter().zip(&b.locations) {
        assert_eq!(x.trouble, y.trouble);
        assert_eq!(has_valid_manager(x, today()), has_valid_manager(y, later));
    }
}

#[test]
fn card_proportions_are_as_designed() {
    let today = today();
    let mix = card_mix(&generate(&SeedSpec::bench(), today, 0), today);
    assert!(mix.handlers > 4000, "{mix:?}");
    let share = |n: usize| n as f64 * 1000.0 / mix.handlers as f64;
    let near = |n: usize, per_mille: u64| (share(n) - per_mille as f64).abs() <= 12.0;
    assert!(near(mix.expiring, EXPIRING_PER_MILLE), "{mix:?}");
    assert!(near(mix.expired, EXPIRED_PER_MILLE), "{mix:?}");
    assert!(near(mix.missing, MISSING_PER_MILLE), "{mix:?}");
    // the small demo still shows each case
    let demo = card_mix(&generate(&SeedSpec::demo(), today, 0), today);
    assert!(
        demo.expiring > 0 && demo.expired > 0 && demo.missing > 0,
        "{demo:?}"
    );
}

#[test]
fn planted_trouble_is_there() {
    let today = today();
    for spec in [SeedSpec::demo(), SeedSpec::bench()] {
        let plan = generate(&spec, today, 0);
        let n = plan.locations.len();
        let count = |f: fn(&LocationPlan) -> bool| plan.locations.iter().filter(|lp| f(lp)).count();
        assert_eq!(
            count(|lp| lp.trouble.no_manager || lp.trouble.expired_manager),
            trouble_count(n, 15)
        );
        for lp in &plan.locations {
            let troubled = lp.trouble.no_manager || lp.trouble.expired_manager;
            assert_eq!(
                has_valid_manager(lp, today),
                !troubled,
                "{}",
                lp.location.name
            );
            let health = lp
                .permits
                .iter()
                .filter(|p| p.kind == "health")
                .collect::<Vec<_>>();
            assert_eq!(health.len(), 1);
            let expires = health[0].expires_on;
            assert_eq!(expires <= today, lp.trouble.lapsed_permit);
            assert_eq!(
                expires > today && expires <= plus(today, 30),
                lp.trouble.expiring_permit
            );
            let dealer = lp.permits.iter().any(|p| p.kind == "food_dealer");
            assert_eq!(dealer, lp.location.jurisdiction_code == HOUSTON);
            let last = lp
                .inspections
                .iter()
                .map(|i| i.inspected_on)
                .max()
                .expect("inspected");
            assert_eq!(last < minus(today, 365), lp.trouble.overdue_inspection);
            let overdue_critical = lp.findings.iter().any(|f| {
                f.severity == "critical"
                    && f.resolved_on.is_none()
                    && f.due_on.is_some_and(|d| d < today)
            });
            assert_eq!(
                overdue_critical, lp.trouble.overdue_critical,
                "{}",
                lp.location.name
            );
        }
        assert_eq!(count(|lp| lp.trouble.lapsed_permit), trouble_count(n, 15));
        assert_eq!(
            count(|lp| lp.trouble.overdue_inspection),
            trouble_count(n, 20)
        );
        assert_eq!(
            count(|lp| lp.trouble.overdue_critical),
            trouble_count(n, 20)
        );
        let open_not_due = |lp: &LocationPlan| {
            lp.findings
                .iter()
                .any(|f| f.resolved_on.is_none() && f.due_on.is_some_and(|d| d >= today))
        };
        for lp in plan.locations.iter().filter(|lp| lp.trouble.open_finding) {
            assert!(open_not_due(lp), "{}", lp.location.name);
        }
        assert_eq!(count(|lp| lp.trouble.open_finding), trouble_count(n, 10));
    }
}

#[test]
fn rows_satisfy_the_schema() {
    let today = today();
    let plan = generate(&SeedSpec::bench(), today, 0);
    let mut ids = HashSet::new();
    let mut unique = |id| assert!(ids.insert(id), "duplicate id {id}");
    let mut stores = HashSet::new();
    let mut externals = HashSet::new();
    let mut permit_numbers = HashSet::new();
    let mut cities = HashSet::new();
    for lp in &plan.locations {
        let l = &lp.location;
        unique(l.id);
        cities.insert(l.jurisdiction_code);
        assert!(stores.insert(l.store_number.clone()));
        assert!(l
            .name
            .starts_with(&format!("Prep Kitchen #{} – ", l.store_number)));
        assert!(l.postal_code.len() == 5 && l.postal_code.bytes().all(|b| b.is_ascii_digit()));
        for e in &lp.employees {
            unique(e.id);
            assert!(externals.insert(e.external_id.clone()));
            assert_eq!(e.status == "terminated", e.terminated_on.is_some());
            assert!(e.terminated_on.is_none_or(|t| e.hire_date < t && t < today));
            assert!(e.hire_date <= today && e.hire_date >= minus(today, 6 * 366));
        }
        for c in &lp.credentials {
            unique(c.id);
            assert!(c.expires_on > c.issued_on && c.issued_on <= today);
            let employee = lp
                .employees
                .iter()
                .find(|e| e.id == c.employee_id)
                .expect("holder");
            if c.kind == FOOD_HANDLER_CARD {
                let months = card_months(l.state_code);
                let nominal = c
                    .issued_on
                    .checked_add_months(chrono::Months::new(months))
                    .expect("near today");
                // months_before/after clamp at month ends (Feb 29)
                assert!((nominal - c.expires_on).num_days().abs() <= 3, "{c:?}");
                assert!(employee.handles_food);
            }
        }
        for p in &lp.permits {
            unique(p.id);
            assert!(p.expires_on > p.issued_on && p.issued_on <= today);
            assert!(permit_numbers.insert((p.kind, p.permit_number.clone())));
        }
        assert!((1..=3).contains(&lp.inspections.len()));
        for i in &lp.inspections {
            let n = lp
                .findings
                .iter()
                .filter(|f| f.inspection_id == i.id)
                .count();
            assert!(n <= 4, "{n} findings");
        }
        for i in &lp.inspections {
            unique(i.id);
            assert!(i.inspected_on >= minus(today, 730) && i.inspected_on < today);
            let expected = match i.score {
                85..=100 => "pass",
                75..=84 => "conditional",
                70..=74 => "fail",
                other => panic!("score {other}"),
            };
            assert_eq!(i.result, expected);
        }
        for f in &lp.findings {
            unique(f.id);
            let inspection = lp
                .inspections
                .iter()
                .find(|i| i.id == f.inspection_id)
                .expect("parent");
            let due = f.due_on.expect("due date");
            assert!(
                due > plus(inspection.inspected_on, 6) && due <= plus(inspection.inspected_on, 30)
            );
            assert!(f
                .resolved_on
                .is_none_or(|r| r > inspection.inspected_on && r <= today));
            assert!(f.code.len() <= 32);
        }
    }
    assert_eq!(cities.len(), 12);
    let demo = generate(&SeedSpec::demo(), today, 0);
    let demo_cities: HashSet<_> = demo
        .locations
        .iter()
        .map(|lp| lp.location.jurisdiction_code)
        .collect();
    assert_eq!(demo_cities.len(), 12);
    let employees: usize = plan.locations.iter().map(|lp| lp.employees.len()).sum();
    assert_eq!(employees, 10_000);
}
