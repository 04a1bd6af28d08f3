//! Filters as SQL: each attribute path maps to a column, a jsonb path or a
//! related set, and each comparison to one predicate with bound literals.
//! Case-insensitive attributes compare `lower()` on both sides; `userName eq`
//! and `displayName eq` compare the stored case-folded column so the unique
//! index serves the look-up IdPs make before every create.

use sqlx::{Postgres, QueryBuilder};

use super::filter::{AttrRef, Expr};
use super::filter_compare::{compare, present};
use super::schema::{Attr, Kind, ResourceType, ENTERPRISE_USER, GROUP, PREP_USER, USER};
use super::{ScimError, ScimType};

pub(super) type Qb<'a> = QueryBuilder<'a, Postgres>;

/// A single value to compare.
pub(super) struct Scalar {
    pub sql: String,
    pub kind: Kind,
    pub case_exact: bool,
    /// A case-folded column equal to `lower(sql)`, for `eq`.
    pub folded: Option<&'static str>,
}

/// The elements of a multi-valued attribute: `from` is a FROM clause
/// correlated to the outer row; `column` maps a sub-attribute, named as the
/// catalogue spells it, to a scalar.
struct Elements {
    /// The catalogue attribute (none for the `schemas` pseudo-attribute).
    attr: Option<&'static Attr>,
    from: String,
    /// The condition tying the elements to the outer row ("" for jsonb
    /// arrays of the row itself).
    on: &'static str,
    column: fn(&str) -> Option<Scalar>,
}

impl Elements {
    /// One sub-attribute's scalar. Names resolve through the catalogue
    /// (case-insensitively), so only catalogue names ever reach the SQL; a
    /// multi-valued simple attribute has just `value`.
    fn sub(&self, name: &str) -> Option<Scalar> {
        let canonical = match self.attr {
            Some(a) if !a.sub.is_empty() => a.sub_attr(name)?.name,
            _ if name.eq_ignore_ascii_case("value") => "value",
            _ => return None,
        };
        (self.column)(canonical)
    }
}

enum Target {
    Scalar(Scalar),
    /// A complex single-valued attribute (present when non-empty).
    Complex(String),
    Multi(Elements, Option<String>),
    Constant(bool),
}

pub(super) fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidFilter, detail)
}

fn text(sql: impl Into<String>, case_exact: bool) -> Scalar {
    Scalar {
        sql: sql.into(),
        kind: Kind::String,
        case_exact,
        folded: None,
    }
}

pub(super) fn shown(a: &AttrRef) -> String {
    let mut s = String::new();
    if let Some(u) = &a.uri {
        s.push_str(u);
        s.push(':');
    }
    s.push_str(&a.name);
    if let Some(sub) = &a.sub {
        s.push('.');
        s.push_str(sub);
    }
    s.chars().take(120).collect()
}

fn json_elements(column: &str, alias: &str) -> String {
    format!("jsonb_array_elements({alias}.{column}) as e(v)")
}

/// Sub-attributes of e-mails, phone numbers and addresses, all held as
/// jsonb objects with canonical keys.
fn json_sub(name: &str) -> Option<Scalar> {
    if name == "primary" {
        return Some(Scalar {
            sql: "(e.v->>'primary')::boolean".into(),
            kind: Kind::Boolean,
            case_exact: false,
            folded: None,
        });
    }
    Some(text(format!("(e.v->>'{name}')"), false))
}

fn store_number(name: &str) -> Option<Scalar> {
    (name == "value").then(|| text("l.store_number", true))
}

fn user_group(name: &str) -> Option<Scalar> {
    match name {
        "value" => Some(text("m.group_id::text", true)),
        "display" => Some(text("gr.display_name", false)),
        "type" => Some(text("'direct'", true)),
        _ => None,
    }
}

fn group_member(name: &str) -> Option<Scalar> {
    match name {
        "value" => Some(text("m.user_id::text", true)),
        "display" => Some(text("nullif(mu.display_name, '')", false)),
        "type" => Some(text("'User'", true)),
        _ => None,
    }
}

/// `schemas` (RFC 7644's `schemas eq "…enterprise:2.0:User"`): the core
/// schema always, an extension when the resource carries some of it.
fn schemas(rt: &'static ResourceType) -> Target {
    let from = if rt.name == "User" {
        format!(
            "(select '{USER}' as s union all select '{ENTERPRISE_USER}' where u.enterprise <> '{{}}'::jsonb \
             union all select '{PREP_USER}' where exists (select 1 from user_locations ul \
             where ul.tenant_id = u.tenant_id and ul.user_id = u.id)) as sc"
        )
    } else {
        format!("(select '{GROUP}' as s) as sc")
    };
    Target::Multi(
        Elements {
            attr: None,
            from,
            on: "",
            column: |name| (name == "value").then(|| text("sc.s", false)),
        },
        None,
    )
}

/// What an attribute path names in SQL, for users (`u`) or groups (`g`).
fn target(rt: &'static ResourceType, a: &AttrRef) -> Result<Target, ScimError> {
    if a.uri.is_none() && a.sub.is_none() && a.name.eq_ignore_ascii_case("schemas") {
        return Ok(schemas(rt));
    }
    let resolved = rt
        .resolve(a.uri.as_deref(), &a.name, a.sub.as_deref())
        .ok_or_else(|| invalid(format!("unknown attribute '{}'", shown(a))))?;
    let (attr, sub) = (resolved.attr, resolved.sub);
    let users = rt.name == "User";
    let alias = if users { "u" } else { "g" };
    let sub_name = sub.map(|s| s.name.to_owned());
    let meta = |name: &str| -> Result<Target, ScimError> {
        match name {
            "created" | "lastModified" => Ok(Target::Scalar(Scalar {
                sql: format!(
                    "{alias}.{}",
                    if name == "created" {
                        "created_at"
                    } else {
                        "updated_at"
                    }
                ),
                kind: Kind::DateTime,
                case_exact: true,
                folded: None,
            })),
            "resourceType" => Ok(Target::Scalar(text(format!("'{}'", rt.name), true))),
            other => Err(invalid(format!("meta.{other} cannot be filtered on"))),
        }
    };
    let scalar = |s: Scalar| Ok(Target::Scalar(s));
    match (attr.name, sub.map(|s| s.name)) {
        ("id", None) => scalar(text(format!("{alias}.id::text"), true)),
        ("externalId", None) => scalar(text(format!("{alias}.external_id"), true)),
        ("meta", None) => Ok(Target::Constant(true)),
        ("meta", Some(s)) => meta(s),
        ("password", _) => Err(invalid("password cannot be filtered on")),
        ("userName", None) => scalar(Scalar {
            folded: Some("u.user_name_normalized"),
            ..text("u.user_name", false)
        }),
        ("displayName", None) if users => scalar(text("nullif(u.display_name, '')", false)),
        ("displayName", None) => scalar(Scalar {
            folded: Some("g.display_name_normalized"),
            ..text("g.display_name", false)
        }),
        ("active", None) => scalar(Scalar {
            sql: "u.active".into(),
            kind: Kind::Boolean,
            case_exact: false,
            folded: None,
        }),
        ("name", None) => Ok(Target::Complex("u.name".into())),
        ("name", Some(s)) => scalar(text(format!("(u.name->>'{s}')"), false)),
        ("emails" | "phoneNumbers" | "addresses", _) => {
            let column = match attr.name {
                "emails" => "emails",
                "phoneNumbers" => "phone_numbers",
                _ => "addresses",
            };
            Ok(Target::Multi(
                Elements {
                    attr: Some(attr),
                    from: json_elements(column, "u"),
                    on: "",
                    column: json_sub,
                },
                sub_name,
            ))
        }
        ("groups", _) => Ok(Target::Multi(
            Elements {
                attr: Some(attr),
                from: "group_members m join groups gr on gr.tenant_id = m.tenant_id and gr.id = m.group_id"
                    .into(),
                on: "m.tenant_id = u.tenant_id and m.user_id = u.id",
                column: user_group,
            },
            sub_name,
        )),
        ("members", _) => Ok(Target::Multi(
            Elements {
                attr: Some(attr),
                from: "group_members m join users mu on mu.tenant_id = m.tenant_id and mu.id = m.user_id"
                    .into(),
                on: "m.tenant_id = g.tenant_id and m.group_id = g.id",
                column: group_member,
            },
            sub_name,
        )),
        ("locations", _) if resolved.schema.id == PREP_USER => Ok(Target::Multi(
            Elements {
                attr: Some(attr),
                from: "user_locations ul join locations l on l.tenant_id = ul.tenant_id and l.id = ul.location_id"
                    .into(),
                on: "ul.tenant_id = u.tenant_id and ul.user_id = u.id",
                column: store_number,
            },
            Some("value".into()),
        )),
        ("manager", None) => Ok(Target::Complex("(u.enterprise->'manager')".into())),
        ("manager", Some("value" | "$ref")) => scalar(text(
            format!("(u.enterprise->'manager'->>'{}')", sub.map_or("value", |s| s.name)),
            true,
        )),
        ("manager", Some(other)) => Err(invalid(format!("manager.{other} cannot be filtered on"))),
        (name, None) if resolved.schema.id == ENTERPRISE_USER => {
            scalar(text(format!("(u.enterprise->>'{name}')"), false))
        }
        (name, None) if attr.kind == Kind::String || attr.kind == Kind::Reference => scalar(text(
            format!("(u.profile->>'{name}')"),
            attr.case_exact,
        )),
        _ => Err(invalid(format!("'{}' cannot be filtered on", shown(a)))),
    }
}

/// Appends `expr` as one parenthesised boolean over the resource's table.
pub(super) fn push(
    qb: &mut Qb<'_>,
    expr: &Expr,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    logic(qb, expr, &mut |qb, leaf| push_leaf(qb, leaf, rt))
}

/// `and`, `or` and `not` around leaves that `leaf` writes (an absent
/// attribute makes a comparison null, which `not` reads as false).
fn logic(
    qb: &mut Qb<'_>,
    expr: &Expr,
    leaf: &mut dyn FnMut(&mut Qb<'_>, &Expr) -> Result<(), ScimError>,
) -> Result<(), ScimError> {
    match expr {
        Expr::And(items) | Expr::Or(items) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " and "
            } else {
                " or "
            };
            qb.push("(");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    qb.push(joiner);
                }
                logic(qb, item, leaf)?;
            }
            qb.push(")");
            Ok(())
        }
        Expr::Not(inner) => {
            qb.push("(not coalesce(");
            logic(qb, inner, leaf)?;
            qb.push(", false))");
            Ok(())
        }
        other => leaf(qb, other),
    }
}

/// A presence test, a comparison or a value path over the resource's row.
fn push_leaf(qb: &mut Qb<'_>, expr: &Expr, rt: &'static ResourceType) -> Result<(), ScimError> {
    match expr {
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) => push(qb, expr, rt)?,
        Expr::Present(a) => match target(rt, a)? {
            Target::Scalar(s) => present(qb, &s),
            Target::Complex(sql) => {
                qb.push(format!("({sql} is not null and {sql} <> '{{}}'::jsonb)"));
            }
            Target::Multi(el, sub) => {
                open(qb, &el);
                match sub {
                    None => {
                        qb.push("true");
                    }
                    Some(name) => {
                        let s = el
                            .sub(&name)
                            .ok_or_else(|| invalid(format!("unknown attribute '{}'", shown(a))))?;
                        present(qb, &s);
                    }
                }
                qb.push(")");
            }
            Target::Constant(b) => {
                qb.push(if b { "true" } else { "false" });
            }
        },
        Expr::Compare(a, op, lit) => match target(rt, a)? {
            Target::Scalar(s) => compare(qb, &s, *op, lit, a)?,
            Target::Complex(_) | Target::Constant(_) => {
                return Err(invalid(format!(
                    "'{}' is complex: compare one of its sub-attributes",
                    shown(a)
                )))
            }
            Target::Multi(el, sub) => {
                let name = sub.unwrap_or_else(|| "value".into());
                let s = el
                    .sub(&name)
                    .ok_or_else(|| invalid(format!("unknown attribute '{}'", shown(a))))?;
                open(qb, &el);
                compare(qb, &s, *op, lit, a)?;
                qb.push(")");
            }
        },
        Expr::ValuePath(a, inner) => match target(rt, a)? {
            Target::Multi(el, None) => {
                open(qb, &el);
                push_element(qb, inner, &el, a)?;
                qb.push(")");
            }
            _ => {
                return Err(invalid(format!(
                    "'{}[…]' needs a multi-valued attribute",
                    shown(a)
                )))
            }
        },
    }
    Ok(())
}

/// Opens `exists (select 1 from <elements> where [<correlation> and] `.
fn open(qb: &mut Qb<'_>, el: &Elements) {
    qb.push(format!("exists (select 1 from {} where ", el.from));
    if !el.on.is_empty() {
        qb.push(format!("{} and ", el.on));
    }
}

/// The inner filter of a value path, over one element.
fn push_element(
    qb: &mut Qb<'_>,
    expr: &Expr,
    el: &Elements,
    outer: &AttrRef,
) -> Result<(), ScimError> {
    let sub_of = |a: &AttrRef| {
        el.sub(&a.name).ok_or_else(|| {
            invalid(format!(
                "unknown sub-attribute '{}' of '{}'",
                shown(a),
                shown(outer)
            ))
        })
    };
    logic(qb, expr, &mut |qb, leaf| {
        match leaf {
            Expr::Present(a) => present(qb, &sub_of(a)?),
            Expr::Compare(a, op, lit) => compare(qb, &sub_of(a)?, *op, lit, a)?,
            Expr::ValuePath(a, _) => {
                return Err(invalid(format!("'{}' nests a value path", shown(a))));
            }
            Expr::And(_) | Expr::Or(_) | Expr::Not(_) => push_element(qb, leaf, el, outer)?,
        }
        Ok(())
    })
}

/// Appends ` order by …, <alias>.id`.
pub(super) fn push_order(
    qb: &mut Qb<'_>,
    sort_by: Option<&str>,
    descending: bool,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    let alias = if rt.name == "User" { "u" } else { "g" };
    let dir = if descending { "desc" } else { "asc" };
    let Some(path) = sort_by else {
        qb.push(format!(" order by {alias}.id {dir}"));
        return Ok(());
    };
    let refused = || {
        ScimError::bad(
            ScimType::InvalidValue,
            format!(
                "cannot sort by '{}'",
                path.chars().take(100).collect::<String>()
            ),
        )
    };
    let resolved = rt.resolve_path(path).ok_or_else(refused)?;
    let a = AttrRef {
        uri: None,
        name: resolved.attr.name.into(),
        sub: resolved.sub.map(|s| s.name.to_owned()),
    };
    let a = if resolved.in_extension() {
        AttrRef {
            uri: Some(resolved.schema.id.into()),
            ..a
        }
    } else {
        a
    };
    let expr = match target(rt, &a).map_err(|_| refused())? {
        Target::Scalar(s) if s.case_exact || s.kind != Kind::String => s.sql,
        Target::Scalar(s) => format!("lower({})", s.sql),
        Target::Multi(el, sub) if el.from.starts_with("jsonb_array_elements") => {
            let sub = sub.unwrap_or_else(|| "value".into());
            let s = el.sub(&sub).ok_or_else(refused)?;
            format!(
                "(select lower({}) from {} order by (e.v->>'primary')::boolean desc nulls last limit 1)",
                s.sql, el.from
            )
        }
        _ => return Err(refused()),
    };
    qb.push(format!(
        " order by {expr} {dir} nulls last, {alias}.id {dir}"
    ));
    Ok(())
}
