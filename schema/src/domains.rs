//! The domains as federation subgraphs: each domain's SDL, cut from the
//! one executable subgraph schema by who owns what
//! ([`prep_resolvers::domains`]).
//!
//! A domain's SDL holds the root fields and entity fields it owns, every
//! entity it reaches as a key-only stub (`id`, `@key`), and every value
//! type, input, enum and scalar it reaches, whole. A value object type two
//! domains reach is `@shareable` in both. An interface reached as a field's
//! type brings all its implementations (as stubs, if they are entities), so
//! the domain answering `node(id:)` knows every `Node` by its key alone.
//!
//! All domains run on one executable schema, so whatever a plan asks one
//! of them in process the schema can answer; the cut decides what each
//! domain publishes, and so what a domain served on its own must answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use graphql_tools::parser::schema::{
    parse_schema, Definition, Directive, Document, Field, Type, TypeDefinition,
};
use graphql_tools::parser::Pos;
use prep_resolvers::domains::{owner, DOMAINS};

mod contract;
pub use contract::{Contract, Refusal};

/// One domain's subgraph.
#[derive(Clone, Debug)]
pub struct DomainSdl {
    /// The domain, and its subgraph's name.
    pub name: &'static str,
    /// Its Federation v2 SDL.
    pub sdl: String,
}

/// Every domain's SDL, cut once per process.
pub fn sdls() -> &'static [DomainSdl] {
    static SDLS: OnceLock<Vec<DomainSdl>> = OnceLock::new();
    SDLS.get_or_init(|| split(full()).unwrap_or_else(|e| panic!("the domains cannot be cut: {e}")))
}

/// One domain's SDL, if `name` is a domain.
pub fn sdl_of(name: &str) -> Option<&'static str> {
    sdls()
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.sdl.as_str())
}

type Doc = Document<'static, String>;

/// What one domain publishes.
#[derive(Default)]
struct Reach<'d> {
    /// Every type it names.
    types: BTreeSet<&'d str>,
    /// The fields it publishes of the roots and of entities.
    owned: BTreeMap<&'d str, BTreeSet<&'d str>>,
}

/// The executable subgraph's SDL, printed once per process.
fn full() -> &'static str {
    static FULL: OnceLock<String> = OnceLock::new();
    FULL.get_or_init(crate::subgraph_sdl)
}

/// Cuts the full federation SDL into one SDL per domain.
fn split(full: &str) -> Result<Vec<DomainSdl>, String> {
    let groups: Vec<&[&'static str]> = DOMAINS.iter().map(std::slice::from_ref).collect();
    let sdls = cut(full, &groups)?;
    Ok(DOMAINS
        .iter()
        .zip(sdls)
        .map(|(name, sdl)| DomainSdl { name, sdl })
        .collect())
}

/// The SDL of several domains published as one subgraph: what the gateway
/// plans its in-process domains as (ADR 0013), since one schema answers
/// them all in one call and a plan step between two of them would buy
/// nothing.
pub fn merged(domains: &[&str]) -> Result<String, String> {
    cut(full(), &[domains])?
        .pop()
        .ok_or_else(|| "no domains to merge".into())
}

/// One SDL per group of domains, each group published as one subgraph.
/// A value type two domains reach is `@shareable` whichever way they are
/// grouped, so any grouping composes with any other.
fn cut(full: &str, groups: &[&[&str]]) -> Result<Vec<String>, String> {
    // The parser knows no `extend schema`: the link is kept as text.
    let at = full
        .find("extend schema @link(")
        .ok_or("the subgraph SDL has no federation @link")?;
    let (types, link) = full.split_at(at);
    let doc: Doc = parse_schema::<String>(types)
        .map_err(|e| format!("the subgraph SDL does not parse: {e}"))?
        .into_static();
    let index = Index::new(&doc);

    let mut reached_by: HashMap<&str, usize> = HashMap::new();
    for domain in DOMAINS {
        for ty in index.reach(&[domain]).types {
            *reached_by.entry(ty).or_default() += 1;
        }
    }
    let shared = |ty: &str| reached_by.get(ty).copied().unwrap_or(0) > 1;

    Ok(groups
        .iter()
        .map(|group| {
            let reach = index.reach(group);
            let mut out = doc.clone();
            out.definitions
                .retain_mut(|def| index.keep(def, &reach, &shared));
            format!("{out}\n{link}")
        })
        .collect())
}

/// The full schema's types by name.
struct Index<'d> {
    types: HashMap<&'d str, &'d TypeDefinition<'static, String>>,
    /// Object types keyed by `@key`.
    entities: BTreeSet<&'d str>,
    /// The object types implementing each interface.
    implementations: HashMap<&'d str, Vec<&'d str>>,
}

impl<'d> Index<'d> {
    fn new(doc: &'d Doc) -> Self {
        let mut index = Self {
            types: HashMap::new(),
            entities: BTreeSet::new(),
            implementations: HashMap::new(),
        };
        for def in &doc.definitions {
            let Definition::TypeDefinition(ty) = def else {
                continue;
            };
            index.types.insert(type_name(ty), ty);
            if let TypeDefinition::Object(o) = ty {
                if o.directives.iter().any(|d| d.name == "key") {
                    index.entities.insert(&o.name);
                }
                for i in &o.implements_interfaces {
                    index.implementations.entry(i).or_default().push(&o.name);
                }
            }
        }
        index
    }

    fn is_owned_by_field(&self, ty: &str) -> bool {
        matches!(ty, "Query" | "Mutation") || self.entities.contains(ty)
    }

    /// Everything `domains` publish: their own fields and what they reach.
    fn reach(&self, domains: &[&str]) -> Reach<'d> {
        let mut reach = Reach::default();
        // (a type to publish, whether it is a field's type: an interface
        // there may answer any of its implementations)
        let mut todo: Vec<(&'d str, bool)> = Vec::new();
        // interfaces whose implementations were brought in
        let mut expanded: BTreeSet<&'d str> = BTreeSet::new();
        for (name, ty) in &self.types {
            let TypeDefinition::Object(o) = ty else {
                continue;
            };
            if !self.is_owned_by_field(name) {
                continue;
            }
            for f in o
                .fields
                .iter()
                .filter(|f| owner(name, &f.name).is_some_and(|o| domains.contains(&o)))
            {
                reach.owned.entry(name).or_default().insert(&f.name);
                reach.types.insert(name);
                push_field(&mut todo, f);
                if self.entities.contains(name) {
                    // the key, whoever owns it: the router enters by it
                    reach.owned.entry(name).or_default().insert("id");
                    todo.extend(o.implements_interfaces.iter().map(|i| (i.as_str(), false)));
                }
            }
        }
        while let Some((name, as_field_type)) = todo.pop() {
            let Some(ty) = self.types.get(name) else {
                continue; // a built-in scalar
            };
            let first = reach.types.insert(name);
            match ty {
                TypeDefinition::Object(o) if self.entities.contains(name) => {
                    // reached by key: its owner publishes the rest
                    reach.owned.entry(name).or_default().insert("id");
                    if first {
                        todo.extend(o.implements_interfaces.iter().map(|i| (i.as_str(), false)));
                    }
                }
                TypeDefinition::Object(o) if first => {
                    o.fields.iter().for_each(|f| push_field(&mut todo, f));
                    todo.extend(o.implements_interfaces.iter().map(|i| (i.as_str(), false)));
                }
                TypeDefinition::Interface(i) => {
                    if first {
                        i.fields.iter().for_each(|f| push_field(&mut todo, f));
                    }
                    // an abstract field type may answer any implementation
                    if as_field_type && expanded.insert(name) {
                        let all = self.implementations.get(name).into_iter().flatten();
                        todo.extend(all.map(|o| (*o, false)));
                    }
                }
                TypeDefinition::Union(u) if first => {
                    todo.extend(u.types.iter().map(|t| (t.as_str(), false)));
                }
                TypeDefinition::InputObject(i) if first => {
                    todo.extend(i.fields.iter().map(|f| (named(&f.value_type), false)));
                }
                _ => {}
            }
        }
        reach
    }

    /// Whether a definition belongs in the domain's SDL, trimmed to it.
    fn keep(
        &self,
        def: &mut Definition<'static, String>,
        reach: &Reach<'_>,
        shared: &dyn Fn(&str) -> bool,
    ) -> bool {
        let Definition::TypeDefinition(ty) = def else {
            return true;
        };
        let name = type_name(ty).to_owned();
        if !reach.types.contains(name.as_str()) {
            return false;
        }
        let TypeDefinition::Object(o) = ty else {
            return true;
        };
        if self.is_owned_by_field(&name) {
            let owned = reach.owned.get(name.as_str());
            o.fields
                .retain(|f| owned.is_some_and(|fields| fields.contains(f.name.as_str())));
            return !o.fields.is_empty();
        }
        if shared(&name) && !o.directives.iter().any(|d| d.name == "shareable") {
            o.directives.push(Directive {
                position: Pos::default(),
                name: "shareable".into(),
                arguments: Vec::new(),
            });
        }
        true
    }
}

fn push_field<'d>(todo: &mut Vec<(&'d str, bool)>, f: &'d Field<'static, String>) {
    todo.push((named(&f.field_type), true));
    todo.extend(f.arguments.iter().map(|a| (named(&a.value_type), false)));
}

fn named<'d>(ty: &'d Type<'static, String>) -> &'d str {
    match ty {
        Type::NamedType(n) => n,
        Type::ListType(t) | Type::NonNullType(t) => named(t),
    }
}

fn type_name<'d>(ty: &'d TypeDefinition<'static, String>) -> &'d str {
    match ty {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

#[cfg(test)]
mod tests;
