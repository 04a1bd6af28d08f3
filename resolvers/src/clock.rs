//! The day compliance is evaluated for. Dates are calendar days in UTC.

use chrono::{NaiveDate, Utc};

/// Today, in UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
