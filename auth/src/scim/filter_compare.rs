//! One comparison or presence test of a filter as SQL: the attribute's
//! type decides which operators apply and how the literal is bound;
//! case-insensitive strings compare `lower()` on both sides, and a stored
//! case-folded column serves `eq` through its index.

use chrono::{DateTime, Utc};

use super::filter::{AttrRef, Literal, Op};
use super::filter_sql::{invalid, shown, Qb, Scalar};
use super::schema::Kind;
use super::ScimError;

pub(super) fn present(qb: &mut Qb<'_>, s: &Scalar) {
    let sql = &s.sql;
    if s.kind == Kind::String || s.kind == Kind::Reference {
        qb.push(format!("({sql} is not null and {sql} <> '')"));
    } else {
        qb.push(format!("({sql} is not null)"));
    }
}

pub(super) fn compare(
    qb: &mut Qb<'_>,
    s: &Scalar,
    op: Op,
    lit: &Literal,
    a: &AttrRef,
) -> Result<(), ScimError> {
    let sql = &s.sql;
    if *lit == Literal::Null {
        return match op {
            Op::Eq => {
                qb.push(format!("({sql} is null)"));
                Ok(())
            }
            Op::Ne => {
                qb.push(format!("({sql} is not null)"));
                Ok(())
            }
            _ => Err(invalid(format!(
                "'{}' can only be compared with null by eq or ne",
                shown(a)
            ))),
        };
    }
    match s.kind {
        Kind::Boolean => {
            let Literal::Bool(b) = lit else {
                return Err(invalid(format!(
                    "'{}' is a boolean: compare it with true or false",
                    shown(a)
                )));
            };
            let op = match op {
                Op::Eq => "is not distinct from",
                Op::Ne => "is distinct from",
                _ => {
                    return Err(invalid(format!(
                        "'{}' is a boolean: only eq and ne apply",
                        shown(a)
                    )))
                }
            };
            qb.push(format!("({sql} {op} ")).push_bind(*b).push(")");
        }
        Kind::DateTime => {
            let Literal::Str(text) = lit else {
                return Err(invalid(format!(
                    "'{}' is a dateTime: compare it with a quoted RFC 3339 time",
                    shown(a)
                )));
            };
            let at: DateTime<Utc> = DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    invalid(format!(
                        "'{}' is not an RFC 3339 dateTime",
                        text.chars().take(40).collect::<String>()
                    ))
                })?
                .with_timezone(&Utc);
            let op = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Gt => ">",
                Op::Ge => ">=",
                Op::Lt => "<",
                Op::Le => "<=",
                _ => {
                    return Err(invalid(format!(
                        "'{}' is a dateTime: co, sw and ew do not apply",
                        shown(a)
                    )))
                }
            };
            qb.push(format!("({sql} {op} ")).push_bind(at).push(")");
        }
        Kind::String | Kind::Reference | Kind::Complex => {
            let value = match lit {
                Literal::Str(v) => v.clone(),
                Literal::Number(n) => n.to_string(),
                _ => {
                    return Err(invalid(format!(
                        "'{}' is a string: compare it with a quoted value",
                        shown(a)
                    )))
                }
            };
            if op == Op::Eq && !s.case_exact {
                if let Some(folded) = s.folded {
                    qb.push(format!("({folded} = lower("))
                        .push_bind(value)
                        .push("))");
                    return Ok(());
                }
            }
            let (x, open, close) = if s.case_exact {
                (sql.clone(), "", "")
            } else {
                (format!("lower({sql})"), "lower(", ")")
            };
            let bind = |qb: &mut Qb<'_>, v: String| {
                qb.push(open).push_bind(v).push(close);
            };
            qb.push("(");
            match op {
                Op::Eq => {
                    qb.push(format!("{x} = "));
                    bind(qb, value);
                }
                Op::Ne => {
                    qb.push(format!("{sql} is null or {x} <> "));
                    bind(qb, value);
                }
                Op::Co => {
                    qb.push(format!("strpos({x}, "));
                    bind(qb, value);
                    qb.push(") > 0");
                }
                Op::Sw => {
                    qb.push(format!("starts_with({x}, "));
                    bind(qb, value);
                    qb.push(")");
                }
                Op::Ew => {
                    qb.push(format!("right({x}, length("));
                    bind(qb, value.clone());
                    qb.push(")) = ");
                    bind(qb, value);
                }
                Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                    let sym = match op {
                        Op::Gt => ">",
                        Op::Ge => ">=",
                        Op::Lt => "<",
                        _ => "<=",
                    };
                    qb.push(format!("{x} collate \"C\" {sym} "));
                    bind(qb, value);
                }
            }
            qb.push(")");
        }
    }
    Ok(())
}
