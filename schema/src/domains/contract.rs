//! What a domain served on its own publishes: its SDL, as its `_service`
//! answers it, and the operations it accepts, those on that SDL (plus
//! federation's `_entities` and `_service`), nothing else of the one
//! executable schema it runs. A gateway only plans a domain's own fields
//! to it; the check keeps a domain service a standard subgraph of exactly
//! the SDL it publishes, whoever holds a token for it.

use graphql_tools::parser::query::parse_query;
use graphql_tools::parser::schema::{parse_schema, Definition, Document, TypeDefinition};
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::{validate, ValidationPlan};

/// One domain's published schema: its `_service` answer, and what to
/// validate operations against.
pub struct Contract {
    schema: Document<'static, String>,
    rules: ValidationPlan,
    service: async_graphql::dynamic::Schema,
}

/// A problem with an operation, as a client-facing message and code.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, naming the field or type.
    pub message: String,
    /// `GRAPHQL_PARSE_FAILED` or `GRAPHQL_VALIDATION_FAILED`.
    pub code: &'static str,
}

impl Contract {
    /// The contract of `domain`, if it is one.
    pub fn of(domain: &str) -> Option<Self> {
        let sdl = super::sdl_of(domain)?;
        let types = sdl.split("extend schema @link(").next().unwrap_or(sdl);
        let parsed = parse_schema::<String>(types).ok()?.into_static();
        let entities: Vec<&str> = parsed
            .definitions
            .iter()
            .filter_map(|d| match d {
                Definition::TypeDefinition(TypeDefinition::Object(o))
                    if o.directives.iter().any(|d| d.name == "key") =>
                {
                    Some(o.name.as_str())
                }
                _ => None,
            })
            .collect();
        // federation's own fields, as an async-graphql subgraph has them
        let mut text = types.replacen(
            "type Query {",
            "type Query {\n\t_entities(representations: [_Any!]!): [_Entity]!\n\t_service: _Service!",
            1,
        );
        // the built-in scalars, which the validator looks up like any type
        for scalar in ["ID", "String", "Int", "Float", "Boolean"] {
            text.push_str(&format!("scalar {scalar}\n"));
        }
        text.push_str("scalar _Any\ntype _Service {\n\tsdl: String\n}\n");
        if !entities.is_empty() {
            text.push_str(&format!("union _Entity = {}\n", entities.join(" | ")));
        }
        let schema = parse_schema::<String>(&text).ok()?.into_static();
        Some(Self {
            schema,
            rules: default_rules_validation_plan(),
            service: service_schema(sdl),
        })
    }

    /// Answers the gateway's composition call, `{ _service { sdl } }`,
    /// with the domain's own SDL (the executable schema's own `_service`
    /// would print every domain).
    pub fn service(&self) -> &async_graphql::dynamic::Schema {
        &self.service
    }

    /// `Ok` when `query` asks only for what the domain publishes.
    pub fn check(&self, query: &str) -> Result<(), Vec<Refusal>> {
        let document = parse_query::<String>(query)
            .map_err(|e| {
                vec![Refusal {
                    message: format!("The document could not be parsed: {}", e.to_string().trim()),
                    code: "GRAPHQL_PARSE_FAILED",
                }]
            })?
            .into_static();
        let invalid = validate(&self.schema, &document, &self.rules);
        if invalid.is_empty() {
            return Ok(());
        }
        Err(invalid
            .into_iter()
            .map(|e| Refusal {
                message: e.message,
                code: "GRAPHQL_VALIDATION_FAILED",
            })
            .collect())
    }
}

/// A schema that answers only `Query._service { sdl }`, with `sdl`.
fn service_schema(sdl: &str) -> async_graphql::dynamic::Schema {
    use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, Schema, TypeRef};
    let sdl: std::sync::Arc<str> = sdl.into();
    let service = Object::new("_Service").field(Field::new(
        "sdl",
        TypeRef::named(TypeRef::STRING),
        move |_| {
            let sdl = sdl.to_string();
            FieldFuture::new(async move { Ok(Some(FieldValue::value(sdl))) })
        },
    ));
    let query = Object::new("Query").field(Field::new(
        "_service",
        TypeRef::named_nn("_Service"),
        |_| FieldFuture::new(async { Ok(Some(FieldValue::owned_any(()))) }),
    ));
    Schema::build("Query", None, None)
        .register(service)
        .register(query)
        .disable_introspection()
        .finish()
        .unwrap_or_else(|e| panic!("the `_service` schema is well formed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_takes_its_own_fields_and_its_entities() {
        let workforce = Contract::of("workforce").expect("a domain");
        workforce
            .check("{ employees(first: 1) { nodes { id firstName location { id } } } }")
            .expect("its own root field");
        workforce
            .check(
                "query($r: [_Any!]!) { _entities(representations: $r) {
                    ... on Location { employees(first: 2) { totalCount } } } }",
            )
            .expect("its field of another domain's entity");
        workforce.check("{ _service { sdl } }").expect("its SDL");
        workforce
            .check(
                "mutation($id: ID!, $on: NaiveDate!) { terminateEmployee(input: { id: $id, terminatedOn: $on }) {
                    employee { id status } userErrors { code } } }",
            )
            .expect("its mutation, with variables of built-in and custom scalars");
    }

    #[test]
    fn a_domain_refuses_the_fields_of_the_others() {
        let workforce = Contract::of("workforce").expect("a domain");
        let refused = workforce
            .check("{ locations(first: 1) { totalCount } }")
            .expect_err("another domain's root field");
        assert_eq!(refused[0].code, "GRAPHQL_VALIDATION_FAILED");
        assert!(refused[0].message.contains("locations"), "{refused:?}");
        let refused = workforce
            .check(
                "query($r: [_Any!]!) { _entities(representations: $r) {
                    ... on Location { storeNumber } } }",
            )
            .expect_err("another domain's field of an entity");
        assert!(refused[0].message.contains("storeNumber"), "{refused:?}");
        let refused = workforce.check("{ employees(").expect_err("unparsable");
        assert_eq!(refused[0].code, "GRAPHQL_PARSE_FAILED");
        assert!(Contract::of("platform").is_none());
    }
}
