//! The twelve cities the chain operates in, matching the city jurisdictions
//! of migration 0002, with the local detail that makes addresses, permits
//! and inspections look real.

/// A neighborhood a store can open in: the name suffix, a street, its ZIP.
pub(crate) struct Spot {
    pub name: &'static str,
    pub street: &'static str,
    pub zip: &'static str,
}

const fn spot(name: &'static str, street: &'static str, zip: &'static str) -> Spot {
    Spot { name, street, zip }
}

/// One of the twelve city jurisdictions of migration 0002.
pub(crate) struct City {
    pub name: &'static str,
    pub state: &'static str,
    /// `jurisdictions.code`; the id is `md5(code)::uuid`.
    pub jurisdiction: &'static str,
    /// Who issues the health permit.
    pub permit_authority: &'static str,
    pub permit_prefix: &'static str,
    /// Months a health permit runs (Chicago licenses run two years).
    pub permit_months: u32,
    /// Who inspects.
    pub agency: &'static str,
    /// Whether a routine-inspection requirement applies (migration 0002),
    /// so overdue inspections and findings are only planted where they count.
    pub inspection_rule: bool,
    pub spots: &'static [Spot],
}

/// Months a food handler card runs in a state (Texas: 2 years, others: 3).
pub(crate) fn card_months(state: &str) -> u32 {
    if state == "TX" {
        24
    } else {
        36
    }
}

/// Houston alone also requires a food dealer's permit (migration 0002).
pub(crate) const HOUSTON: &str = "US-TX-HOUSTON";
pub(crate) const HOUSTON_FOOD_DEALER_AUTHORITY: &str = "Houston Health Department";

const DBPR: &str = "Florida DBPR Division of Hotels and Restaurants";

pub(crate) const CITIES: [City; 12] = [
    City {
        name: "Los Angeles",
        state: "CA",
        jurisdiction: "US-CA-LOS-ANGELES",
        permit_authority: "Los Angeles County Department of Public Health",
        permit_prefix: "PR",
        permit_months: 12,
        agency: "Los Angeles County Department of Public Health",
        inspection_rule: true,
        spots: &[
            spot("Downtown LA", "S Broadway", "90013"),
            spot("Koreatown", "Wilshire Blvd", "90010"),
            spot("Silver Lake", "Sunset Blvd", "90026"),
            spot("Venice", "Abbot Kinney Blvd", "90291"),
            spot("Westwood", "Westwood Blvd", "90024"),
            spot("Hollywood", "N Highland Ave", "90028"),
            spot("Highland Park", "N Figueroa St", "90042"),
            spot("Arts District", "E 3rd St", "90013"),
        ],
    },
    City {
        name: "Pasadena",
        state: "CA",
        jurisdiction: "US-CA-PASADENA",
        permit_authority: "Pasadena Public Health Department",
        permit_prefix: "PAS",
        permit_months: 12,
        agency: "Pasadena Public Health Department",
        inspection_rule: true,
        spots: &[
            spot("Old Pasadena", "E Colorado Blvd", "91101"),
            spot("South Lake", "S Lake Ave", "91101"),
            spot("Playhouse District", "E Green St", "91101"),
            spot("East Pasadena", "E Foothill Blvd", "91107"),
        ],
    },
    City {
        name: "San Diego",
        state: "CA",
        jurisdiction: "US-CA-SAN-DIEGO",
        permit_authority: "San Diego County Department of Environmental Health and Quality",
        permit_prefix: "DEH",
        permit_months: 12,
        agency: "San Diego County Department of Environmental Health and Quality",
        inspection_rule: false,
        spots: &[
            spot("Gaslamp Quarter", "Fifth Ave", "92101"),
            spot("North Park", "University Ave", "92104"),
            spot("Little Italy", "India St", "92101"),
            spot("Pacific Beach", "Garnet Ave", "92109"),
            spot("Hillcrest", "Washington St", "92103"),
            spot("Mission Valley", "Camino de la Reina", "92108"),
        ],
    },
    City {
        name: "San Francisco",
        state: "CA",
        jurisdiction: "US-CA-SAN-FRANCISCO",
        permit_authority: "San Francisco Department of Public Health",
        permit_prefix: "HP",
        permit_months: 12,
        agency: "San Francisco Department of Public Health",
        inspection_rule: false,
        spots: &[
            spot("SoMa", "Folsom St", "94103"),
            spot("Mission District", "Valencia St", "94110"),
            spot("Financial District", "Sansome St", "94111"),
            spot("Hayes Valley", "Hayes St", "94102"),
            spot("Marina", "Chestnut St", "94123"),
            spot("Inner Sunset", "Irving St", "94122"),
        ],
    },
    City {
        name: "Houston",
        state: "TX",
        jurisdiction: HOUSTON,
        permit_authority: "Harris County Public Health",
        permit_prefix: "HCPH",
        permit_months: 12,
        agency: "Houston Health Department",
        inspection_rule: true,
        spots: &[
            spot("Midtown", "Main St", "77002"),
            spot("Montrose", "Westheimer Rd", "77006"),
            spot("The Heights", "W 19th St", "77008"),
            spot("Galleria", "Post Oak Blvd", "77056"),
            spot("Rice Village", "Kirby Dr", "77005"),
            spot("EaDo", "St Emanuel St", "77003"),
        ],
    },
    City {
        name: "Dallas",
        state: "TX",
        jurisdiction: "US-TX-DALLAS",
        permit_authority: "Dallas County Health and Human Services",
        permit_prefix: "DCHHS",
        permit_months: 12,
        agency: "Dallas County Health and Human Services",
        inspection_rule: false,
        spots: &[
            spot("Deep Ellum", "Elm St", "75226"),
            spot("Uptown", "McKinney Ave", "75204"),
            spot("Bishop Arts", "N Bishop Ave", "75208"),
            spot("Lower Greenville", "Greenville Ave", "75206"),
            spot("Design District", "Dragon St", "75207"),
        ],
    },
    City {
        name: "Austin",
        state: "TX",
        jurisdiction: "US-TX-AUSTIN",
        permit_authority: "Austin Public Health",
        permit_prefix: "APH",
        permit_months: 12,
        agency: "Austin Public Health",
        inspection_rule: false,
        spots: &[
            spot("South Congress", "S Congress Ave", "78704"),
            spot("East Austin", "E 6th St", "78702"),
            spot("Downtown Austin", "Congress Ave", "78701"),
            spot("Mueller", "Aldrich St", "78723"),
            spot("The Domain", "Burnet Rd", "78758"),
        ],
    },
    City {
        name: "Miami",
        state: "FL",
        jurisdiction: "US-FL-MIAMI",
        permit_authority: DBPR,
        permit_prefix: "SEA",
        permit_months: 12,
        agency: DBPR,
        inspection_rule: true,
        spots: &[
            spot("Brickell", "Brickell Ave", "33131"),
            spot("Wynwood", "NW 2nd Ave", "33127"),
            spot("Little Havana", "SW 8th St", "33135"),
            spot("Coconut Grove", "Grand Ave", "33133"),
            spot("Midtown Miami", "N Miami Ave", "33137"),
        ],
    },
    City {
        name: "Orlando",
        state: "FL",
        jurisdiction: "US-FL-ORLANDO",
        permit_authority: DBPR,
        permit_prefix: "SEA",
        permit_months: 12,
        agency: DBPR,
        inspection_rule: false,
        spots: &[
            spot("Downtown Orlando", "N Orange Ave", "32801"),
            spot("Mills 50", "N Mills Ave", "32803"),
            spot("College Park", "Edgewater Dr", "32804"),
            spot("Lake Nona", "Tavistock Lakes Blvd", "32827"),
        ],
    },
    City {
        name: "Tampa",
        state: "FL",
        jurisdiction: "US-FL-TAMPA",
        permit_authority: DBPR,
        permit_prefix: "SEA",
        permit_months: 12,
        agency: DBPR,
        inspection_rule: false,
        spots: &[
            spot("Ybor City", "E 7th Ave", "33605"),
            spot("Hyde Park", "W Swann Ave", "33606"),
            spot("Seminole Heights", "N Florida Ave", "33604"),
            spot("Channelside", "Channelside Dr", "33602"),
        ],
    },
    City {
        name: "Chicago",
        state: "IL",
        jurisdiction: "US-IL-CHICAGO",
        permit_authority: "City of Chicago Department of Business Affairs and Consumer Protection",
        permit_prefix: "BACP",
        permit_months: 24,
        agency: "Chicago Department of Public Health",
        inspection_rule: true,
        spots: &[
            spot("The Loop", "W Madison St", "60602"),
            spot("Wicker Park", "N Milwaukee Ave", "60622"),
            spot("Lincoln Park", "N Clark St", "60614"),
            spot("West Loop", "W Randolph St", "60607"),
            spot("Logan Square", "N Milwaukee Ave", "60647"),
            spot("Pilsen", "W 18th St", "60608"),
            spot("River North", "N Wells St", "60654"),
        ],
    },
    City {
        name: "Evanston",
        state: "IL",
        jurisdiction: "US-IL-EVANSTON",
        permit_authority: "City of Evanston Health and Human Services",
        permit_prefix: "EV",
        permit_months: 12,
        agency: "City of Evanston Health and Human Services",
        inspection_rule: true,
        spots: &[
            spot("Downtown Evanston", "Church St", "60201"),
            spot("Central Street", "Central St", "60201"),
            spot("Main-Dempster", "Chicago Ave", "60202"),
        ],
    },
];

/// Store `i` opens in `CITIES[CITY_CYCLE[i % 24]]`: weighted towards the
/// big metros, and the first twelve stores cover every city so even a small
/// demo shows each jurisdiction's rules.
pub(crate) const CITY_CYCLE: [usize; 24] = [
    0, 4, 10, 7, 2, 5, 3, 6, 8, 1, 9, 11, 0, 4, 10, 0, 2, 5, 3, 6, 7, 4, 10, 0,
];
