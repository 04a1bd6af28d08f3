//! Introspection of the federated API. The planner cannot plan `__schema`
//! or `__type`, and the gateway's own schema knows nothing of the remote
//! subgraphs' types, so the playground and code generators are answered
//! from the supergraph's public SDL: it is turned into an async-graphql
//! dynamic schema in introspection-only mode (no resolver ever runs), so
//! the answer has exactly the shape async-graphql gives for the gateway's
//! own schema.

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField, Object,
    Scalar, Schema, TypeRef, Union,
};
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeDefinition,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::Positioned;

/// Scalars every schema has; registering them again is an error.
const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

/// An introspection-only schema with the types of `api_sdl`.
pub fn schema_of(api_sdl: &str) -> Result<Schema, String> {
    let document = async_graphql::parser::parse_schema(api_sdl).map_err(|e| e.to_string())?;
    let mut roots = (
        "Query".to_owned(),
        Some("Mutation".to_owned()),
        Some("Subscription".to_owned()),
    );
    let mut types = Vec::new();
    for definition in document.definitions {
        match definition {
            TypeSystemDefinition::Schema(s) => {
                let s = s.node;
                if let Some(q) = s.query {
                    roots.0 = q.node.to_string();
                }
                roots.1 = s.mutation.map(|m| m.node.to_string());
                roots.2 = s.subscription.map(|m| m.node.to_string());
            }
            TypeSystemDefinition::Type(t) => types.push(t.node),
            TypeSystemDefinition::Directive(_) => {}
        }
    }
    let defined = |name: &Option<String>| {
        name.as_ref()
            .filter(|n| types.iter().any(|t| t.name.node.as_str() == n.as_str()))
            .cloned()
    };
    let (mutation, subscription) = (defined(&roots.1), defined(&roots.2));
    let mut builder =
        Schema::build(&roots.0, mutation.as_deref(), subscription.as_deref()).introspection_only();
    for definition in types {
        builder = match register(definition) {
            Some(ty) => builder.register(ty),
            None => builder,
        };
    }
    builder.finish().map_err(|e| e.to_string())
}

fn register(definition: TypeDefinition) -> Option<async_graphql::dynamic::Type> {
    let name = definition.name.node.to_string();
    if name.starts_with("__") {
        // The planner's API lists introspection's own types; they are
        // built in.
        return None;
    }
    let description = definition.description.map(|d| d.node);
    Some(match definition.kind {
        TypeKind::Scalar if BUILT_IN_SCALARS.contains(&name.as_str()) => return None,
        TypeKind::Scalar => {
            let mut scalar = Scalar::new(name);
            if let Some(url) = argument(&definition.directives, "specifiedBy", "url") {
                scalar = scalar.specified_by_url(url);
            }
            with_description(scalar, description, Scalar::description).into()
        }
        TypeKind::Object(object) => {
            let mut ty = Object::new(name);
            for interface in object.implements {
                ty = ty.implement(interface.node.to_string());
            }
            for field in object.fields {
                if !field.node.name.node.starts_with("__") {
                    ty = ty.field(field_of(field.node));
                }
            }
            with_description(ty, description, Object::description).into()
        }
        TypeKind::Interface(interface) => {
            let mut ty = Interface::new(name);
            for parent in interface.implements {
                ty = ty.implement(parent.node.to_string());
            }
            for field in interface.fields {
                let f = field.node;
                let mut out = deprecated(
                    InterfaceField::new(f.name.node.to_string(), type_ref(&f.ty.node)),
                    &f.directives,
                    InterfaceField::deprecation,
                );
                for arg in f.arguments {
                    out = out.argument(input_of(arg.node));
                }
                ty = ty.field(with_description(
                    out,
                    f.description.map(|d| d.node),
                    InterfaceField::description,
                ));
            }
            with_description(ty, description, Interface::description).into()
        }
        TypeKind::Union(union) => {
            let mut ty = Union::new(name);
            for member in union.members {
                ty = ty.possible_type(member.node.to_string());
            }
            with_description(ty, description, Union::description).into()
        }
        TypeKind::Enum(enumeration) => {
            let mut ty = Enum::new(name);
            for value in enumeration.values {
                let v = value.node;
                let item = deprecated(
                    EnumItem::new(v.value.node.to_string()),
                    &v.directives,
                    EnumItem::deprecation,
                );
                ty = ty.item(with_description(
                    item,
                    v.description.map(|d| d.node),
                    EnumItem::description,
                ));
            }
            with_description(ty, description, Enum::description).into()
        }
        TypeKind::InputObject(input) => {
            let mut ty = InputObject::new(name);
            if definition
                .directives
                .iter()
                .any(|d| d.node.name.node == "oneOf")
            {
                ty = ty.oneof();
            }
            for field in input.fields {
                ty = ty.field(input_of(field.node));
            }
            with_description(ty, description, InputObject::description).into()
        }
    })
}

/// A field that is never resolved: in introspection-only mode async-graphql
/// answers every other field with null without calling it.
fn field_of(f: FieldDefinition) -> Field {
    let field = Field::new(f.name.node.to_string(), type_ref(&f.ty.node), |_| {
        FieldFuture::from_value(None)
    });
    let mut field = deprecated(field, &f.directives, Field::deprecation);
    for arg in f.arguments {
        field = field.argument(input_of(arg.node));
    }
    with_description(field, f.description.map(|d| d.node), Field::description)
}

fn input_of(v: InputValueDefinition) -> InputValue {
    let input = InputValue::new(v.name.node.to_string(), type_ref(&v.ty.node));
    let mut input = deprecated(input, &v.directives, InputValue::deprecation);
    if let Some(default) = v.default_value {
        input = input.default_value(default.node);
    }
    with_description(
        input,
        v.description.map(|d| d.node),
        InputValue::description,
    )
}

fn type_ref(ty: &Type) -> TypeRef {
    let inner = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string().into()),
        BaseType::List(item) => TypeRef::List(Box::new(type_ref(item))),
    };
    if ty.nullable {
        inner
    } else {
        TypeRef::NonNull(Box::new(inner))
    }
}

fn with_description<T>(item: T, description: Option<String>, set: fn(T, String) -> T) -> T {
    match description {
        Some(d) => set(item, d),
        None => item,
    }
}

/// Marks `item` deprecated when `@deprecated` is among `directives`, with
/// its reason (async-graphql's `deprecation(None)` would mark it too).
fn deprecated<T>(
    item: T,
    directives: &[Positioned<ConstDirective>],
    set: fn(T, Option<&str>) -> T,
) -> T {
    if directives.iter().any(|d| d.node.name.node == "deprecated") {
        let reason = argument(directives, "deprecated", "reason");
        set(
            item,
            Some(reason.as_deref().unwrap_or("No longer supported")),
        )
    } else {
        item
    }
}

fn argument(
    directives: &[Positioned<ConstDirective>],
    directive: &str,
    name: &str,
) -> Option<String> {
    directives
        .iter()
        .find(|d| d.node.name.node == directive)
        .and_then(|d| d.node.get_argument(name))
        .and_then(|v| match &v.node {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        "An object with an id."
        interface Node { id: ID! }
        scalar Date @specifiedBy(url: "https://example.com/date")
        enum Severity { LOW HIGH @deprecated(reason: "use LOW") }
        input Filter @oneOf { name: String city: String }
        type Location implements Node {
          id: ID!
          "How healthy."
          healthScore(asOf: Date, limit: Int = 3): Int @deprecated
          notices: [Notice!]!
        }
        type Notice { title: String! severity: Severity! }
        union Result = Location | Notice
        type Query { node(id: ID!): Node search(filter: Filter!): [Result!]! }
        type Mutation { touch: Boolean }
    "#;

    async fn ask(schema: &Schema, query: &str) -> serde_json::Value {
        let response = schema.execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        serde_json::to_value(response.data).expect("json")
    }

    #[tokio::test]
    async fn every_kind_of_type_is_introspected_as_declared() {
        let schema = schema_of(SDL).expect("the schema builds");
        let data = ask(
            &schema,
            r#"{ __schema { queryType { name } mutationType { name } subscriptionType { name } }
                 location: __type(name: "Location") { kind interfaces { name }
                   fields(includeDeprecated: true) { name description isDeprecated deprecationReason
                     args { name defaultValue type { name } } type { kind ofType { kind ofType { kind ofType { name } } } } } }
                 severity: __type(name: "Severity") { enumValues(includeDeprecated: true) { name isDeprecated deprecationReason } }
                 filter: __type(name: "Filter") { kind isOneOf inputFields { name } }
                 date: __type(name: "Date") { kind specifiedByURL }
                 result: __type(name: "Result") { possibleTypes { name } }
                 node: __type(name: "Node") { description possibleTypes { name } } }"#,
        )
        .await;
        assert_eq!(data["__schema"]["queryType"]["name"], "Query");
        assert_eq!(data["__schema"]["mutationType"]["name"], "Mutation");
        assert!(data["__schema"]["subscriptionType"].is_null());
        let fields = &data["location"]["fields"];
        assert_eq!(data["location"]["interfaces"][0]["name"], "Node");
        assert_eq!(fields[1]["name"], "healthScore");
        assert_eq!(fields[1]["description"], "How healthy.");
        assert_eq!(fields[1]["deprecationReason"], "No longer supported");
        assert_eq!(fields[1]["args"][1]["defaultValue"], "3", "{}", fields[1]);
        assert_eq!(fields[1]["args"][0]["type"]["name"], "Date");
        assert_eq!(
            fields[2]["type"]["ofType"]["ofType"]["ofType"]["name"], "Notice",
            "[Notice!]!"
        );
        assert_eq!(
            data["severity"]["enumValues"][1]["deprecationReason"],
            "use LOW"
        );
        assert_eq!(data["filter"]["isOneOf"], true);
        assert_eq!(data["date"]["specifiedByURL"], "https://example.com/date");
        assert_eq!(
            data["result"]["possibleTypes"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(data["node"]["description"], "An object with an id.");
        assert_eq!(data["node"]["possibleTypes"][0]["name"], "Location");
    }

    #[tokio::test]
    async fn it_answers_introspection_and_nothing_else() {
        let schema = schema_of(SDL).expect("the schema builds");
        let data = ask(&schema, "{ node(id: \"x\") { id } __typename }").await;
        assert_eq!(
            data,
            serde_json::json!({ "node": null, "__typename": "Query" })
        );
    }

    #[tokio::test]
    async fn the_platforms_composed_api_is_introspected_whole() {
        let sdl =
            crate::federation::compose::compose(&[crate::federation::compose::SubgraphSource {
                name: "platform".into(),
                url: "inproc://platform".into(),
                sdl: crate::subgraph_sdl(),
            }])
            .expect("composes");
        let supergraph = crate::federation::Supergraph::new(&sdl).expect("loads");
        let schema = schema_of(supergraph.api_sdl()).expect("the API builds");
        let data = ask(
            &schema,
            r#"{ __type(name: "Location") { fields { name } } }"#,
        )
        .await;
        assert!(
            data["__type"]["fields"]
                .as_array()
                .is_some_and(|f| f.len() > 5),
            "{data}"
        );
        // what GraphiQL asks (graphql-js's getIntrospectionQuery)
        let data = ask(&schema, FULL_INTROSPECTION).await;
        let types = data["__schema"]["types"].as_array().expect("types");
        assert!(types.iter().any(|t| t["name"] == "Location"));
        assert!(types
            .iter()
            .all(|t| t["name"] != "_Any" && t["name"] != "join__Graph"));
    }

    const FULL_INTROSPECTION: &str = r#"query IntrospectionQuery {
      __schema { queryType { name } mutationType { name } subscriptionType { name }
        types { ...FullType }
        directives { name description locations args { ...InputValue } } }
    }
    fragment FullType on __Type { kind name description specifiedByURL isOneOf
      fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue }
        type { ...TypeRef } isDeprecated deprecationReason }
      inputFields(includeDeprecated: true) { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef } }
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue
      isDeprecated deprecationReason }
    fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType {
      kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }"#;

    #[test]
    fn an_sdl_that_does_not_parse_or_build_is_an_error() {
        assert!(schema_of("type Query {").is_err());
        assert!(schema_of("type Query { a: Missing }").is_err());
    }
}
