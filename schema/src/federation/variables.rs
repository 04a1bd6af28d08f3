//! Coercing the client's variables against the operation's definitions
//! (GraphQL spec, "CoerceVariableValues"): defaults applied, required ones
//! present, every value of its declared type. Subgraphs then receive
//! values they can trust, and `@skip`/`@include` conditions read the
//! coerced value (a default included).

use hive_router_query_planner::ast::operation::VariableDefinition;
use hive_router_query_planner::ast::value::Value as AstValue;
use hive_router_query_planner::state::supergraph_state::TypeNode;
use serde_json::{Map, Number, Value};

use super::response::GraphQLError;
use super::types::{Kind, SchemaIndex, TypeRef};

/// Coerces `provided` against `definitions`. Variables the operation does
/// not define are dropped.
pub fn coerce(
    schema: &SchemaIndex,
    definitions: &[VariableDefinition],
    mut provided: Map<String, Value>,
) -> Result<Map<String, Value>, Vec<GraphQLError>> {
    let mut coerced = Map::new();
    let mut errors = Vec::new();
    for def in definitions {
        let ty = type_ref(&def.variable_type);
        let value = match provided.remove(&def.name) {
            Some(v) => v,
            None => match &def.default_value {
                Some(default) => ast_to_json(default),
                None if ty.non_null() => {
                    errors.push(invalid(format!(
                        "Variable \"${}\" of required type \"{}\" was not provided.",
                        def.name, def.variable_type
                    )));
                    continue;
                }
                None => continue,
            },
        };
        match check(schema, &ty, value) {
            Ok(v) => {
                coerced.insert(def.name.clone(), v);
            }
            Err(why) => errors.push(invalid(format!(
                "Variable \"${}\" got an invalid value: {why}.",
                def.name
            ))),
        }
    }
    if errors.is_empty() {
        Ok(coerced)
    } else {
        Err(errors)
    }
}

fn invalid(message: String) -> GraphQLError {
    GraphQLError::new(message, "BAD_USER_INPUT")
}

/// The planner's type node as the executor's type reference.
pub(crate) fn type_ref(node: &TypeNode) -> TypeRef {
    match node {
        TypeNode::Named(n) => TypeRef::Named(n.clone(), false),
        TypeNode::List(inner) => TypeRef::List(Box::new(type_ref(inner)), false),
        TypeNode::NonNull(inner) => match type_ref(inner) {
            TypeRef::Named(n, _) => TypeRef::Named(n, true),
            TypeRef::List(i, _) => TypeRef::List(i, true),
        },
    }
}

/// A literal from the document (a default value) as JSON.
pub(crate) fn ast_to_json(value: &AstValue) -> Value {
    match value {
        AstValue::Null | AstValue::Variable(_) => Value::Null,
        AstValue::Int(i) => Value::Number((*i).into()),
        AstValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AstValue::String(s) | AstValue::Enum(s) => Value::String(s.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::List(items) => Value::Array(items.iter().map(ast_to_json).collect()),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), ast_to_json(v)))
                .collect(),
        ),
    }
}

/// Checks (and where the spec says so, coerces) one input value.
fn check(schema: &SchemaIndex, ty: &TypeRef, value: Value) -> Result<Value, String> {
    if value.is_null() {
        return if ty.non_null() {
            Err(format!("null for the non-null type {}", display(ty)))
        } else {
            Ok(Value::Null)
        };
    }
    match ty {
        TypeRef::List(inner, _) => match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| check(schema, inner, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            // A single value where a list is expected is a list of one.
            single => Ok(Value::Array(vec![check(schema, inner, single)?])),
        },
        TypeRef::Named(name, _) => check_named(schema, name, value),
    }
}

fn check_named(schema: &SchemaIndex, name: &str, value: Value) -> Result<Value, String> {
    let ok = match (name, &value) {
        ("Int", Value::Number(n)) => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        ("Float", Value::Number(_)) => true,
        ("String", Value::String(_)) | ("Boolean", Value::Bool(_)) => true,
        ("ID", Value::String(_)) => true,
        ("ID", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("Int" | "Float" | "String" | "Boolean" | "ID", _) => false,
        _ => match schema.kind(name) {
            Kind::Enum => matches!(&value, Value::String(s) if schema.enum_has(name, s)),
            Kind::Input => return check_input_object(schema, name, value),
            // Custom scalars: the subgraph that defines them validates.
            _ => true,
        },
    };
    if ok {
        Ok(value)
    } else {
        Err(format!("{} is not a valid {name}", kind_of(&value)))
    }
}

fn check_input_object(schema: &SchemaIndex, name: &str, value: Value) -> Result<Value, String> {
    let Value::Object(mut given) = value else {
        return Err(format!("{} is not a valid {name}", kind_of(&value)));
    };
    let fields = schema.input_fields(name);
    if let Some(unknown) = given.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
        return Err(format!("{name} has no field \"{unknown}\""));
    }
    let mut out = Map::new();
    for field in fields {
        match given.remove(&field.name) {
            Some(v) => {
                let v = check(schema, &field.ty, v)
                    .map_err(|why| format!("{why} at {name}.{}", field.name))?;
                out.insert(field.name.clone(), v);
            }
            None if field.ty.non_null() && !field.has_default => {
                return Err(format!("{name}.{} is required", field.name));
            }
            None => {}
        }
    }
    Ok(Value::Object(out))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn display(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(n, nn) => format!("{n}{}", if *nn { "!" } else { "" }),
        TypeRef::List(inner, nn) => format!("[{}]{}", display(inner), if *nn { "!" } else { "" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graphql_tools::parser::parse_schema;

    fn schema() -> SchemaIndex {
        let doc = parse_schema::<String>(
            "type Query { a: Int } enum Color { RED GREEN } input Filter { color: Color! limit: Int = 3 }",
        )
        .expect("schema")
        .into_static();
        SchemaIndex::new(&doc, &doc)
    }

    fn def(name: &str, ty: TypeNode, default: Option<AstValue>) -> VariableDefinition {
        VariableDefinition {
            name: name.into(),
            variable_type: ty,
            default_value: default,
        }
    }

    fn named(n: &str) -> TypeNode {
        TypeNode::Named(n.into())
    }

    fn non_null(t: TypeNode) -> TypeNode {
        TypeNode::NonNull(Box::new(t))
    }

    #[test]
    fn defaults_apply_and_required_ones_must_be_given() {
        let defs = [
            def("b", named("Boolean"), Some(AstValue::Boolean(false))),
            def("n", non_null(named("Int")), None),
        ];
        let errors = coerce(&schema(), &defs, Map::new()).expect_err("n is required");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("\"$n\""),
            "{}",
            errors[0].message
        );

        let given = serde_json::json!({ "n": 3, "unused": 1 });
        let Value::Object(given) = given else {
            unreachable!()
        };
        let coerced = coerce(&schema(), &defs, given).expect("valid");
        assert_eq!(
            Value::Object(coerced),
            serde_json::json!({ "b": false, "n": 3 })
        );
    }

    #[test]
    fn values_must_have_their_declared_type() {
        let defs = [
            def("i", named("Int"), None),
            def("c", named("Color"), None),
            def("f", named("Filter"), None),
        ];
        for (bad, expect) in [
            (
                serde_json::json!({ "i": "3" }),
                "a string is not a valid Int",
            ),
            (
                serde_json::json!({ "i": 3_000_000_000_i64 }),
                "not a valid Int",
            ),
            (serde_json::json!({ "c": "BLUE" }), "not a valid Color"),
            (
                serde_json::json!({ "f": { "limit": 1 } }),
                "Filter.color is required",
            ),
            (
                serde_json::json!({ "f": { "color": "RED", "x": 1 } }),
                "no field \"x\"",
            ),
        ] {
            let Value::Object(bad) = bad else {
                unreachable!()
            };
            let errors = coerce(&schema(), &defs, bad).expect_err("invalid");
            assert!(errors[0].message.contains(expect), "{}", errors[0].message);
            assert_eq!(errors[0].code(), Some("BAD_USER_INPUT"));
        }
    }

    #[test]
    fn a_single_value_is_a_list_of_one() {
        let defs = [def("l", TypeNode::List(Box::new(named("Int"))), None)];
        let Value::Object(given) = serde_json::json!({ "l": 4 }) else {
            unreachable!()
        };
        let coerced = coerce(&schema(), &defs, given).expect("valid");
        assert_eq!(coerced["l"], serde_json::json!([4]));
    }
}
