//! The calculated cost of an operation, in the manner of Shopify's query
//! cost and the GraphQL cost directives (`@cost`, `@listSize`).
//!
//! Weights: a scalar or enum costs 0; an object 1; a connection 2 plus
//! `first` (20 when omitted) times the cost of one node; a plain list its
//! assumed size times one item; a mutation 10, plus one per record of the
//! largest list in its arguments (a batch of 500 costs more than one). Edges
//! and page info are structure and cost nothing of their own. The
//! **requested** cost is computed from the document before execution; the
//! **actual** cost walks the response with the same weights but the real
//! list lengths, so a page that comes back short costs less.
//!
//! The model is built once from the schema's SDL, so it follows the API
//! without a second list of fields; assumed sizes of unpaginated lists are
//! the only hand-kept numbers (`ASSUMED_SIZES`).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet, Type,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Positioned, Value, Variables};

/// Page size assumed when `first` is omitted (the resolvers' default).
const DEFAULT_FIRST: u64 = 20;
/// Largest page a connection returns (the resolvers' maximum).
const MAX_FIRST: u64 = 100;
/// Assumed length of a list without pagination arguments.
const DEFAULT_LIST: u64 = 10;
/// What a mutation costs before its selections and records.
const MUTATION: u64 = 10;

/// `@listSize(assumedSize:)` of the unpaginated lists that are usually
/// shorter or longer than `DEFAULT_LIST`.
const ASSUMED_SIZES: &[(&str, &str, u64)] = &[
    ("Employee", "credentials", 3),
    ("Location", "jurisdictions", 4),
    ("Location", "permits", 5),
    ("Location", "inspections", 10),
    ("Location", "alerts", 10),
    ("LocationCompliance", "requirements", 12),
    ("Inspection", "findings", 5),
    ("Query", "jurisdictions", 50),
    ("Query", "requirements", 50),
];

#[derive(Clone, Debug)]
struct Field {
    /// The named type it returns.
    ty: String,
    list: bool,
    /// A connection: has `first` and returns `…Connection`.
    connection: bool,
    /// For `nodes(ids:)`-like fields: the argument whose length is the size.
    sized_by: Option<&'static str>,
}

/// The weights of every field of the schema.
#[derive(Clone, Debug, Default)]
pub struct CostModel {
    fields: HashMap<(String, String), Field>,
    /// Object and interface types (everything else is a leaf).
    composite: HashSet<String>,
    query: String,
    mutation: String,
}

/// An operation's requested cost, and its parts that matter to clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// The points the operation may cost at most.
    pub requested: u64,
}

impl CostModel {
    /// Builds the model from the schema's SDL.
    pub fn from_sdl(sdl: &str) -> Result<Self, String> {
        let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
        let mut model = CostModel {
            query: "Query".into(),
            mutation: "Mutation".into(),
            ..CostModel::default()
        };
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    if let Some(q) = &s.node.query {
                        model.query = q.node.to_string();
                    }
                    if let Some(m) = &s.node.mutation {
                        model.mutation = m.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(t) => {
                    let name = t.node.name.node.to_string();
                    let fields = match &t.node.kind {
                        TypeKind::Object(o) => &o.fields,
                        TypeKind::Interface(i) => &i.fields,
                        _ => continue,
                    };
                    model.composite.insert(name.clone());
                    for f in fields {
                        let (ty, list) = named(&f.node.ty.node);
                        let has_first =
                            f.node.arguments.iter().any(|a| a.node.name.node == "first");
                        let sized_by = f
                            .node
                            .arguments
                            .iter()
                            .any(|a| a.node.name.node == "ids")
                            .then_some("ids");
                        model.fields.insert(
                            (name.clone(), f.node.name.node.to_string()),
                            Field {
                                connection: has_first && ty.ends_with("Connection"),
                                ty,
                                list,
                                sized_by,
                            },
                        );
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Ok(model)
    }

    /// The requested cost of the operation `name` of `doc`.
    pub fn requested(
        &self,
        doc: &ExecutableDocument,
        name: Option<&str>,
        variables: &Variables,
    ) -> Cost {
        let Some(op) = operation(doc, name) else {
            return Cost::default();
        };
        let root = match op.node.ty {
            OperationType::Mutation => &self.mutation,
            _ => &self.query,
        };
        let walk = Walk {
            model: self,
            doc,
            variables,
        };
        Cost {
            requested: walk.set(&op.node.selection_set, root, None, &mut Vec::new()),
        }
    }

    /// The actual cost: the same weights over the response's real lists.
    pub fn actual(&self, doc: &ExecutableDocument, name: Option<&str>, data: &Value) -> u64 {
        let Some(op) = operation(doc, name) else {
            return 0;
        };
        let root = match op.node.ty {
            OperationType::Mutation => &self.mutation,
            _ => &self.query,
        };
        let walk = Walk {
            model: self,
            doc,
            variables: &Variables::default(),
        };
        walk.actual_set(&op.node.selection_set, root, data, &mut Vec::new())
    }
}

fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<async_graphql::parser::types::OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The named type under any list and non-null wrappers, and whether a list
/// wraps it.
fn named(ty: &Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(n) => (n.to_string(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

struct Walk<'a> {
    model: &'a CostModel,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
}

impl<'a> Walk<'a> {
    /// The cost of a selection set on `ty`; `page` is the enclosing
    /// connection's page size (for its `edges` and `nodes`).
    fn set(
        &self,
        set: &'a Positioned<SelectionSet>,
        ty: &str,
        page: Option<u64>,
        fragments: &mut Vec<&'a str>,
    ) -> u64 {
        let mut total: u64 = 0;
        for item in &set.node.items {
            let add = match &item.node {
                Selection::Field(f) => self.field(&f.node, ty, page, fragments),
                Selection::InlineFragment(frag) => {
                    let on = frag
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| ty.to_owned());
                    self.set(&frag.node.selection_set, &on, page, fragments)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.doc.fragments.get(name) {
                        Some(def) if !fragments.contains(&name) => {
                            fragments.push(name);
                            let on = def.node.type_condition.node.on.node.to_string();
                            let c = self.set(&def.node.selection_set, &on, page, fragments);
                            fragments.pop();
                            c
                        }
                        _ => 0,
                    }
                }
            };
            total = total.saturating_add(add);
        }
        total
    }

    fn field(
        &self,
        f: &'a async_graphql::parser::types::Field,
        parent: &str,
        page: Option<u64>,
        fragments: &mut Vec<&'a str>,
    ) -> u64 {
        let name = f.name.node.as_str();
        let Some(def) = self.model.fields.get(&(parent.to_owned(), name.to_owned())) else {
            return 0; // __typename, introspection, unknown fields (the validator speaks)
        };
        let leaf = !self.model.composite.contains(&def.ty);
        if def.connection {
            let first = self
                .int_arg(f, "first")
                .unwrap_or(DEFAULT_FIRST)
                .min(MAX_FIRST);
            return 2u64.saturating_add(self.set(
                &f.selection_set,
                &def.ty,
                Some(first),
                fragments,
            ));
        }
        let own = self.own_weight(parent, &def.ty, leaf);
        let below = if leaf {
            0
        } else {
            self.set(&f.selection_set, &def.ty, None, fragments)
        };
        let one = own.saturating_add(below);
        let n = if def.list {
            self.list_size(f, parent, name, def, page)
        } else {
            1
        };
        let mut cost = n.saturating_mul(one);
        if parent == self.model.mutation {
            let records = f
                .arguments
                .iter()
                .map(|(_, v)| self.longest_list(&v.node))
                .max()
                .unwrap_or(0);
            cost = cost.saturating_add(MUTATION - own).saturating_add(records);
        }
        cost
    }

    /// What one value of `ty` costs by itself.
    fn own_weight(&self, parent: &str, ty: &str, leaf: bool) -> u64 {
        if leaf || ty.ends_with("Edge") || ty == "PageInfo" || parent == self.model.mutation {
            0
        } else {
            1
        }
    }

    fn list_size(
        &self,
        f: &async_graphql::parser::types::Field,
        parent: &str,
        name: &str,
        def: &Field,
        page: Option<u64>,
    ) -> u64 {
        if parent.ends_with("Connection") && (name == "edges" || name == "nodes") {
            return page.unwrap_or(DEFAULT_FIRST);
        }
        if let Some(arg) = def.sized_by {
            if let Some((_, v)) = f.arguments.iter().find(|(n, _)| n.node == arg) {
                return self.longest_list(&v.node).max(1);
            }
        }
        ASSUMED_SIZES
            .iter()
            .find(|(t, n, _)| *t == parent && *n == name)
            .map_or(DEFAULT_LIST, |(_, _, size)| *size)
    }

    fn int_arg(&self, f: &async_graphql::parser::types::Field, name: &str) -> Option<u64> {
        let (_, v) = f.arguments.iter().find(|(n, _)| n.node == name)?;
        let v = self.resolve(&v.node)?;
        match v {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// A literal's value, or the variable's.
    fn resolve(&self, v: &async_graphql_value::Value) -> Option<Value> {
        let value = v
            .clone()
            .into_const_with(|name: Name| -> Result<Value, ()> {
                Ok(self.variables.get(&name).cloned().unwrap_or(Value::Null))
            })
            .ok()?;
        Some(value)
    }

    /// The length of the longest list anywhere in an argument value.
    fn longest_list(&self, v: &async_graphql_value::Value) -> u64 {
        fn longest(v: &Value) -> u64 {
            match v {
                Value::List(items) => {
                    (items.len() as u64).max(items.iter().map(longest).max().unwrap_or(0))
                }
                Value::Object(map) => map.values().map(longest).max().unwrap_or(0),
                _ => 0,
            }
        }
        self.resolve(v).map_or(0, |v| longest(&v))
    }

    /// The cost of what a selection set actually returned.
    fn actual_set(
        &self,
        set: &'a Positioned<SelectionSet>,
        ty: &str,
        data: &Value,
        fragments: &mut Vec<&'a str>,
    ) -> u64 {
        let Value::Object(object) = data else {
            return 0;
        };
        let mut seen = HashSet::new();
        self.actual_items(set, ty, object, &mut seen, fragments)
    }

    fn actual_items(
        &self,
        set: &'a Positioned<SelectionSet>,
        ty: &str,
        object: &async_graphql::indexmap::IndexMap<Name, Value>,
        seen: &mut HashSet<&'a str>,
        fragments: &mut Vec<&'a str>,
    ) -> u64 {
        let mut total: u64 = 0;
        for item in &set.node.items {
            total = total.saturating_add(match &item.node {
                Selection::Field(f) => {
                    let key = f.node.response_key().node.as_str();
                    if !seen.insert(key) {
                        continue;
                    }
                    let Some(value) = object.get(key) else {
                        continue;
                    };
                    self.actual_field(&f.node, ty, value, fragments)
                }
                Selection::InlineFragment(frag) => {
                    let on = frag
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string())
                        .unwrap_or_else(|| ty.to_owned());
                    self.actual_items(&frag.node.selection_set, &on, object, seen, fragments)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.doc.fragments.get(name) {
                        Some(def) if !fragments.contains(&name) => {
                            fragments.push(name);
                            let on = def.node.type_condition.node.on.node.to_string();
                            let c = self.actual_items(
                                &def.node.selection_set,
                                &on,
                                object,
                                seen,
                                fragments,
                            );
                            fragments.pop();
                            c
                        }
                        _ => 0,
                    }
                }
            });
        }
        total
    }

    fn actual_field(
        &self,
        f: &'a async_graphql::parser::types::Field,
        parent: &str,
        value: &Value,
        fragments: &mut Vec<&'a str>,
    ) -> u64 {
        let name = f.name.node.as_str();
        let Some(def) = self.model.fields.get(&(parent.to_owned(), name.to_owned())) else {
            return 0;
        };
        if matches!(value, Value::Null) {
            return 0;
        }
        let leaf = !self.model.composite.contains(&def.ty);
        let base = if def.connection {
            2
        } else if parent == self.model.mutation {
            MUTATION
        } else {
            self.own_weight(parent, &def.ty, leaf)
        };
        if leaf {
            return base;
        }
        match value {
            Value::List(items) => items
                .iter()
                .map(|item| {
                    self.own_weight(parent, &def.ty, leaf)
                        .saturating_add(self.actual_set(&f.selection_set, &def.ty, item, fragments))
                })
                .sum(),
            other => {
                base.saturating_add(self.actual_set(&f.selection_set, &def.ty, other, fragments))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> CostModel {
        CostModel::from_sdl(&crate::sdl()).expect("model")
    }

    fn requested(q: &str, vars: serde_json::Value) -> u64 {
        let doc = async_graphql::parser::parse_query(q).expect("parse");
        let vars = Variables::from_json(vars);
        model().requested(&doc, None, &vars).requested
    }

    #[test]
    fn connections_multiply_by_first_and_scalars_are_free() {
        assert_eq!(
            requested(
                "{ locations(first: 10) { totalCount } }",
                serde_json::json!({})
            ),
            2
        );
        assert_eq!(
            requested(
                "{ locations(first: 10) { nodes { name storeNumber } } }",
                serde_json::json!({})
            ),
            12
        );
        // edges and page info are structure; the default page is 20
        assert_eq!(
            requested(
                "{ locations { edges { cursor node { name } } pageInfo { hasNextPage } } }",
                serde_json::json!({})
            ),
            22
        );
        // variables are read; nesting multiplies
        let q = "query($n: Int) { locations(first: $n) { nodes { employees(first: 50) { nodes { firstName credentials { kind } } } } } }";
        assert_eq!(
            requested(q, serde_json::json!({ "n": 2 })),
            2 + 2 * (1 + 2 + 50 * (1 + 3))
        );
        // a page is never assumed larger than the maximum
        assert_eq!(
            requested(
                "{ locations(first: 5000) { nodes { name } } }",
                serde_json::json!({})
            ),
            102
        );
        assert_eq!(
            requested(
                "{ __typename viewer { tenant { slug } } }",
                serde_json::json!({})
            ),
            2
        );
    }

    #[test]
    fn mutations_cost_ten_plus_their_records() {
        let q = "mutation($i: SyncEmployeesInput!) { syncEmployees(input: $i) { created } }";
        let employees: Vec<_> = (0..300).map(|_| serde_json::json!({})).collect();
        assert_eq!(
            requested(q, serde_json::json!({ "i": { "employees": employees } })),
            310
        );
        assert_eq!(
            requested(
                r#"mutation { createLocation(input: { storeNumber: "1", name: "x", address: { line1: "a", city: "b", state: "IL", postalCode: "60606" }, jurisdictionCode: "x" }) { location { id } } }"#,
                serde_json::json!({})
            ),
            11
        );
    }

    #[test]
    fn actual_cost_counts_what_came_back() {
        let q = "{ locations(first: 50) { nodes { name } } }";
        let doc = async_graphql::parser::parse_query(q).expect("parse");
        let data = Value::from_json(
            serde_json::json!({ "locations": { "nodes": [{ "name": "a" }, { "name": "b" }] } }),
        )
        .expect("value");
        assert_eq!(model().actual(&doc, None, &data), 2 + 2);
        assert_eq!(requested(q, serde_json::json!({})), 52);
    }
}
