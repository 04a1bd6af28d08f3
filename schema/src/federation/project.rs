//! The client's response, projected from the merged subgraph data along
//! the client's own operation: its aliases and field order, `__typename`
//! answered by the gateway, planner-only fields (keys, aliases it made up)
//! dropped, enum values outside the public schema refused, and nulls in
//! non-null positions propagated to the nearest nullable parent as the
//! spec requires.

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use serde_json::{Map, Value};

use super::response::{GraphQLError, PathSegment};
use super::types::{Kind, SchemaIndex, TypeRef};

const TYPENAME: &str = "__typename";

/// Writes the response's `data` for `root` (the root type's selections)
/// as JSON text.
pub fn project(
    schema: &SchemaIndex,
    root_type: &str,
    selections: &[SelectionItem],
    data: &Value,
    variables: &Map<String, Value>,
    errors: &mut Vec<GraphQLError>,
) -> String {
    let mut p = Projector {
        schema,
        variables,
        report_nulls: errors.is_empty(),
        errors,
        out: String::with_capacity(256),
        path: Vec::new(),
    };
    let empty = Map::new();
    let object = data.as_object().unwrap_or(&empty);
    if p.object(root_type, &[selections], object).is_err() {
        p.out.clear();
        p.out.push_str("null");
    }
    p.out
}

struct Projector<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Value>,
    /// Whether a null in a non-null position should be reported: only
    /// when no subgraph has already said why data is missing.
    report_nulls: bool,
    errors: &'a mut Vec<GraphQLError>,
    out: String,
    path: Vec<PathSegment>,
}

/// The value became null where null is not allowed; the parent must
/// become null in turn.
struct NullBubble;

impl Projector<'_> {
    fn included(&self, skip_if: Option<&String>, include_if: Option<&String>) -> bool {
        let truthy = |name: &String| self.variables.get(name) == Some(&Value::Bool(true));
        !skip_if.is_some_and(truthy) && include_if.is_none_or(truthy)
    }

    /// The spec's CollectFields: the fields that apply to an object of
    /// `type_name`, grouped by response key, in document order.
    fn collect<'s>(
        &self,
        type_name: &str,
        selections: &[&'s [SelectionItem]],
        out: &mut Vec<(&'s str, Vec<&'s FieldSelection>)>,
    ) {
        for set in selections {
            for item in *set {
                match item {
                    SelectionItem::Field(f) => {
                        if f.omit_from_response
                            || !self.included(f.skip_if.as_ref(), f.include_if.as_ref())
                        {
                            continue;
                        }
                        let key = f.alias.as_deref().unwrap_or(&f.name);
                        match out.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, fields)) => fields.push(f),
                            None => out.push((key, vec![f])),
                        }
                    }
                    SelectionItem::InlineFragment(fragment) => {
                        if self.included(fragment.skip_if.as_ref(), fragment.include_if.as_ref())
                            && self.schema.satisfies(type_name, &fragment.type_condition)
                        {
                            self.collect(type_name, &[&fragment.selections.items], out);
                        }
                    }
                    SelectionItem::FragmentSpread(_) => {}
                }
            }
        }
    }

    fn object(
        &mut self,
        type_name: &str,
        selections: &[&[SelectionItem]],
        object: &Map<String, Value>,
    ) -> Result<(), NullBubble> {
        let mut fields = Vec::new();
        self.collect(type_name, selections, &mut fields);
        self.out.push('{');
        for (n, (key, group)) in fields.iter().enumerate() {
            if n > 0 {
                self.out.push(',');
            }
            write_string(&mut self.out, key);
            self.out.push(':');
            let field = group[0];
            if field.name == TYPENAME {
                write_string(&mut self.out, type_name);
                continue;
            }
            let Some(ty) = self.schema.field(type_name, &field.name) else {
                // Validation keeps unknown fields out; be safe regardless.
                self.out.push_str("null");
                continue;
            };
            let sub: Vec<&[SelectionItem]> = group
                .iter()
                .map(|f| f.selections.items.as_slice())
                .collect();
            self.path.push(PathSegment::Key((*key).to_owned()));
            let result = self.value(ty, object.get(*key), &sub, type_name, &field.name);
            self.path.pop();
            result?;
        }
        self.out.push('}');
        Ok(())
    }

    /// Writes one value of type `ty`. If it ends up null, writes `null`
    /// when allowed and otherwise bubbles.
    fn value(
        &mut self,
        ty: &TypeRef,
        value: Option<&Value>,
        selections: &[&[SelectionItem]],
        parent: &str,
        field: &str,
    ) -> Result<(), NullBubble> {
        let start = self.out.len();
        let ok = match value {
            None | Some(Value::Null) => false,
            Some(v) => self.non_null_value(ty, v, selections).is_ok(),
        };
        if ok {
            return Ok(());
        }
        self.out.truncate(start);
        if ty.non_null() {
            if self.report_nulls && value.is_none_or(Value::is_null) {
                self.report_nulls = false;
                self.errors.push(
                    GraphQLError::new(
                        format!("Cannot return null for non-nullable field {parent}.{field}."),
                        "NULL_IN_NON_NULL_POSITION",
                    )
                    .at(self.path.clone()),
                );
            }
            return Err(NullBubble);
        }
        self.out.push_str("null");
        Ok(())
    }

    fn non_null_value(
        &mut self,
        ty: &TypeRef,
        value: &Value,
        selections: &[&[SelectionItem]],
    ) -> Result<(), NullBubble> {
        match ty {
            TypeRef::List(inner, _) => {
                let Value::Array(items) = value else {
                    return self.wrong_shape("a list");
                };
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(PathSegment::Index(i));
                    let r = self.value(inner, Some(item), selections, "", "");
                    self.path.pop();
                    r?;
                }
                self.out.push(']');
                Ok(())
            }
            TypeRef::Named(name, _) => match self.schema.kind(name) {
                Kind::Scalar => {
                    if is_builtin(name) && (value.is_object() || value.is_array()) {
                        return self.wrong_shape(name);
                    }
                    write_json(&mut self.out, value);
                    Ok(())
                }
                Kind::Enum => match value {
                    Value::String(s) if self.schema.enum_has(name, s) => {
                        write_string(&mut self.out, s);
                        Ok(())
                    }
                    _ => {
                        self.errors.push(
                            GraphQLError::new(
                                format!("The value is not a valid {name}"),
                                "INVALID_ENUM_VALUE",
                            )
                            .at(self.path.clone()),
                        );
                        Err(NullBubble)
                    }
                },
                Kind::Object | Kind::Interface | Kind::Union => {
                    let Value::Object(object) = value else {
                        return self.wrong_shape(name);
                    };
                    let concrete = if self.schema.kind(name) == Kind::Object {
                        name.as_str()
                    } else {
                        match object.get(TYPENAME).and_then(Value::as_str) {
                            // A type hidden from clients makes the value
                            // null, as if it did not exist.
                            Some(t) if !self.schema.is_public(t) => return Err(NullBubble),
                            Some(t) if self.schema.satisfies(t, name) => t,
                            Some(_) => return self.wrong_shape(name),
                            // No subgraph said which type it is (an
                            // `@interfaceObject` answers for the interface
                            // itself): select what the interface offers.
                            None => name.as_str(),
                        }
                    };
                    self.object(concrete, selections, object)
                }
                Kind::Input => self.wrong_shape(name),
            },
        }
    }

    fn wrong_shape(&mut self, expected: &str) -> Result<(), NullBubble> {
        self.errors.push(
            GraphQLError::new(
                format!("A subgraph returned a value that is not {expected}"),
                "SUBREQUEST_MALFORMED_RESPONSE",
            )
            .at(self.path.clone()),
        );
        Err(NullBubble)
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "Int" | "Float" | "String" | "Boolean" | "ID")
}

fn write_string(out: &mut String, s: &str) {
    // Serialising a string cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn write_json(out: &mut String, value: &Value) {
    out.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "null".into()));
}
