//! The seed as plain rows in memory, built before anything touches the
//! database so determinism and proportions can be tested without one.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::cities::{City, CITIES, CITY_CYCLE};
use crate::rng::Rng;
use crate::{facility, people, SeedSpec};

/// Stream labels: one per purpose, so adding draws to one stream never
/// shifts another.
pub(crate) const STREAM_ROLES: u64 = 1;
pub(crate) const STREAM_LOCATION: u64 = 2;
pub(crate) const STREAM_IDS: u64 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    pub id: Uuid,
    pub store_number: String,
    pub name: String,
    pub address_line1: String,
    pub city: &'static str,
    pub state_code: &'static str,
    pub postal_code: &'static str,
    pub jurisdiction_code: &'static str,
    pub external_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Employee {
    pub id: Uuid,
    pub location_id: Uuid,
    pub external_id: String,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub job_title: &'static str,
    pub handles_food: bool,
    pub hire_date: NaiveDate,
    pub status: &'static str,
    pub terminated_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Credential {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub kind: &'static str,
    pub issuer: &'static str,
    pub certificate_number: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Permit {
    pub id: Uuid,
    pub location_id: Uuid,
    pub kind: &'static str,
    pub permit_number: String,
    pub issuing_authority: &'static str,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Inspection {
    pub id: Uuid,
    pub location_id: Uuid,
    pub inspected_on: NaiveDate,
    pub kind: &'static str,
    pub agency: &'static str,
    pub score: i32,
    pub result: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub id: Uuid,
    pub inspection_id: Uuid,
    pub code: &'static str,
    pub description: &'static str,
    pub severity: &'static str,
    pub corrective_action: &'static str,
    pub due_on: Option<NaiveDate>,
    pub resolved_on: Option<NaiveDate>,
}

/// The problems deliberately planted at a location, so every demo shows
/// each kind of alert however the dice fall for the crew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Trouble {
    pub no_manager: bool,
    pub expired_manager: bool,
    pub lapsed_permit: bool,
    pub expiring_permit: bool,
    pub overdue_inspection: bool,
    pub overdue_critical: bool,
    pub open_finding: bool,
}

/// Everything seeded for one location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LocationPlan {
    pub location: Location,
    pub trouble: Trouble,
    pub employees: Vec<Employee>,
    pub credentials: Vec<Credential>,
    pub permits: Vec<Permit>,
    pub inspections: Vec<Inspection>,
    pub findings: Vec<Finding>,
}

/// The whole seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub locations: Vec<LocationPlan>,
}

/// Everything a location's generators share: its random streams, its city,
/// the anchor day and the trouble planted there.
pub(crate) struct Ctx<'a> {
    pub today: NaiveDate,
    pub spec: &'a SeedSpec,
    pub index: usize,
    pub city: &'static City,
    pub store_number: &'a str,
    pub trouble: Trouble,
    /// Facts: the same for every tenant.
    pub rng: Rng,
    /// Ids: salted with the tenant, so two tenants seeded alike never share
    /// a row id (an id leaking across tenants must never resolve there).
    pub ids: Rng,
}

fn city_of(index: usize) -> &'static City {
    &CITIES[CITY_CYCLE[index % CITY_CYCLE.len()]]
}

/// Builds the plan. `id_salt` varies the ids only (see [`Ctx::ids`]).
pub(crate) fn generate(spec: &SeedSpec, today: NaiveDate, id_salt: u64) -> Plan {
    let n = usize::try_from(spec.locations).unwrap_or(usize::MAX);
    let troubles = assign_trouble(spec.seed, n);
    let mut per_city = [0usize; CITIES.len()];
    let locations = troubles
        .into_iter()
        .enumerate()
        .map(|(index, trouble)| {
            let slot = CITY_CYCLE[index % CITY_CYCLE.len()];
            let nth = per_city[slot];
            per_city[slot] += 1;
            let i = index as u64;
            let store_number = format!("{:04}", index + 1);
            let mut ctx = Ctx {
                today,
                spec,
                index,
                city: city_of(index),
                store_number: &store_number,
                trouble,
                rng: Rng::derive(spec.seed, STREAM_LOCATION, i),
                ids: Rng::derive(spec.seed ^ id_salt, STREAM_IDS, i),
            };
            let location = location(&mut ctx, nth);
            let (employees, credentials) = people::crew(&mut ctx, location.id);
            let permits = facility::permits(&mut ctx, location.id);
            let (inspections, findings) = facility::inspections(&mut ctx, location.id);
            LocationPlan {
                location,
                trouble,
                employees,
                credentials,
                permits,
                inspections,
                findings,
            }
        })
        .collect();
    Plan { locations }
}

fn location(ctx: &mut Ctx<'_>, nth_in_city: usize) -> Location {
    let city = ctx.city;
    let spot = &city.spots[nth_in_city % city.spots.len()];
    let number = ctx.rng.between(100, 4899);
    Location {
        id: ctx.ids.uuid(),
        store_number: ctx.store_number.to_owned(),
        name: format!("Prep Kitchen #{} – {}", ctx.store_number, spot.name),
        address_line1: format!("{number} {}", spot.street),
        city: city.name,
        state_code: city.state,
        postal_code: spot.zip,
        jurisdiction_code: city.jurisdiction,
        external_id: format!("ERP-{}", ctx.store_number),
    }
}

/// How many locations get each planted problem: about two in the 25-store
/// demo, growing with the chain.
pub(crate) fn trouble_count(locations: usize, per: usize) -> usize {
    locations.div_ceil(per)
}

/// How many locations, whether they need a routine-inspection rule, and
/// what to plant.
type Planting = (usize, bool, fn(&mut Trouble));

/// Plants the problems at distinct, randomly chosen locations. Inspection
/// problems go only where a routine-inspection requirement applies, or they
/// would show nowhere.
fn assign_trouble(seed: u64, n: usize) -> Vec<Trouble> {
    let mut rng = Rng::derive(seed, STREAM_ROLES, 0);
    let order = rng.permutation(n);
    let mut troubles = vec![Trouble::default(); n];
    let mut taken = vec![false; n];
    let manager = trouble_count(n, 15);
    // Inspection trouble first: fewer locations qualify for it.
    let plans: [Planting; 7] = [
        (trouble_count(n, 20), true, |t| t.overdue_inspection = true),
        (trouble_count(n, 20), true, |t| t.overdue_critical = true),
        (trouble_count(n, 10), true, |t| t.open_finding = true),
        (manager.div_ceil(2), false, |t| t.no_manager = true),
        (manager / 2, false, |t| t.expired_manager = true),
        (trouble_count(n, 15), false, |t| t.lapsed_permit = true),
        (trouble_count(n, 15), false, |t| t.expiring_permit = true),
    ];
    for (count, needs_inspection_rule, set) in plans {
        let chosen: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| !taken[i] && (!needs_inspection_rule || city_of(i).inspection_rule))
            .take(count)
            .collect();
        for i in chosen {
            taken[i] = true;
            set(&mut troubles[i]);
        }
    }
    troubles
}
