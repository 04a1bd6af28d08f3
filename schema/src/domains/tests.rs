use std::collections::BTreeSet;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use prep_resolvers::domains::{owner, DOMAINS};

use super::sdls;
use crate::federation::compose::{compose, SubgraphSource};
use crate::federation::Supergraph;

/// `Type.field` of every object and interface field, and `Input.field` of
/// every input field, of an SDL.
fn fields(sdl: &str) -> BTreeSet<String> {
    let doc = parse_schema(sdl).expect("the SDL parses");
    let mut all = BTreeSet::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(ty) = def else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        if name.starts_with("__") {
            continue; // introspection's own types
        }
        match &ty.node.kind {
            TypeKind::Object(o) => all.extend(
                o.fields
                    .iter()
                    .map(|f| format!("{name}.{}", f.node.name.node)),
            ),
            TypeKind::Interface(i) => all.extend(
                i.fields
                    .iter()
                    .map(|f| format!("{name}.{}", f.node.name.node)),
            ),
            TypeKind::InputObject(i) => all.extend(
                i.fields
                    .iter()
                    .map(|f| format!("{name}.{}", f.node.name.node)),
            ),
            TypeKind::Enum(e) => all.extend(
                e.values
                    .iter()
                    .map(|v| format!("{name}.{}", v.node.value.node)),
            ),
            _ => {}
        }
    }
    all.retain(|f| !f.contains(".__"));
    all
}

fn supergraph() -> Supergraph {
    let sources: Vec<SubgraphSource> = sdls()
        .iter()
        .map(|d| SubgraphSource {
            name: d.name.into(),
            url: format!("inproc://{}", d.name),
            sdl: d.sdl.clone(),
        })
        .collect();
    let sdl = compose(&sources).unwrap_or_else(|e| panic!("the domains compose: {e}"));
    Supergraph::new(&sdl).expect("the domains' supergraph loads")
}

/// A new root field or entity field must say which domain keeps it, or no
/// domain would publish it.
#[test]
fn every_root_and_entity_field_has_an_owner() {
    let full = crate::subgraph_sdl();
    let entities = [
        "Location",
        "Employee",
        "Credential",
        "Permit",
        "Inspection",
        "Requirement",
        "Alert",
    ];
    let unowned: Vec<String> = fields(&full)
        .into_iter()
        .filter(|f| {
            let (ty, field) = f.split_once('.').expect("Type.field");
            (matches!(ty, "Query" | "Mutation") || entities.contains(&ty))
                && owner(ty, field).is_none()
        })
        .collect();
    assert!(
        unowned.is_empty(),
        "say which domain owns these in resolvers/src/domains.rs: {unowned:?}"
    );
    for ty in entities {
        let head = full
            .lines()
            .find(|l| l.starts_with(&format!("type {ty} ")))
            .expect("entity");
        assert!(
            head.contains("@key(fields: \"id\")"),
            "every Node is an entity: {head}"
        );
    }
}

/// Composed together, the domains serve exactly the public API: nothing
/// lost in the cut, nothing added.
#[test]
fn the_domains_compose_into_the_public_api() {
    let supergraph = supergraph();
    let names: BTreeSet<String> = supergraph.subgraphs().into_keys().collect();
    assert_eq!(names, DOMAINS.iter().map(|d| d.to_string()).collect());
    assert_eq!(fields(supergraph.api_sdl()), fields(&crate::sdl()));
}

#[test]
fn each_domain_publishes_its_own_fields_and_keys_to_the_rest() {
    let workforce = super::sdl_of("workforce").expect("a domain");
    let location = workforce
        .split("\ntype Location ")
        .nth(1)
        .and_then(|t| t.split("\n}").next())
        .expect("workforce points at locations");
    assert!(location.contains("@key(fields: \"id\")"), "{location}");
    assert!(location.contains("employees("), "{location}");
    assert!(!location.contains("storeNumber"), "{location}");
    assert!(workforce.contains("type Query {"), "{workforce}");
    assert!(!workforce.contains("permits"), "{workforce}");
    // shared by several domains, and so shareable in each
    assert!(
        workforce.contains("type UserError @shareable {"),
        "{workforce}"
    );
    assert!(
        workforce.contains("type PageInfo @shareable {"),
        "{workforce}"
    );
    assert!(
        workforce.starts_with('"')
            || workforce.starts_with("type")
            || workforce.starts_with("enum")
    );
    assert!(super::sdl_of("platform").is_none());
}

#[test]
fn a_location_and_its_facts_plan_across_their_domains() {
    let supergraph = supergraph();
    let prepared = supergraph
        .prepare(
            "{ locations { nodes { name employees { nodes { firstName credentials { kind } } } \
             permits { permitNumber } alerts { message } compliance { status } } } }",
            None,
        )
        .expect("plans");
    let mut subgraphs = prepared.subgraphs().to_vec();
    subgraphs.sort();
    assert_eq!(
        subgraphs,
        vec![
            "alerts",
            "compliance",
            "facilities",
            "locations",
            "workforce"
        ]
    );
}

#[test]
fn node_reaches_any_domain_by_key() {
    let supergraph = supergraph();
    let prepared = supergraph
        .prepare(
            "query($id: ID!) { node(id: $id) { id ... on Alert { message } ... on Employee { firstName } } }",
            None,
        )
        .expect("plans");
    let mut subgraphs = prepared.subgraphs().to_vec();
    subgraphs.sort();
    assert_eq!(subgraphs, vec!["alerts", "tenant", "workforce"]);
}

/// The gateway plans its in-process domains as one subgraph: merged, they
/// compose with the domain that moved out, and the composed API is still
/// the public API.
#[test]
fn the_domains_left_in_process_merge_into_one_subgraph() {
    let rest: Vec<&str> = DOMAINS
        .iter()
        .copied()
        .filter(|d| *d != "workforce")
        .collect();
    let merged = super::merged(&rest).expect("merges");
    let sources = [
        SubgraphSource {
            name: "platform".into(),
            url: "inproc://platform".into(),
            sdl: merged,
        },
        SubgraphSource {
            name: "workforce".into(),
            url: "http://workforce.internal/graphql".into(),
            sdl: super::sdl_of("workforce").expect("a domain").into(),
        },
    ];
    let sdl = compose(&sources).unwrap_or_else(|e| panic!("composes: {e}"));
    let supergraph = Supergraph::new(&sdl).expect("loads");
    assert_eq!(fields(supergraph.api_sdl()), fields(&crate::sdl()));
    let prepared = supergraph
        .prepare(
            "query($id: ID!) { location(id: $id) { name complianceStatus \
             employees(first: 5) { nodes { firstName credentials { kind } } } } }",
            None,
        )
        .expect("plans");
    let mut subgraphs = prepared.subgraphs().to_vec();
    subgraphs.sort();
    assert_eq!(subgraphs, vec!["platform", "workforce"]);
    // one in-process fetch for the location and its status, then the
    // employees by key
    let text = prepared.plan_text();
    assert_eq!(
        text.matches("Fetch(service: \"platform\")").count(),
        1,
        "{text}"
    );
}

/// Two domains apart, the rest merged in process: still the public API.
#[test]
fn several_domains_can_move_out() {
    let apart = ["workforce", "facilities"];
    let rest: Vec<&str> = DOMAINS
        .iter()
        .copied()
        .filter(|d| !apart.contains(d))
        .collect();
    let mut sources = vec![SubgraphSource {
        name: "platform".into(),
        url: "inproc://platform".into(),
        sdl: super::merged(&rest).expect("merges"),
    }];
    sources.extend(apart.iter().map(|d| SubgraphSource {
        name: (*d).into(),
        url: format!("http://{d}.internal/graphql"),
        sdl: super::sdl_of(d).expect("a domain").into(),
    }));
    let sdl = compose(&sources).unwrap_or_else(|e| panic!("composes: {e}"));
    let supergraph = Supergraph::new(&sdl).expect("loads");
    assert_eq!(fields(supergraph.api_sdl()), fields(&crate::sdl()));
    let prepared = supergraph
        .prepare(
            "{ locations { nodes { name permits { permitNumber } employees { totalCount } } } }",
            None,
        )
        .expect("plans");
    let mut subgraphs = prepared.subgraphs().to_vec();
    subgraphs.sort();
    assert_eq!(subgraphs, vec!["facilities", "platform", "workforce"]);
}
