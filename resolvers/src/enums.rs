//! GraphQL enums stored as constrained `text` columns.

use crate::error::ApiError;

/// Declares a GraphQL enum with its database spelling, both directions
/// checked: an unknown database value is an internal error, not a panic.
macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $db:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The value stored in the database.
            pub fn as_db(self) -> &'static str {
                match self { $($name::$variant => $db),+ }
            }

            /// Parses a stored value.
            pub fn from_db(value: &str) -> Result<Self, ApiError> {
                match value {
                    $($db => Ok($name::$variant),)+
                    other => Err(ApiError::Internal(format!(
                        concat!("unknown ", stringify!($name), " {:?} in the database"), other))),
                }
            }
        }
    };
}

db_enum!(
    /// Where a location stands against a requirement, or overall.
    ComplianceStatus {
        /// Every applicable requirement is met.
        Compliant => "compliant",
        /// Met today, but something lapses soon or is pending.
        AtRisk => "at_risk",
        /// A requirement is not met.
        NonCompliant => "non_compliant",
    }
);

db_enum!(
    /// Whether a location operates.
    LocationStatus {
        /// Operating.
        Active => "active",
        /// Closed: no longer evaluated.
        Closed => "closed",
    }
);

db_enum!(
    /// Level of a jurisdiction in the federal → city chain.
    JurisdictionLevel {
        /// Federal.
        Federal => "federal",
        /// State.
        State => "state",
        /// County.
        County => "county",
        /// City.
        City => "city",
    }
);

db_enum!(
    /// What a requirement asks for.
    RequirementKind {
        /// A personal certification.
        Credential => "credential",
        /// A permit or license for the location.
        Permit => "permit",
        /// Inspections by an agency.
        Inspection => "inspection",
        /// Training for staff.
        Training => "training",
    }
);

db_enum!(
    /// Employment status.
    EmployeeStatus {
        /// Working.
        Active => "active",
        /// On leave: still counted.
        OnLeave => "on_leave",
        /// No longer employed.
        Terminated => "terminated",
    }
);

db_enum!(
    /// Kinds of personal credentials.
    CredentialKind {
        /// Food handler card or training certificate.
        FoodHandlerCard => "food_handler_card",
        /// Certified food protection manager.
        FoodProtectionManager => "food_protection_manager",
        /// Allergen awareness training.
        AllergenAwareness => "allergen_awareness",
    }
);

db_enum!(
    /// Kinds of permits and licenses.
    PermitKind {
        /// Health permit / food service license.
        Health => "health",
        /// Food dealer's permit (some cities).
        FoodDealer => "food_dealer",
        /// Fire department permit.
        Fire => "fire",
        /// General business license.
        BusinessLicense => "business_license",
        /// Liquor license.
        Liquor => "liquor",
    }
);

db_enum!(
    /// Why an inspection took place.
    InspectionKind {
        /// Routine, unannounced.
        Routine => "routine",
        /// Follow-up of earlier findings.
        FollowUp => "follow_up",
        /// Prompted by a complaint.
        Complaint => "complaint",
        /// Before opening.
        PreOpening => "pre_opening",
    }
);

db_enum!(
    /// Outcome of an inspection.
    InspectionResult {
        /// Passed.
        Pass => "pass",
        /// Passed with conditions.
        Conditional => "conditional",
        /// Failed.
        Fail => "fail",
    }
);

db_enum!(
    /// How serious a finding is.
    FindingSeverity {
        /// Imminent health hazard.
        Critical => "critical",
        /// Must be corrected.
        Major => "major",
        /// Minor.
        Minor => "minor",
    }
);

db_enum!(
    /// How urgent an alert is.
    AlertSeverity {
        /// For information.
        Info => "info",
        /// Needs attention soon.
        Warning => "warning",
        /// Out of compliance now.
        Critical => "critical",
    }
);

db_enum!(
    /// What an alert is about.
    AlertKind {
        /// An employee lacks a required credential.
        CredentialMissing => "credential_missing",
        /// A credential expires soon.
        CredentialExpiring => "credential_expiring",
        /// A credential has expired.
        CredentialExpired => "credential_expired",
        /// No certified manager.
        ManagerMissing => "manager_missing",
        /// The certified managers' certificates expire soon.
        ManagerExpiring => "manager_expiring",
        /// No permit on file.
        PermitMissing => "permit_missing",
        /// A permit expires soon.
        PermitExpiring => "permit_expiring",
        /// A permit has lapsed.
        PermitLapsed => "permit_lapsed",
        /// No routine inspection within the interval.
        InspectionOverdue => "inspection_overdue",
        /// A finding is open.
        FindingOpen => "finding_open",
        /// A finding is past its due date.
        FindingOverdue => "finding_overdue",
    }
);

db_enum!(
    /// A role a user holds, tenant-wide or for one location.
    Role {
        /// Everything, including the tenant's ownership.
        Owner => "owner",
        /// Everything but ownership: members, roles, SSO, all data.
        Admin => "admin",
        /// Reads everything, changes compliance facts everywhere.
        ComplianceManager => "compliance_manager",
        /// Reads and changes the facts of their own locations.
        LocationManager => "location_manager",
        /// Reads everything, including the audit log; changes nothing.
        Auditor => "auditor",
        /// Reads their own locations; changes nothing.
        Staff => "staff",
    }
);

impl From<prep_auth::Role> for Role {
    fn from(role: prep_auth::Role) -> Self {
        match role {
            prep_auth::Role::Owner => Role::Owner,
            prep_auth::Role::Admin => Role::Admin,
            prep_auth::Role::ComplianceManager => Role::ComplianceManager,
            prep_auth::Role::LocationManager => Role::LocationManager,
            prep_auth::Role::Auditor => Role::Auditor,
            prep_auth::Role::Staff => Role::Staff,
        }
    }
}

impl From<Role> for prep_auth::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => prep_auth::Role::Owner,
            Role::Admin => prep_auth::Role::Admin,
            Role::ComplianceManager => prep_auth::Role::ComplianceManager,
            Role::LocationManager => prep_auth::Role::LocationManager,
            Role::Auditor => prep_auth::Role::Auditor,
            Role::Staff => prep_auth::Role::Staff,
        }
    }
}

db_enum!(
    /// How a role grant came to be.
    GrantSource {
        /// By an owner or admin, through the API.
        Manual => "manual",
        /// From the identity provider's groups at SSO sign-in.
        Sso => "sso",
        /// By SCIM provisioning.
        Scim => "scim",
        /// By an operator, with the command line.
        Operator => "operator",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_match_the_auth_crate_and_its_spelling() {
        for role in prep_auth::Role::ALL {
            let ours = Role::from(role);
            assert_eq!(ours.as_db(), role.as_str());
            assert_eq!(prep_auth::Role::from(ours), role);
            assert_eq!(Role::from_db(role.as_str()).ok(), Some(ours));
        }
    }
}
