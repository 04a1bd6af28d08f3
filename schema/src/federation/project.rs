//! The client's response, projected from the merged subgraph data along
//! the client's own operation: its aliases and field order, `__typename`
//! answered by the gateway, planner-only fields (keys, aliases it made up)
//! dropped, enum values outside the public schema refused, and nulls in
//! non-null positions propagated to the nearest nullable parent as the
//! spec requires.

use std::rc::Rc;

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::FieldSelection;
use serde_json::{Map, Value};

use super::tree::{Data, Object};

use super::response::{GraphQLError, PathSegment};
use super::types::{Kind, SchemaIndex, TypeRef};

const TYPENAME: &str = "__typename";

/// How many (type, selections) field collections one projection keeps:
/// a list of a thousand objects of one type collects its fields once.
const COLLECTED_CACHE: usize = 64;

/// Writes the response's `data` for `root` (the root type's selections)
/// as JSON text.
pub fn project(
    schema: &SchemaIndex,
    root_type: &str,
    selections: &[SelectionItem],
    data: &Data,
    introspected: &[(String, String)],
    variables: &Map<String, Value>,
    errors: &mut Vec<GraphQLError>,
) -> String {
    let mut p = Projector {
        schema,
        introspected,
        variables,
        report_nulls: errors.is_empty(),
        errors,
        out: Vec::with_capacity(256),
        path: Vec::new(),
        collected: Vec::new(),
    };
    let empty = Object::new();
    let object = data.as_object().unwrap_or(&empty);
    if p.object(root_type, &[selections], object).is_err() {
        p.out.clear();
        p.out.extend_from_slice(b"null");
    }
    // Everything written is JSON serde_json wrote or ASCII punctuation.
    String::from_utf8(p.out).unwrap_or_else(|_| "null".into())
}

struct Projector<'a> {
    schema: &'a SchemaIndex,
    /// Introspection's answers by response key, as JSON text.
    introspected: &'a [(String, String)],
    variables: &'a Map<String, Value>,
    /// Whether a null in a non-null position should be reported: only
    /// when no subgraph has already said why data is missing.
    report_nulls: bool,
    errors: &'a mut Vec<GraphQLError>,
    out: Vec<u8>,
    /// Where the projection is, borrowed: turned into an owned path only
    /// for an error.
    path: Vec<Step<'a>>,
    collected: Vec<Collected<'a>>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The fields that apply to objects of one type under one set of
/// selections, with their types looked up.
struct Collected<'a> {
    type_name: &'a str,
    selections: Vec<*const [SelectionItem]>,
    fields: Rc<[Field<'a>]>,
}

/// One response key of an object: the first field with that key, its
/// type in the schema (`None` for `__typename` and unknown fields) and
/// the sub-selections of every field merged into it.
struct Field<'a> {
    key: &'a str,
    /// `"key":`, escaped once rather than for every object.
    prefix: Box<[u8]>,
    first: &'a FieldSelection,
    ty: Option<&'a TypeRef>,
    selections: Vec<&'a [SelectionItem]>,
}

/// The value became null where null is not allowed; the parent must
/// become null in turn.
struct NullBubble;

impl<'a> Projector<'a> {
    fn included(&self, skip_if: Option<&String>, include_if: Option<&String>) -> bool {
        let truthy = |name: &String| self.variables.get(name) == Some(&Value::Bool(true));
        !skip_if.is_some_and(truthy) && include_if.is_none_or(truthy)
    }

    /// The spec's CollectFields: the fields that apply to an object of
    /// `type_name`, grouped by response key, in document order.
    fn collect(
        &self,
        type_name: &str,
        selections: &[&'a [SelectionItem]],
        out: &mut Vec<(&'a str, Vec<&'a FieldSelection>)>,
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

    /// [`Self::collect`] for an object, from the cache when an object of
    /// the same type under the same selections was projected before.
    fn fields(
        &mut self,
        type_name: &'a str,
        selections: &[&'a [SelectionItem]],
    ) -> Rc<[Field<'a>]> {
        let same = |c: &Collected<'_>| {
            c.selections.len() == selections.len()
                && c.selections
                    .iter()
                    .zip(selections)
                    .all(|(a, b)| std::ptr::eq(*a, *b as *const [SelectionItem]))
                && c.type_name == type_name
        };
        if let Some(hit) = self.collected.iter().find(|c| same(c)) {
            return Rc::clone(&hit.fields);
        }
        let mut groups = Vec::new();
        self.collect(type_name, selections, &mut groups);
        let fields: Rc<[Field<'a>]> = groups
            .into_iter()
            .map(|(key, group)| Field {
                key,
                prefix: {
                    let mut prefix = Vec::with_capacity(key.len() + 3);
                    write_string(&mut prefix, key);
                    prefix.push(b':');
                    prefix.into()
                },
                first: group[0],
                ty: self.schema.field(type_name, &group[0].name),
                selections: group
                    .iter()
                    .map(|f| f.selections.items.as_slice())
                    .collect(),
            })
            .collect();
        if self.collected.len() < COLLECTED_CACHE {
            self.collected.push(Collected {
                type_name,
                selections: selections.iter().map(|s| *s as *const _).collect(),
                fields: Rc::clone(&fields),
            });
        }
        fields
    }

    /// The current position as a response path.
    fn owned_path(&self) -> Vec<PathSegment> {
        self.path
            .iter()
            .map(|step| match *step {
                Step::Key(k) => PathSegment::Key(k.to_owned()),
                Step::Index(i) => PathSegment::Index(i),
            })
            .collect()
    }

    fn object(
        &mut self,
        type_name: &'a str,
        selections: &[&'a [SelectionItem]],
        object: &'a Object,
    ) -> Result<(), NullBubble> {
        let fields = self.fields(type_name, selections);
        self.out.push(b'{');
        for (n, field) in fields.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&field.prefix);
            if field.first.name == TYPENAME {
                write_string(&mut self.out, type_name);
                continue;
            }
            let Some(ty) = field.ty else {
                // Introspection's answer is already shaped for the
                // client's selections (async-graphql projected it).
                let answer = self
                    .introspected
                    .iter()
                    .find(|(key, _)| key == field.key)
                    .filter(|_| super::prepare::is_introspection(&field.first.name));
                // Validation keeps unknown fields out; be safe regardless.
                let text = answer.map_or("null", |(_, text)| text.as_str());
                self.out.extend_from_slice(text.as_bytes());
                continue;
            };
            self.path.push(Step::Key(field.key));
            let result = self.value(
                ty,
                object.get(field.key),
                &field.selections,
                type_name,
                &field.first.name,
            );
            self.path.pop();
            result?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes one value of type `ty`. If it ends up null, writes `null`
    /// when allowed and otherwise bubbles.
    fn value(
        &mut self,
        ty: &'a TypeRef,
        value: Option<&'a Data>,
        selections: &[&'a [SelectionItem]],
        parent: &str,
        field: &str,
    ) -> Result<(), NullBubble> {
        let start = self.out.len();
        let ok = match value {
            None | Some(Data::Null) => false,
            Some(v) => self.non_null_value(ty, v, selections).is_ok(),
        };
        if ok {
            return Ok(());
        }
        self.out.truncate(start);
        if ty.non_null() {
            if self.report_nulls && value.is_none_or(Data::is_null) {
                self.report_nulls = false;
                self.errors.push(
                    GraphQLError::new(
                        format!("Cannot return null for non-nullable field {parent}.{field}."),
                        "NULL_IN_NON_NULL_POSITION",
                    )
                    .at(self.owned_path()),
                );
            }
            return Err(NullBubble);
        }
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn non_null_value(
        &mut self,
        ty: &'a TypeRef,
        value: &'a Data,
        selections: &[&'a [SelectionItem]],
    ) -> Result<(), NullBubble> {
        match ty {
            TypeRef::List(inner, _) => {
                let Data::List(items) = value else {
                    return self.wrong_shape("a list");
                };
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(Step::Index(i));
                    let r = self.value(inner, Some(item), selections, "", "");
                    self.path.pop();
                    r?;
                }
                self.out.push(b']');
                Ok(())
            }
            TypeRef::Named(name, _) => match self.schema.kind(name) {
                Kind::Scalar => {
                    if is_builtin(name) && matches!(value, Data::Object(_) | Data::List(_)) {
                        return self.wrong_shape(name);
                    }
                    write_json(&mut self.out, value);
                    Ok(())
                }
                Kind::Enum => match value {
                    Data::String(s) if self.schema.enum_has(name, s) => {
                        write_string(&mut self.out, s);
                        Ok(())
                    }
                    _ => {
                        self.errors.push(
                            GraphQLError::new(
                                format!("The value is not a valid {name}"),
                                "INVALID_ENUM_VALUE",
                            )
                            .at(self.owned_path()),
                        );
                        Err(NullBubble)
                    }
                },
                Kind::Object | Kind::Interface | Kind::Union => {
                    let Data::Object(object) = value else {
                        return self.wrong_shape(name);
                    };
                    let concrete = if self.schema.kind(name) == Kind::Object {
                        name.as_str()
                    } else {
                        match object.get(TYPENAME).and_then(Data::as_str) {
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
            .at(self.owned_path()),
        );
        Err(NullBubble)
    }
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "Int" | "Float" | "String" | "Boolean" | "ID")
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail, nor can serialising a string.
    let _ = serde_json::to_writer(out, s);
}

fn write_json(out: &mut Vec<u8>, value: &Data) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}
