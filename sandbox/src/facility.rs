//! A location's permits, inspections and findings.

use chrono::{Datelike as _, NaiveDate};
use uuid::Uuid;

use crate::catalog::{correction_days, deduction, Violation, CRITICAL, MAJOR, MINOR};
use crate::cities::{HOUSTON, HOUSTON_FOOD_DEALER_AUTHORITY};
use crate::plan::{Ctx, Finding, Inspection, Permit};
use crate::rng::{days_after, days_before, days_between, months_after, months_before};

/// Inspections reach back this far.
pub(crate) const HISTORY_DAYS: u64 = 730;

/// The health permit, plus Houston's food dealer's permit.
pub(crate) fn permits(ctx: &mut Ctx<'_>, location_id: Uuid) -> Vec<Permit> {
    let today = ctx.today;
    let city = ctx.city;
    let months = city.permit_months;
    let expires = if ctx.trouble.lapsed_permit {
        Some(days_before(today, ctx.rng.between(3, 60)))
    } else if ctx.trouble.expiring_permit {
        Some(days_after(today, ctx.rng.between(1, 30)))
    } else {
        None
    };
    let issued = match expires {
        Some(expires) => months_before(expires, months),
        None => current_issue(ctx, months),
    };
    let mut out = vec![permit(
        ctx,
        location_id,
        "health",
        city.permit_prefix,
        city.permit_authority,
        issued,
        months,
    )];
    if city.jurisdiction == HOUSTON {
        let issued = current_issue(ctx, 12);
        out.push(permit(
            ctx,
            location_id,
            "food_dealer",
            "FD",
            HOUSTON_FOOD_DEALER_AUTHORITY,
            issued,
            12,
        ));
    }
    out
}

/// An issue day that leaves the permit valid beyond the warning window.
fn current_issue(ctx: &mut Ctx<'_>, months: u32) -> NaiveDate {
    days_before(ctx.today, ctx.rng.between(0, u64::from(months) * 30 - 40))
}

fn permit(
    ctx: &mut Ctx<'_>,
    location_id: Uuid,
    kind: &'static str,
    prefix: &str,
    authority: &'static str,
    issued_on: NaiveDate,
    months: u32,
) -> Permit {
    // The store number makes the number unique per kind within the tenant.
    let permit_number = format!(
        "{prefix}{:02}-{}-{}",
        issued_on.year().rem_euclid(100),
        ctx.store_number,
        ctx.rng.between(100, 999)
    );
    Permit {
        id: ctx.ids.uuid(),
        location_id,
        kind,
        permit_number,
        issuing_authority: authority,
        issued_on,
        expires_on: months_after(issued_on, months),
    }
}

/// One to three routine inspections over the past two years, oldest first,
/// with their findings.
pub(crate) fn inspections(ctx: &mut Ctx<'_>, location_id: Uuid) -> (Vec<Inspection>, Vec<Finding>) {
    let trouble = ctx.trouble;
    let count = 1 + ctx.rng.weighted(&[25, 45, 30]);
    let last = if trouble.overdue_inspection {
        ctx.rng.between(380, 520)
    } else if trouble.overdue_critical {
        ctx.rng.between(25, 80)
    } else if trouble.open_finding {
        ctx.rng.between(5, 20)
    } else {
        ctx.rng.between(7, 340)
    };
    let mut ages = vec![last];
    while ages.len() < count {
        let earlier = ages[ages.len() - 1] + ctx.rng.between(120, 260);
        if earlier > HISTORY_DAYS {
            break;
        }
        ages.push(earlier);
    }
    let mut inspections = Vec::with_capacity(ages.len());
    let mut findings = Vec::new();
    let newest = ages.len() - 1;
    for (i, age) in ages.into_iter().rev().enumerate() {
        // Inspected 25+ days ago, a critical finding (due within 10 days)
        // is overdue; inspected at most 20 days ago, a minor one (due in
        // 21+ days) is still open.
        let planted: Option<&'static [Violation]> = match i == newest {
            true if trouble.overdue_critical => Some(&CRITICAL),
            true if trouble.open_finding => Some(&MINOR),
            _ => None,
        };
        inspection(
            ctx,
            location_id,
            age,
            planted,
            &mut inspections,
            &mut findings,
        );
    }
    (inspections, findings)
}

fn inspection(
    ctx: &mut Ctx<'_>,
    location_id: Uuid,
    age: u64,
    planted: Option<&'static [Violation]>,
    inspections: &mut Vec<Inspection>,
    findings: &mut Vec<Finding>,
) {
    let today = ctx.today;
    let inspected_on = days_before(today, age);
    let mut violations: Vec<&'static Violation> = Vec::new();
    if let Some(list) = planted {
        violations.push(ctx.rng.pick(list));
    }
    let found = ctx.rng.weighted(&[25, 30, 25, 12, 8]);
    for _ in 0..found {
        let list: &'static [Violation] = match ctx.rng.weighted(&[15, 35, 50]) {
            0 => &CRITICAL,
            1 => &MAJOR,
            _ => &MINOR,
        };
        let v = ctx.rng.pick(list);
        // At most four per inspection, each code once.
        if violations.len() < 4 && !violations.iter().any(|seen| seen.code == v.code) {
            violations.push(v);
        }
    }
    let lost: u64 = violations
        .iter()
        .map(|v| deduction(v.severity))
        .sum::<u64>()
        + ctx.rng.between(0, 4);
    let score = 100u64.saturating_sub(lost).max(70);
    let result = match score {
        85.. => "pass",
        75..=84 => "conditional",
        _ => "fail",
    };
    let inspection_id = ctx.ids.uuid();
    inspections.push(Inspection {
        id: inspection_id,
        location_id,
        inspected_on,
        kind: "routine",
        agency: ctx.city.agency,
        score: i32::try_from(score).unwrap_or(100),
        result,
    });
    for (n, v) in violations.into_iter().enumerate() {
        let (lo, hi) = correction_days(v.severity);
        let allowed = ctx.rng.between(lo, hi);
        let due_on = days_after(inspected_on, allowed);
        let resolved_on = if planted.is_some() && n == 0 {
            // The planted one stays open.
            None
        } else if due_on < today {
            Some(days_after(inspected_on, ctx.rng.between(1, allowed)))
        } else {
            // Not yet due: some already fixed, the rest open.
            let so_far = days_between(inspected_on, today);
            (so_far >= 1 && ctx.rng.chance(400))
                .then(|| days_after(inspected_on, ctx.rng.between(1, so_far.min(allowed))))
        };
        findings.push(Finding {
            id: ctx.ids.uuid(),
            inspection_id,
            code: v.code,
            description: v.description,
            severity: v.severity,
            corrective_action: v.action,
            due_on: Some(due_on),
            resolved_on,
        });
    }
}
