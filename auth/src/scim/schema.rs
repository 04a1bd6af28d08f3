//! The attribute catalogue (RFC 7643 §2, §4, §7): one definition per
//! attribute that `/Schemas` publishes and that input validation, filters,
//! PATCH paths, sorting and projection all read, so they cannot disagree.

/// SCIM data types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

impl Kind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::DateTime => "dateTime",
            Kind::Reference => "reference",
            Kind::Complex => "complex",
        }
    }
}

/// Who may change an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// One attribute (or sub-attribute) definition.
#[derive(Debug)]
pub struct Attr {
    /// Canonical spelling; matching is case-insensitive.
    pub name: &'static str,
    /// Data type.
    pub kind: Kind,
    /// Multi-valued (a JSON array).
    pub multi: bool,
    /// Required on create and replace.
    pub required: bool,
    /// Whether string comparison respects case.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// `server` when unique within the tenant.
    pub unique: bool,
    /// Suggested values (`type` of e-mails and the like).
    pub canonical: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub: &'static [Attr],
    /// For references: what they point at.
    pub reference_types: &'static [&'static str],
    /// What the attribute holds.
    pub description: &'static str,
}

impl Attr {
    const fn new(name: &'static str, kind: Kind, description: &'static str) -> Attr {
        Attr {
            name,
            kind,
            multi: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            unique: false,
            canonical: &[],
            sub: &[],
            reference_types: &[],
            description,
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Attr {
        Attr::new(name, Kind::String, description)
    }
    const fn complex(name: &'static str, sub: &'static [Attr], description: &'static str) -> Attr {
        Attr {
            sub,
            ..Attr::new(name, Kind::Complex, description)
        }
    }
    const fn multi(self) -> Attr {
        Attr {
            multi: true,
            ..self
        }
    }
    const fn required(self) -> Attr {
        Attr {
            required: true,
            ..self
        }
    }
    const fn case_exact(self) -> Attr {
        Attr {
            case_exact: true,
            ..self
        }
    }
    const fn unique(self) -> Attr {
        Attr {
            unique: true,
            ..self
        }
    }
    const fn mutability(self, mutability: Mutability) -> Attr {
        Attr { mutability, ..self }
    }
    const fn returned(self, returned: Returned) -> Attr {
        Attr { returned, ..self }
    }
    const fn canonical(self, canonical: &'static [&'static str]) -> Attr {
        Attr { canonical, ..self }
    }
    const fn references(self, reference_types: &'static [&'static str]) -> Attr {
        Attr {
            reference_types,
            ..self
        }
    }

    /// The sub-attribute named `name`, case-insensitively.
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr>
    where
        Self: 'static,
    {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A schema: core or extension.
#[derive(Debug)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// Human name.
    pub name: &'static str,
    /// What it describes.
    pub description: &'static str,
    /// Its attributes.
    pub attributes: &'static [Attr],
}

impl Schema {
    /// The attribute named `name`, case-insensitively.
    pub fn attr(&'static self, name: &str) -> Option<&'static Attr> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// Users or Groups.
#[derive(Debug)]
pub struct ResourceType {
    /// `User` or `Group`.
    pub name: &'static str,
    /// `/Users` or `/Groups`.
    pub endpoint: &'static str,
    /// What it is.
    pub description: &'static str,
    /// The core schema.
    pub schema: &'static Schema,
    /// Extension schemas (never required here).
    pub extensions: &'static [&'static Schema],
}

/// An attribute path resolved against a resource type.
#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    /// The schema that defines the attribute (the core schema for the
    /// common attributes `id`, `externalId` and `meta`).
    pub schema: &'static Schema,
    /// The attribute.
    pub attr: &'static Attr,
    /// The sub-attribute, if the path named one.
    pub sub: Option<&'static Attr>,
}

impl Resolved {
    /// The innermost definition the path names.
    pub fn leaf(&self) -> &'static Attr {
        self.sub.unwrap_or(self.attr)
    }

    /// Whether the attribute lives in an extension (its JSON sits under the
    /// extension's URN key).
    pub fn in_extension(&self) -> bool {
        !self.schema.id.eq_ignore_ascii_case(USER) && !self.schema.id.eq_ignore_ascii_case(GROUP)
    }
}

impl ResourceType {
    /// Every schema URN this type's resources may carry.
    pub fn schema_ids(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.schema.id).chain(self.extensions.iter().map(|s| s.id))
    }

    /// The extension with this URN, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves `[urn:]name[.sub]` case-insensitively. `uri` names the
    /// schema; without it the core schema and the common attributes are
    /// searched. Unknown names and sub-attributes resolve to `None`.
    pub fn resolve(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> Option<Resolved> {
        let (schema, attr) = match uri {
            Some(uri) if uri.eq_ignore_ascii_case(self.schema.id) => {
                (self.schema, self.common_or_core(name)?)
            }
            Some(uri) => {
                let schema = self.extension(uri)?;
                (schema, schema.attr(name)?)
            }
            None => (self.schema, self.common_or_core(name)?),
        };
        let sub = match sub {
            Some(s) => Some(attr.sub_attr(s)?),
            None => None,
        };
        Some(Resolved { schema, attr, sub })
    }

    /// Splits a full attribute path as written in a no-path PATCH value or
    /// `attributes=`: `urn:...:User:manager.value`, `name.givenName`, `id`.
    pub fn resolve_path(&self, path: &str) -> Option<Resolved> {
        let (uri, rest) = split_urn(path, self);
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        self.resolve(uri, name, sub)
    }

    fn common_or_core(&self, name: &str) -> Option<&'static Attr> {
        COMMON
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .or_else(|| self.schema.attr(name))
    }
}

/// Splits a leading schema URN off an attribute path (`urn:a:b:User:x.y`
/// gives `(Some("urn:a:b:User"), "x.y")`). Only URNs this resource type
/// knows are split, since attribute names never contain `:`.
pub fn split_urn<'a>(path: &'a str, rt: &ResourceType) -> (Option<&'a str>, &'a str) {
    for id in rt.schema_ids() {
        if path.len() > id.len()
            && path.as_bytes()[id.len()] == b':'
            && path[..id.len()].eq_ignore_ascii_case(id)
        {
            return (Some(&path[..id.len()]), &path[id.len() + 1..]);
        }
    }
    (None, path)
}

/// Core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Prep's User extension: where the user works.
pub const PREP_USER: &str = "urn:prep:params:scim:schemas:extension:prep:2.0:User";
/// PATCH request message.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// List response message.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Search request message.
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

const RO: Mutability = Mutability::ReadOnly;

/// `id`, `externalId` and `meta`: on every resource, in no schema.
pub static COMMON: [Attr; 3] = [
    Attr::string("id", "Prep's identifier of the resource.")
        .case_exact()
        .mutability(RO)
        .returned(Returned::Always)
        .unique(),
    Attr::string(
        "externalId",
        "The provisioning client's identifier of the resource.",
    )
    .case_exact()
    .unique(),
    Attr::complex("meta", &META, "Resource metadata.").mutability(RO),
];

static META: [Attr; 5] = [
    Attr::string("resourceType", "User or Group.")
        .case_exact()
        .mutability(RO),
    Attr::new("created", Kind::DateTime, "When the resource was created.").mutability(RO),
    Attr::new("lastModified", Kind::DateTime, "When it last changed.").mutability(RO),
    Attr::new("location", Kind::Reference, "Its URI.")
        .case_exact()
        .mutability(RO)
        .references(&["uri"]),
    Attr::string("version", "Its version, as in the ETag.")
        .case_exact()
        .mutability(RO),
];

static NAME: [Attr; 6] = [
    Attr::string("formatted", "The full name, formatted for display."),
    Attr::string("familyName", "Family name."),
    Attr::string("givenName", "Given name."),
    Attr::string("middleName", "Middle name(s)."),
    Attr::string("honorificPrefix", "Title before the name, e.g. Ms."),
    Attr::string("honorificSuffix", "Suffix after the name, e.g. III."),
];

static EMAIL: [Attr; 4] = [
    Attr::string("value", "The e-mail address."),
    Attr::string("display", "A label for display."),
    Attr::string("type", "work, home or other.").canonical(&["work", "home", "other"]),
    Attr::new("primary", Kind::Boolean, "The preferred address."),
];

static PHONE: [Attr; 4] = [
    Attr::string("value", "The phone number."),
    Attr::string("display", "A label for display."),
    Attr::string("type", "work, home, mobile, fax, pager or other.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    Attr::new("primary", Kind::Boolean, "The preferred number."),
];

static ADDRESS: [Attr; 8] = [
    Attr::string("formatted", "The full address, formatted for display."),
    Attr::string("streetAddress", "Street and number."),
    Attr::string("locality", "City."),
    Attr::string("region", "State or region."),
    Attr::string("postalCode", "Postal code."),
    Attr::string("country", "ISO 3166-1 alpha-2 country code."),
    Attr::string("type", "work, home or other.").canonical(&["work", "home", "other"]),
    Attr::new("primary", Kind::Boolean, "The preferred address."),
];

static USER_GROUP: [Attr; 4] = [
    Attr::string("value", "The group's id.")
        .case_exact()
        .mutability(RO),
    Attr::new("$ref", Kind::Reference, "The group's URI.")
        .case_exact()
        .mutability(RO)
        .references(&["Group"]),
    Attr::string("display", "The group's name.").mutability(RO),
    Attr::string("type", "direct.").mutability(RO),
];

/// The core User schema as Prep serves it.
pub static USER_SCHEMA: Schema = Schema {
    id: USER,
    name: "User",
    description: "A person who signs in to Prep.",
    attributes: &[
        Attr::string(
            "userName",
            "The IdP's login name; unique in the tenant, any case.",
        )
        .required()
        .unique(),
        Attr::complex("name", &NAME, "The user's name."),
        Attr::string("displayName", "The name to display."),
        Attr::string("nickName", "Casual name."),
        Attr::new("profileUrl", Kind::Reference, "A profile page.")
            .case_exact()
            .references(&["external"]),
        Attr::string("title", "Job title, e.g. Kitchen Manager."),
        Attr::string(
            "userType",
            "Relationship to the organisation, e.g. Employee.",
        ),
        Attr::string("preferredLanguage", "Preferred language (RFC 7231)."),
        Attr::string("locale", "Locale for formatting, e.g. en-US."),
        Attr::string("timezone", "IANA time zone, e.g. America/Chicago."),
        Attr::new("active", Kind::Boolean, "Whether the user may sign in."),
        Attr::string(
            "password",
            "Accepted and discarded: Prep signs people in by SSO.",
        )
        .case_exact()
        .mutability(Mutability::WriteOnly)
        .returned(Returned::Never),
        Attr::complex("emails", &EMAIL, "E-mail addresses.").multi(),
        Attr::complex("phoneNumbers", &PHONE, "Phone numbers.").multi(),
        Attr::complex("addresses", &ADDRESS, "Postal addresses.").multi(),
        Attr::complex("groups", &USER_GROUP, "Groups the user belongs to.")
            .multi()
            .mutability(RO),
    ],
};

static MANAGER: [Attr; 3] = [
    Attr::string("value", "The manager's id.").case_exact(),
    Attr::new("$ref", Kind::Reference, "The manager's URI.")
        .case_exact()
        .references(&["User"]),
    Attr::string("displayName", "The manager's name.").mutability(RO),
];

/// The enterprise User extension (RFC 7643 §4.3).
pub static ENTERPRISE_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise attributes of a user.",
    attributes: &[
        Attr::string("employeeNumber", "Employee number."),
        Attr::string("costCenter", "Cost center."),
        Attr::string("organization", "Organisation."),
        Attr::string("division", "Division."),
        Attr::string("department", "Department."),
        Attr::complex("manager", &MANAGER, "The user's manager."),
    ],
};

/// Prep's extension: the locations (store numbers) the user works at. A
/// role granted "at assigned locations" applies at exactly these.
pub static PREP_SCHEMA: Schema = Schema {
    id: PREP_USER,
    name: "PrepUser",
    description: "Where the user works in Prep.",
    attributes: &[Attr::string(
        "locations",
        "Store numbers of the locations the user is assigned to.",
    )
    .multi()
    .case_exact()],
};

static MEMBER: [Attr; 4] = [
    Attr::string("value", "The member's id.")
        .case_exact()
        .mutability(Mutability::Immutable),
    Attr::new("$ref", Kind::Reference, "The member's URI.")
        .case_exact()
        .mutability(Mutability::Immutable)
        .references(&["User"]),
    Attr::string("display", "The member's name.").mutability(RO),
    Attr::string("type", "User.")
        .mutability(Mutability::Immutable)
        .canonical(&["User"]),
];

/// The core Group schema.
pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP,
    name: "Group",
    description: "A group of users; its roles reach every member.",
    attributes: &[
        Attr::string(
            "displayName",
            "The group's name; unique in the tenant, any case.",
        )
        .required()
        .unique(),
        Attr::complex("members", &MEMBER, "The group's members (users).").multi(),
    ],
};

/// `/Users`.
pub static USERS: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "People who sign in to Prep.",
    schema: &USER_SCHEMA,
    extensions: &[&ENTERPRISE_SCHEMA, &PREP_SCHEMA],
};

/// `/Groups`.
pub static GROUPS: ResourceType = ResourceType {
    name: "Group",
    endpoint: "/Groups",
    description: "Groups of users.",
    schema: &GROUP_SCHEMA,
    extensions: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_case_insensitively_with_and_without_urns() {
        let r = USERS.resolve_path("NAME.givenname").expect("resolves");
        assert_eq!((r.attr.name, r.leaf().name), ("name", "givenName"));
        let r = USERS
            .resolve_path(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            )
            .expect("resolves");
        assert!(r.in_extension());
        assert_eq!(r.leaf().name, "value");
        let r = USERS
            .resolve_path("urn:ietf:params:scim:schemas:core:2.0:User:userName")
            .expect("resolves");
        assert_eq!(r.attr.name, "userName");
        assert_eq!(
            USERS
                .resolve_path("meta.lastModified")
                .map(|r| r.leaf().name),
            Some("lastModified")
        );
        assert!(USERS.resolve_path("shoeSize").is_none());
        assert!(USERS.resolve_path("name.nickname").is_none());
        assert!(GROUPS.resolve_path("userName").is_none());
    }
}
