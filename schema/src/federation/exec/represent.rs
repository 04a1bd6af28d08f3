//! An entity's representation: the entity projected through the fetch's
//! `requires` selection, as the subgraph's `_entities` expects it.

use hive_router_query_planner::ast::selection_item::SelectionItem;

use super::super::tree::{Data, Object};
use super::super::types::SchemaIndex;

const TYPENAME: &str = "__typename";

/// Projects an entity through the fetch's `requires` selection. The data
/// key is the field's name (the planner's `_internal_qp_alias_N` when it
/// aliased a field) and the representation key its alias. Returns `None`
/// when nothing could be projected (the entity is then not fetched).
pub(super) fn represent(
    schema: &SchemaIndex,
    requires: &[SelectionItem],
    object: &Object,
) -> Option<Data> {
    if object.is_empty() {
        return None;
    }
    let mut out = Object::new();
    project_into(schema, requires, object, &mut out);
    if out.is_empty() {
        // `@key(fields: "__typename")`-like keys: the type alone is the key.
        let only_typename = requires
            .iter()
            .all(|s| matches!(s, SelectionItem::Field(f) if f.name == TYPENAME));
        if !only_typename {
            return None;
        }
    }
    if let Some(typename) = object.get(TYPENAME) {
        out.insert(TYPENAME.into(), typename.clone());
    }
    (!out.is_empty()).then_some(Data::Object(out))
}

fn project_into(
    schema: &SchemaIndex,
    selections: &[SelectionItem],
    object: &Object,
    out: &mut Object,
) {
    for selection in selections {
        match selection {
            SelectionItem::Field(field) => {
                let key = field.alias.as_deref().unwrap_or(&field.name);
                if key == TYPENAME {
                    continue;
                }
                let Some(value) = object.get(&field.name).or_else(|| object.get(key)) else {
                    continue;
                };
                if let Some(projected) = project_value(schema, &field.selections.items, value) {
                    out.insert(key.into(), projected);
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = &fragment.type_condition;
                let typename = object
                    .get(TYPENAME)
                    .and_then(Data::as_str)
                    .unwrap_or(condition);
                if schema.satisfies(typename, condition) || schema.satisfies(condition, typename) {
                    project_into(schema, &fragment.selections.items, object, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn project_value(schema: &SchemaIndex, selections: &[SelectionItem], value: &Data) -> Option<Data> {
    match value {
        Data::Null => Some(Data::Null),
        Data::List(items) => Some(Data::List(
            items
                .iter()
                .filter(|item| !item.is_null())
                .filter_map(|item| project_value(schema, selections, item))
                .collect(),
        )),
        // A scalar, or a custom scalar holding an object.
        Data::Object(_) if selections.is_empty() => Some(value.clone()),
        Data::Object(map) => {
            let mut out = Object::new();
            project_into(schema, selections, map, &mut out);
            if out.is_empty() {
                return None;
            }
            if let Some(typename) = map.get(TYPENAME) {
                out.insert(TYPENAME.into(), typename.clone());
            }
            Some(Data::Object(out))
        }
        scalar => Some(scalar.clone()),
    }
}
