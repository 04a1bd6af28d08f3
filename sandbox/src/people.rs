//! A location's crew and their credentials.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::catalog::{
    Issuer, ALLERGEN_ISSUER, CARD_ISSUERS, CREW, FIRST_NAMES, GENERAL_MANAGER, KITCHEN_MANAGER,
    LAST_NAMES, MANAGER_ISSUERS, SHIFT_LEAD,
};
use crate::cities::card_months;
use crate::plan::{Credential, Ctx, Employee};
use crate::rng::{days_after, days_before, days_between, months_after, months_before};

pub(crate) const FOOD_HANDLER_CARD: &str = "food_handler_card";
pub(crate) const FOOD_PROTECTION_MANAGER: &str = "food_protection_manager";
const ALLERGEN_AWARENESS: &str = "allergen_awareness";
const MANAGER_MONTHS: u32 = 60;

/// Shares of food handlers (hired over 20 days ago) whose card is expiring
/// within 30 days, already expired, or missing, in per mille, over the whole
/// chain. The rest hold a card valid beyond the warning window.
pub(crate) const EXPIRING_PER_MILLE: u64 = 80;
pub(crate) const EXPIRED_PER_MILLE: u64 = 40;
pub(crate) const MISSING_PER_MILLE: u64 = 20;

/// Share of all crew hired within the last 20 days (inside every grace period).
pub(crate) const RECENT_HIRE_PER_MILLE: u64 = 30;

/// How well stores keep their crew's cards current: weights of tidy,
/// average and sloppy stores, and how each multiplies the shares above (in
/// tenths; the weighted mean is 1). Real chains vary by store manager, and
/// clustering the lapses leaves most stores clean instead of sprinkling one
/// lapse on nearly every store.
const UPKEEP_WEIGHTS: [u64; 3] = [45, 40, 15];
const UPKEEP_TENTHS: [u64; 3] = [2, 10, 34];

/// Builds the crew and their credentials.
pub(crate) fn crew(ctx: &mut Ctx<'_>, location_id: Uuid) -> (Vec<Employee>, Vec<Credential>) {
    let size = usize::try_from(ctx.spec.employees_per_location).unwrap_or(usize::MAX);
    let mut employees = Vec::with_capacity(size);
    let mut credentials = Vec::new();
    let upkeep = UPKEEP_TENTHS[ctx.rng.weighted(&UPKEEP_WEIGHTS)];
    for k in 0..size {
        let employee = employee(ctx, location_id, k, size);
        credentials_for(ctx, &employee, upkeep, &mut credentials);
        employees.push(employee);
    }
    (employees, credentials)
}

fn employee(ctx: &mut Ctx<'_>, location_id: Uuid, k: usize, size: usize) -> Employee {
    let rng = &mut ctx.rng;
    let (job_title, handles_food) = match k {
        0 => (GENERAL_MANAGER, false),
        1 => (KITCHEN_MANAGER, true),
        2 => (SHIFT_LEAD, true),
        3 if size >= 16 => (SHIFT_LEAD, true),
        _ => {
            let weights: Vec<u64> = CREW.iter().map(|c| c.2).collect();
            let (title, food, _) = CREW[rng.weighted(&weights)];
            (title, food)
        }
    };
    let first_name = *rng.pick(&FIRST_NAMES);
    let last_name = *rng.pick(&LAST_NAMES);
    let manager = k < 2;
    // Managers have been around; the crew skews towards recent hires, as
    // restaurant turnover does.
    let hired_days_ago = if manager {
        rng.between(365, 6 * 365)
    } else if rng.chance(RECENT_HIRE_PER_MILLE) {
        rng.between(0, 19)
    } else {
        21 + rng.below(2170).min(rng.below(2170))
    };
    let hire_date = days_before(ctx.today, hired_days_ago);
    let (status, terminated_on) = match rng.weighted(&[900, 30, 70]) {
        _ if manager || hired_days_ago < 45 => ("active", None),
        1 => ("on_leave", None),
        2 => {
            let worked = rng.between(30, hired_days_ago - 1);
            ("terminated", Some(days_after(hire_date, worked)))
        }
        _ => ("active", None),
    };
    let number = ctx.index * size + k + 1;
    Employee {
        id: ctx.ids.uuid(),
        location_id,
        external_id: format!("HRIS-{number:06}"),
        first_name,
        last_name,
        job_title,
        handles_food,
        hire_date,
        status,
        terminated_on,
    }
}

fn credentials_for(ctx: &mut Ctx<'_>, emp: &Employee, upkeep: u64, out: &mut Vec<Credential>) {
    let today = ctx.today;
    let card = card_months(ctx.city.state);
    let trouble = ctx.trouble;
    match emp.job_title {
        KITCHEN_MANAGER if trouble.no_manager => {
            let expires = days_after(today, ctx.rng.between(31, u64::from(card) * 30 - 1));
            push(
                ctx,
                out,
                emp,
                FOOD_HANDLER_CARD,
                &CARD_ISSUERS,
                months_before(expires, card),
                expires,
            );
        }
        KITCHEN_MANAGER if trouble.expired_manager => {
            let expires = days_before(today, ctx.rng.between(5, 120));
            let issued = months_before(expires, MANAGER_MONTHS);
            push(
                ctx,
                out,
                emp,
                FOOD_PROTECTION_MANAGER,
                &MANAGER_ISSUERS,
                issued,
                expires,
            );
        }
        KITCHEN_MANAGER => manager_cert(ctx, out, emp),
        // At a troubled location the general manager holds nothing either.
        GENERAL_MANAGER
            if !trouble.no_manager && !trouble.expired_manager && ctx.rng.chance(500) =>
        {
            manager_cert(ctx, out, emp);
        }
        GENERAL_MANAGER => {}
        _ if emp.handles_food => food_handler_card(ctx, out, emp, card, upkeep),
        "Server" if ctx.rng.chance(250) => {
            let issued = days_before(today, ctx.rng.between(30, 1000));
            let expires = months_after(issued, 36);
            push(
                ctx,
                out,
                emp,
                ALLERGEN_AWARENESS,
                &[ALLERGEN_ISSUER],
                issued,
                expires,
            );
        }
        _ => {}
    }
}

/// A certification valid for at least another six months.
fn manager_cert(ctx: &mut Ctx<'_>, out: &mut Vec<Credential>, emp: &Employee) {
    let issued = days_before(ctx.today, ctx.rng.between(30, 1640));
    let expires = months_after(issued, MANAGER_MONTHS);
    push(
        ctx,
        out,
        emp,
        FOOD_PROTECTION_MANAGER,
        &MANAGER_ISSUERS,
        issued,
        expires,
    );
}

fn food_handler_card(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<Credential>,
    emp: &Employee,
    months: u32,
    upkeep: u64,
) {
    let today = ctx.today;
    let hired_days_ago = days_between(emp.hire_date, today);
    if hired_days_ago < 20 {
        // New hires are in their grace period; some got the card already.
        if ctx.rng.chance(400) {
            let issued = days_before(today, ctx.rng.below(hired_days_ago + 1));
            push(
                ctx,
                out,
                emp,
                FOOD_HANDLER_CARD,
                &CARD_ISSUERS,
                issued,
                months_after(issued, months),
            );
        }
        return;
    }
    let roll = ctx.rng.below(10_000);
    let expiring = EXPIRING_PER_MILLE * upkeep;
    let expired = expiring + EXPIRED_PER_MILLE * upkeep;
    let missing = expired + MISSING_PER_MILLE * upkeep;
    let expires = if roll < expiring {
        days_after(today, ctx.rng.between(1, 30))
    } else if roll < expired {
        days_before(today, ctx.rng.between(1, 120))
    } else if roll < missing {
        return;
    } else {
        // Stays under `months` so the card was issued before today.
        days_after(today, ctx.rng.between(31, u64::from(months) * 30 - 1))
    };
    let issued = months_before(expires, months);
    push(
        ctx,
        out,
        emp,
        FOOD_HANDLER_CARD,
        &CARD_ISSUERS,
        issued,
        expires,
    );
}

fn push(
    ctx: &mut Ctx<'_>,
    out: &mut Vec<Credential>,
    emp: &Employee,
    kind: &'static str,
    issuers: &[Issuer],
    issued_on: NaiveDate,
    expires_on: NaiveDate,
) {
    let (issuer, prefix, digits) = *ctx.rng.pick(issuers);
    let certificate_number = format!("{prefix}{}", ctx.rng.digits(digits));
    out.push(Credential {
        id: ctx.ids.uuid(),
        employee_id: emp.id,
        kind,
        issuer,
        certificate_number,
        issued_on,
        expires_on,
    });
}
