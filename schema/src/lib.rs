//! The one public GraphQL API, composed from the domain subgraphs.
//!
//! This crate knows nothing of HTTP (only `gateway` does) and nothing of how
//! a domain stores its data (only `resolvers` does).

pub mod armour;
pub mod cost;
pub mod domains;
pub mod federation;

use async_graphql::{EmptySubscription, ObjectType, SDLExportOptions, Schema, SchemaBuilder};
use prep_resolvers::{MutationRoot, QueryRoot, SubgraphQuery};

/// The public schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The same API served as the Apollo Federation v2 subgraph `platform`:
/// the public queries and mutations, plus `Query._entities` and
/// `Query._service`. Only a federation router (the gateway's own planner)
/// may send it operations; clients are never served it.
pub type SubgraphSchema = Schema<SubgraphQuery, MutationRoot, EmptySubscription>;

/// Limits applied to every operation before it executes.
#[derive(Clone, Debug)]
pub struct SchemaOptions {
    /// Whether `__schema` / `__type` are answered.
    pub introspection: bool,
    /// Deepest allowed selection nesting.
    pub max_depth: usize,
    /// Largest allowed complexity (one point per field, lists multiplied by
    /// their page size).
    pub max_complexity: usize,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            introspection: true,
            max_depth: 15,
            max_complexity: 20_000,
        }
    }
}

/// Builds the schema users are served.
pub fn build(options: &SchemaOptions) -> AppSchema {
    builder(options).finish()
}

/// Builds the schema connectors are served: the same API, with every
/// field checked against the connector's scopes before it resolves
/// (`prep_resolvers::scopes`).
pub fn build_for_connectors(options: &SchemaOptions) -> AppSchema {
    builder(options)
        .extension(prep_resolvers::scopes::ConnectorScopes)
        .finish()
}

/// Builds the `platform` subgraph as users' operations reach it through
/// the federation router: the same limits as [`build`], with federation
/// on.
pub fn build_subgraph(options: &SchemaOptions) -> SubgraphSchema {
    subgraph_builder(options).finish()
}

/// Builds the `platform` subgraph as connectors' operations reach it: the
/// same checks as [`build_for_connectors`], `Query._entities` included
/// (it needs the read scope of every entity type it is asked for, and
/// `Query._service` is denied; see `prep_resolvers::scopes`).
pub fn build_subgraph_for_connectors(options: &SchemaOptions) -> SubgraphSchema {
    subgraph_builder(options)
        .extension(prep_resolvers::scopes::ConnectorScopes)
        .finish()
}

fn builder(options: &SchemaOptions) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    limited(
        Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            EmptySubscription,
        ),
        options,
    )
}

fn subgraph_builder(
    options: &SchemaOptions,
) -> SchemaBuilder<SubgraphQuery, MutationRoot, EmptySubscription> {
    limited(
        Schema::build(
            SubgraphQuery::default(),
            MutationRoot::default(),
            EmptySubscription,
        ),
        options,
    )
    .enable_federation()
}

/// The limits every schema applies before an operation executes.
fn limited<Q: ObjectType + 'static>(
    builder: SchemaBuilder<Q, MutationRoot, EmptySubscription>,
    options: &SchemaOptions,
) -> SchemaBuilder<Q, MutationRoot, EmptySubscription> {
    let mut builder = builder
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_complexity)
        .limit_recursive_depth(64);
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    builder
}

/// The SDL of the public API, as checked in at `schema/schema.graphql`.
pub fn sdl() -> String {
    build(&SchemaOptions::default()).sdl()
}

/// The SDL of the `platform` subgraph as a federation router composes it
/// (what `Query._service { sdl }` answers), as checked in at
/// `schema/subgraph.graphql`: Federation v2 `@link`, `@key(fields: "id")`
/// on each entity, no `schema { … }` block (the roots are named `Query`
/// and `Mutation`, which composition recognises by name).
pub fn subgraph_sdl() -> String {
    build_subgraph(&SchemaOptions::default())
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    /// The `Type.field`s of an SDL that no connector scope declares.
    fn undeclared_fields(sdl: &str) -> Vec<String> {
        let doc = parse_schema(sdl).expect("the SDL parses");
        let mut undeclared = Vec::new();
        for def in doc.definitions {
            let TypeSystemDefinition::Type(ty) = def else {
                continue;
            };
            let name = ty.node.name.node.as_str();
            let fields = match &ty.node.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => continue,
            };
            for f in fields {
                let field = f.node.name.node.as_str();
                if prep_resolvers::scopes::needs(name, field).is_none() {
                    undeclared.push(format!("{name}.{field}"));
                }
            }
        }
        undeclared
    }

    /// Every field of the API declares what a connector needs to use it;
    /// an undeclared field would silently be denied to every connector.
    #[test]
    fn every_field_declares_its_connector_scope() {
        let undeclared = undeclared_fields(&super::sdl());
        assert!(
            undeclared.is_empty(),
            "declare what connectors need for these fields in resolvers/src/scopes.rs: {undeclared:?}"
        );
    }

    /// The subgraph's own fields (`_entities`, `_service` and `_Service`)
    /// are declared too: the plain SDL export keeps them, unlike the
    /// federation one.
    #[test]
    fn every_subgraph_field_declares_its_connector_scope() {
        let sdl = super::build_subgraph(&super::SchemaOptions::default()).sdl();
        for field in ["_entities(", "_service:", "type _Service"] {
            assert!(sdl.contains(field), "the plain subgraph SDL has {field}");
        }
        let undeclared = undeclared_fields(&sdl);
        assert!(
            undeclared.is_empty(),
            "declare what connectors need for these fields in resolvers/src/scopes.rs: {undeclared:?}"
        );
    }

    /// No entity resolver is reachable from the public root, so the public
    /// schema does not answer `_entities` (any object by key, around the
    /// root fields' checks) nor `_service`.
    #[test]
    fn the_public_schema_has_no_federation_fields() {
        let sdl = super::sdl();
        for name in [
            "_entities",
            "_service",
            "_Any",
            "_Entity",
            "_Service",
            "@key",
        ] {
            assert!(!sdl.contains(name), "the public SDL mentions {name}");
        }
        assert!(sdl.contains("type Query {") && sdl.contains("type Mutation {"));
    }

    #[test]
    fn the_subgraph_sdl_is_a_federation_v2_subgraph() {
        let sdl = super::subgraph_sdl();
        assert!(
            sdl.contains("extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2."),
            "the subgraph SDL links Federation v2"
        );
        for ty in [
            "Location",
            "Employee",
            "Credential",
            "Inspection",
            "Permit",
            "Requirement",
            "Alert",
        ] {
            let head = sdl
                .lines()
                .find(|l| l.starts_with(&format!("type {ty} ")))
                .unwrap_or_else(|| panic!("the subgraph SDL has {ty}"));
            assert!(
                head.ends_with(" @key(fields: \"id\") {"),
                "{ty} is an entity keyed by id: {head}"
            );
        }
        assert!(sdl.contains("type Query {") && sdl.contains("type Mutation {"));
        // composition recognises the roots by name: no schema block
        assert!(!sdl.contains("\nschema {"));
        parse_schema(&sdl).expect("the subgraph SDL parses");
    }

    /// Every change to the public API shows up in review as a diff of the
    /// checked-in SDL. Run with `UPDATE_SDL=1` to accept a change.
    #[test]
    fn sdl_snapshot_is_current() {
        snapshot("schema.graphql", &super::sdl());
    }

    /// The same for the `platform` subgraph's federation SDL.
    #[test]
    fn subgraph_sdl_snapshot_is_current() {
        snapshot("subgraph.graphql", &super::subgraph_sdl());
    }

    fn snapshot(file: &str, current: &str) {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("UPDATE_SDL").is_some() {
            std::fs::write(&path, current).unwrap_or_else(|e| panic!("write {file}: {e}"));
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == current,
            "{file} changed: review it and run `UPDATE_SDL=1 cargo test -p prep-schema`"
        );
    }
}
