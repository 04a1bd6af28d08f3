//! The built-in vocabulary of the seed: names, job titles, credential
//! issuers and inspection findings. Plain data, kept apart so the
//! generators read as logic only.

pub(crate) const FIRST_NAMES: [&str; 48] = [
    "Maria",
    "José",
    "Aaliyah",
    "James",
    "Sofia",
    "Luis",
    "Emily",
    "DeShawn",
    "Mei",
    "Carlos",
    "Hannah",
    "Andre",
    "Priya",
    "Miguel",
    "Olivia",
    "Tyrone",
    "Guadalupe",
    "Kevin",
    "Fatima",
    "Daniel",
    "Jasmine",
    "Hiroshi",
    "Ashley",
    "Juan",
    "Brianna",
    "Nguyen",
    "Rosa",
    "Marcus",
    "Ana",
    "Ethan",
    "Keisha",
    "Diego",
    "Grace",
    "Omar",
    "Isabella",
    "Tony",
    "Lakshmi",
    "Brandon",
    "Yesenia",
    "Samuel",
    "Chloe",
    "Rafael",
    "Imani",
    "Wei",
    "Natalie",
    "Jorge",
    "Destiny",
    "Ryan",
];

pub(crate) const LAST_NAMES: [&str; 48] = [
    "Garcia",
    "Johnson",
    "Nguyen",
    "Smith",
    "Hernandez",
    "Williams",
    "Martinez",
    "Brown",
    "Lopez",
    "Kim",
    "Rodriguez",
    "Jones",
    "Patel",
    "Davis",
    "Gonzalez",
    "Chen",
    "Wilson",
    "Perez",
    "Jackson",
    "Sanchez",
    "Tran",
    "Thompson",
    "Ramirez",
    "Washington",
    "Flores",
    "Lee",
    "Rivera",
    "Okafor",
    "Torres",
    "Harris",
    "Cruz",
    "Singh",
    "Morales",
    "Robinson",
    "Reyes",
    "Walker",
    "Ortiz",
    "Young",
    "Gutierrez",
    "Murphy",
    "Castillo",
    "Wright",
    "Alvarez",
    "Park",
    "Mendoza",
    "Scott",
    "Romero",
    "Ali",
];

pub(crate) const GENERAL_MANAGER: &str = "General Manager";
pub(crate) const KITCHEN_MANAGER: &str = "Kitchen Manager";
pub(crate) const SHIFT_LEAD: &str = "Shift Lead";

/// The crew's job titles, whether they handle unpackaged food, and weights.
pub(crate) const CREW: [(&str, bool, u64); 8] = [
    ("Line Cook", true, 30),
    ("Prep Cook", true, 18),
    ("Server", false, 20),
    ("Dishwasher", true, 10),
    ("Cashier", false, 8),
    ("Host", false, 6),
    ("Expeditor", true, 4),
    ("Baker", true, 4),
];

/// (issuer, certificate number prefix, digits)
pub(crate) type Issuer = (&'static str, &'static str, u32);

pub(crate) const CARD_ISSUERS: [Issuer; 5] = [
    ("ServSafe", "SSFH", 8),
    ("StateFoodSafety", "SFS-", 9),
    ("eFoodHandlers", "EFH", 7),
    ("Premier Food Safety", "PFS", 8),
    ("360training Learn2Serve", "L2S-", 8),
];

pub(crate) const MANAGER_ISSUERS: [Issuer; 4] = [
    ("ServSafe", "SSM", 8),
    (
        "National Registry of Food Safety Professionals",
        "NRFSP-",
        7,
    ),
    ("Prometric", "PRM", 9),
    ("StateFoodSafety", "SFSM-", 8),
];

pub(crate) const ALLERGEN_ISSUER: Issuer = ("ServSafe Allergens", "SSA", 8);

/// An inspection finding template: FDA Food Code section, description,
/// severity, corrective action.
pub(crate) struct Violation {
    pub code: &'static str,
    pub description: &'static str,
    pub severity: &'static str,
    pub action: &'static str,
}

const fn v(
    code: &'static str,
    description: &'static str,
    severity: &'static str,
    action: &'static str,
) -> Violation {
    Violation {
        code,
        description,
        severity,
        action,
    }
}

/// Points an inspector deducts for a finding of `severity`.
pub(crate) fn deduction(severity: &str) -> u64 {
    match severity {
        "critical" => 7,
        "major" => 4,
        _ => 2,
    }
}

/// Days an operator gets to correct a finding of `severity`.
pub(crate) fn correction_days(severity: &str) -> (u64, u64) {
    match severity {
        "critical" => (7, 10),
        "major" => (14, 21),
        _ => (21, 30),
    }
}

pub(crate) const CRITICAL: [Violation; 7] = [
    v("3-501.16(A)(2)", "Time/temperature control for safety food: cold holding at 47°F in prep-line reach-in cooler", "critical", "Discard TCS food held above 41°F for over 4 hours; service the unit and log temperatures twice per shift."),
    v("3-501.16(A)(1)", "Hot holding: rice at 118°F in steam well (135°F or above required)", "critical", "Reheat to 165°F within 2 hours or discard; verify steam table settings."),
    v("2-301.14", "Handwashing not observed after handling raw chicken and before handling ready-to-eat food", "critical", "Retrain staff on handwashing; person in charge to monitor at shift change."),
    v("3-302.11", "Raw shell eggs stored above ready-to-eat produce in walk-in cooler", "critical", "Re-arrange storage by final cooking temperature; ready-to-eat food on top."),
    v("3-401.11", "Chicken breast cooked to 148°F; 165°F required", "critical", "Cook poultry to 165°F and verify with a calibrated probe thermometer."),
    v("7-201.11", "Degreaser spray bottle stored above food preparation surface", "critical", "Store chemicals below and away from food, equipment and single-service items."),
    v("3-501.17", "Ready-to-eat TCS food held over 24 hours without date marking", "critical", "Label prepared food with preparation and discard dates (7-day limit)."),
];

pub(crate) const MAJOR: [Violation; 7] = [
    v(
        "5-205.11",
        "Handwashing sink blocked by stored equipment and not accessible",
        "major",
        "Keep handwashing sinks clear and used for handwashing only.",
    ),
    v(
        "4-501.114",
        "Sanitizer in three-compartment sink below 50 ppm chlorine",
        "major",
        "Adjust sanitizer to 50–100 ppm and test with strips each batch.",
    ),
    v(
        "6-501.111",
        "Evidence of rodent droppings in dry storage area",
        "major",
        "Clean and sanitize the area; pest control service within 48 hours.",
    ),
    v(
        "3-304.14",
        "Wiping cloths not stored in sanitizer solution between uses",
        "major",
        "Keep in-use wiping cloths in sanitizer buckets at the correct concentration.",
    ),
    v(
        "4-601.11(A)",
        "Meat slicer food-contact surfaces visibly soiled after use",
        "major",
        "Clean and sanitize the slicer after each use and at least every 4 hours.",
    ),
    v(
        "3-501.15",
        "Cooling: chili cooled in 6-inch deep container, 90°F after 3 hours",
        "major",
        "Cool in shallow pans or with ice wands: 135°F to 70°F within 2 hours.",
    ),
    v(
        "2-102.12",
        "No certified food protection manager on duty during inspection",
        "major",
        "Schedule a certified manager on every shift.",
    ),
];

pub(crate) const MINOR: [Violation; 8] = [
    v(
        "6-501.12",
        "Grease accumulation on floor under fryer line",
        "minor",
        "Deep-clean under cooking equipment and add it to the nightly checklist.",
    ),
    v(
        "4-501.11",
        "Torn door gasket on walk-in cooler",
        "minor",
        "Replace the gasket.",
    ),
    v(
        "2-402.11",
        "Food employee on prep line without hair restraint",
        "minor",
        "Provide hats or hair nets; enforce at shift start.",
    ),
    v(
        "3-305.11",
        "Case of produce stored directly on walk-in floor",
        "minor",
        "Store food at least 6 inches off the floor.",
    ),
    v(
        "6-202.15",
        "Rear door not self-closing; gap at threshold",
        "minor",
        "Repair door closer and install a door sweep.",
    ),
    v(
        "4-204.112",
        "No thermometer in reach-in cooler",
        "minor",
        "Install a visible thermometer in every refrigeration unit.",
    ),
    v(
        "3-302.12",
        "Squeeze bottles of oil and sauces not labeled",
        "minor",
        "Label working containers with the food's common name.",
    ),
    v(
        "5-501.113",
        "Dumpster lid left open",
        "minor",
        "Keep receptacle lids closed; remind closing crew.",
    ),
];
