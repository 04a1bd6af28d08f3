//! Composing subgraph SDLs into a supergraph (`graphql-composition`), so
//! the gateway can front in-process and remote subgraphs together without
//! an outside registry.
//!
//! `graphql-composition` leaves the root types without
//! `@join__type(graph:)`, which the planner needs to enter a subgraph at
//! the root; [`compose`] adds them for every subgraph that resolves a root
//! field (found by the fields' `@join__field(graph:)`).

use graphql_tools::parser::schema::{Definition, Directive, Document, TypeDefinition, Value};
use graphql_tools::parser::Pos;

/// One subgraph to compose.
#[derive(Clone, Debug)]
pub struct SubgraphSource {
    /// Its name (becomes the `join__Graph` value's name).
    pub name: String,
    /// Where it is reached (`inproc://<name>` for in-process ones).
    pub url: String,
    /// Its SDL, with its federation `@link`.
    pub sdl: String,
}

/// Why subgraphs did not compose: every problem, each naming the
/// subgraph, type or field concerned.
#[derive(Debug, thiserror::Error)]
#[error("the subgraphs do not compose:\n  - {}", .problems.join("\n  - "))]
pub struct CompositionError {
    /// What is wrong, one entry per problem.
    pub problems: Vec<String>,
}

impl CompositionError {
    fn one(problem: String) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

/// Composes `subgraphs` into a supergraph SDL the planner accepts.
pub fn compose(subgraphs: &[SubgraphSource]) -> Result<String, CompositionError> {
    let mut ingested = graphql_composition::Subgraphs::default();
    let mut problems = Vec::new();
    for s in subgraphs {
        if let Err(e) = ingested.ingest_str(&s.sdl, &s.name, Some(&s.url)) {
            problems.push(format!("subgraph {}: {e}", s.name));
        }
    }
    if !problems.is_empty() {
        return Err(CompositionError { problems });
    }
    let graph = graphql_composition::compose(&mut ingested)
        .into_result()
        .map_err(|d| CompositionError {
            problems: d.iter_errors().map(str::to_owned).collect(),
        })?;
    let sdl = graphql_composition::render_federated_sdl(&graph)
        .map_err(|e| CompositionError::one(format!("the supergraph could not be printed: {e}")))?;
    join_root_types(&sdl)
}

/// Adds `@join__type(graph: G)` to each root type for every graph `G` that
/// resolves one of its fields.
fn join_root_types(sdl: &str) -> Result<String, CompositionError> {
    let mut doc: Document<'static, String> = graphql_tools::parser::parse_schema(sdl)
        .map_err(|e| CompositionError::one(format!("the composed supergraph does not parse: {e}")))?
        .into_static();
    let mut roots = vec!["Query".to_owned(), "Mutation".to_owned()];
    for def in &doc.definitions {
        if let Definition::SchemaDefinition(s) = def {
            roots.extend(s.query.iter().chain(s.mutation.iter()).cloned());
        }
    }
    for def in &mut doc.definitions {
        let Definition::TypeDefinition(TypeDefinition::Object(object)) = def else {
            continue;
        };
        if !roots.contains(&object.name) {
            continue;
        }
        let mut graphs: Vec<String> = Vec::new();
        for field in &object.fields {
            for d in field.directives.iter().filter(|d| d.name == "join__field") {
                for (arg, value) in &d.arguments {
                    if let (true, Value::Enum(graph)) = (arg == "graph", value) {
                        if !graphs.contains(graph) {
                            graphs.push(graph.clone());
                        }
                    }
                }
            }
        }
        let joined: Vec<String> = object
            .directives
            .iter()
            .filter(|d| d.name == "join__type")
            .flat_map(|d| d.arguments.iter())
            .filter_map(|(arg, v)| match (arg.as_str(), v) {
                ("graph", Value::Enum(g)) => Some(g.clone()),
                _ => None,
            })
            .collect();
        for graph in graphs.into_iter().filter(|g| !joined.contains(g)) {
            object.directives.push(Directive {
                position: Pos::default(),
                name: "join__type".into(),
                arguments: vec![("graph".into(), Value::Enum(graph))],
            });
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::Supergraph;

    const PRODUCTS: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Query { topProducts(first: Int = 5): [Product!]! }
        type Product @key(fields: "upc") { upc: String! name: String! price: Int! }
    "#;
    const REVIEWS: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Product @key(fields: "upc") { upc: String! reviews: [Review!]! }
        type Review { body: String! }
        type Query { latestReview: Review }
    "#;

    fn source(name: &str, sdl: &str) -> SubgraphSource {
        SubgraphSource {
            name: name.into(),
            url: format!("http://{name}.internal/graphql"),
            sdl: sdl.into(),
        }
    }

    #[test]
    fn composed_subgraphs_plan_across_each_other() {
        let sdl =
            compose(&[source("products", PRODUCTS), source("reviews", REVIEWS)]).expect("composes");
        let supergraph = Supergraph::new(&sdl).expect("loads");
        assert_eq!(supergraph.subgraphs().len(), 2);
        let prepared = supergraph
            .prepare("{ topProducts { name reviews { body } } }", None)
            .expect("plans");
        assert_eq!(
            prepared.subgraphs(),
            vec!["products".to_owned(), "reviews".to_owned()]
        );
        let text = prepared.plan_text();
        assert!(text.contains("Flatten(path: \"topProducts.@\")"), "{text}");
    }

    #[test]
    fn conflicts_name_what_is_wrong() {
        let clash = r#"
            extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
            type Query { topProducts: String }
        "#;
        let err =
            compose(&[source("products", PRODUCTS), source("clash", clash)]).expect_err("conflict");
        let text = err.to_string();
        assert!(text.contains("topProducts"), "{text}");
    }

    #[test]
    fn unparsable_sdl_names_its_subgraph() {
        let err = compose(&[source("broken", "type Query {")]).expect_err("broken");
        assert!(err.problems[0].starts_with("subgraph broken:"), "{err}");
    }
}
