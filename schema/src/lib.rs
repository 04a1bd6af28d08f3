//! The one public GraphQL API, composed from the domain subgraphs.
//!
//! This crate knows nothing of HTTP (only `gateway` does) and nothing of how
//! a domain stores its data (only `resolvers` does).

pub mod armour;
pub mod cost;
pub mod federation;

use async_graphql::{EmptySubscription, Schema};
use prep_resolvers::{MutationRoot, QueryRoot};

/// The public schema type.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

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

fn builder(
    options: &SchemaOptions,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
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

#[cfg(test)]
mod tests {
    /// Every change to the public API shows up in review as a diff of the
    /// checked-in SDL. Run with `UPDATE_SDL=1` to accept a change.
    /// Every field of the API declares what a connector needs to use it;
    /// an undeclared field would silently be denied to every connector.
    #[test]
    fn every_field_declares_its_connector_scope() {
        use async_graphql::parser::parse_schema;
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let doc = parse_schema(super::sdl()).expect("the SDL parses");
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
        assert!(
            undeclared.is_empty(),
            "declare what connectors need for these fields in resolvers/src/scopes.rs: {undeclared:?}"
        );
    }

    #[test]
    fn sdl_snapshot_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let current = super::sdl();
        if std::env::var_os("UPDATE_SDL").is_some() {
            std::fs::write(path, &current).expect("write schema.graphql");
            return;
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == current,
            "the public schema changed: review it and run `UPDATE_SDL=1 cargo test -p prep-schema`"
        );
    }
}
