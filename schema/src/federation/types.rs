//! What the executor needs to know of the public (consumer) schema: each
//! field's type with its nullability and list wrapping, which object types
//! an abstract type may be, and which enum values are public.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use graphql_tools::static_graphql::schema::{Definition, Document, Type, TypeDefinition};

/// A field's type: a named type inside any list and non-null wrappers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeRef {
    /// A named type; `true` when non-null.
    Named(String, bool),
    /// A list of the inner type; `true` when non-null.
    List(Box<TypeRef>, bool),
}

impl TypeRef {
    pub(crate) fn from_ast(ty: &Type) -> Self {
        match ty {
            Type::NamedType(n) => TypeRef::Named(n.clone(), false),
            Type::ListType(inner) => TypeRef::List(Box::new(Self::from_ast(inner)), false),
            Type::NonNullType(inner) => match Self::from_ast(inner) {
                TypeRef::Named(n, _) => TypeRef::Named(n, true),
                TypeRef::List(i, _) => TypeRef::List(i, true),
            },
        }
    }

    /// Whether `null` is not allowed here.
    pub fn non_null(&self) -> bool {
        match self {
            TypeRef::Named(_, nn) | TypeRef::List(_, nn) => *nn,
        }
    }

    /// The named type under every wrapper.
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(n, _) => n,
            TypeRef::List(inner, _) => inner.named(),
        }
    }
}

/// The kind of a named type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An object type.
    Object,
    /// An interface.
    Interface,
    /// A union.
    Union,
    /// An enum.
    Enum,
    /// A scalar (built in or custom).
    Scalar,
    /// An input object.
    Input,
}

/// A field of an input object.
#[derive(Clone, Debug)]
pub struct InputField {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: TypeRef,
    /// Whether it has a default (then it may be omitted even if non-null).
    pub has_default: bool,
}

/// The supergraph's types, indexed. Type relations come from the whole
/// supergraph (entities may be inaccessible to clients yet still flow
/// between subgraphs); enum values are restricted to the public ones.
#[derive(Debug, Default)]
pub struct SchemaIndex {
    kinds: HashMap<String, Kind>,
    /// Keyed by type, then field: looked up once per field of every object
    /// the executor projects, so without allocating a compound key.
    fields: HashMap<String, HashMap<String, TypeRef>>,
    possible: HashMap<String, HashSet<String>>,
    enums: HashMap<String, HashSet<String>>,
    inputs: HashMap<String, Vec<InputField>>,
    public: HashSet<String>,
    /// The root operation types.
    pub query: String,
    /// The mutation root, if any.
    pub mutation: Option<String>,
}

impl SchemaIndex {
    /// Indexes the supergraph, then narrows enums to the values the
    /// consumer (public) schema keeps.
    pub fn new(supergraph: &Document, consumer: &Document) -> Self {
        let mut ix = Self::index(supergraph);
        let public = Self::index(consumer);
        ix.enums = public.enums;
        ix.public = public.kinds.into_keys().collect();
        ix
    }

    fn index(doc: &Document) -> Self {
        let mut ix = SchemaIndex {
            query: "Query".into(),
            ..SchemaIndex::default()
        };
        let mut implements: Vec<(String, String)> = Vec::new();
        for def in &doc.definitions {
            match def {
                Definition::SchemaDefinition(s) => {
                    if let Some(q) = &s.query {
                        ix.query = q.clone();
                    }
                    ix.mutation = s.mutation.clone();
                }
                Definition::TypeDefinition(t) => ix.add(t, &mut implements),
                Definition::TypeExtension(_) | Definition::DirectiveDefinition(_) => {}
            }
        }
        if ix.mutation.is_none() && ix.kinds.contains_key("Mutation") {
            ix.mutation = Some("Mutation".into());
        }
        for (object, interface) in implements {
            ix.possible.entry(interface).or_default().insert(object);
        }
        ix
    }

    fn add(&mut self, t: &TypeDefinition, implements: &mut Vec<(String, String)>) {
        match t {
            TypeDefinition::Object(o) => {
                self.kinds.insert(o.name.clone(), Kind::Object);
                for f in &o.fields {
                    self.fields
                        .entry(o.name.clone())
                        .or_default()
                        .insert(f.name.clone(), TypeRef::from_ast(&f.field_type));
                }
                for i in &o.implements_interfaces {
                    implements.push((o.name.clone(), i.clone()));
                }
            }
            TypeDefinition::Interface(i) => {
                self.kinds.insert(i.name.clone(), Kind::Interface);
                for f in &i.fields {
                    self.fields
                        .entry(i.name.clone())
                        .or_default()
                        .insert(f.name.clone(), TypeRef::from_ast(&f.field_type));
                }
                for parent in &i.implements_interfaces {
                    implements.push((i.name.clone(), parent.clone()));
                }
            }
            TypeDefinition::Union(u) => {
                self.kinds.insert(u.name.clone(), Kind::Union);
                self.possible
                    .insert(u.name.clone(), u.types.iter().cloned().collect());
            }
            TypeDefinition::Enum(e) => {
                self.kinds.insert(e.name.clone(), Kind::Enum);
                self.enums.insert(
                    e.name.clone(),
                    e.values.iter().map(|v| v.name.clone()).collect(),
                );
            }
            TypeDefinition::Scalar(s) => {
                self.kinds.insert(s.name.clone(), Kind::Scalar);
            }
            TypeDefinition::InputObject(i) => {
                self.kinds.insert(i.name.clone(), Kind::Input);
                let fields = i
                    .fields
                    .iter()
                    .map(|f| InputField {
                        name: f.name.clone(),
                        ty: TypeRef::from_ast(&f.value_type),
                        has_default: f.default_value.is_some(),
                    })
                    .collect();
                self.inputs.insert(i.name.clone(), fields);
            }
        }
    }

    /// The kind of a named type (built-in scalars included).
    pub fn kind(&self, name: &str) -> Kind {
        match self.kinds.get(name) {
            Some(k) => *k,
            None => Kind::Scalar,
        }
    }

    /// A field's type.
    pub fn field(&self, parent: &str, field: &str) -> Option<&TypeRef> {
        self.fields.get(parent)?.get(field)
    }

    /// Whether a value of the object type `concrete` satisfies the type
    /// condition `condition` (the type itself, an interface it implements
    /// or a union it belongs to, transitively for interfaces).
    pub fn satisfies(&self, concrete: &str, condition: &str) -> bool {
        if concrete == condition {
            return true;
        }
        match self.possible.get(condition) {
            Some(members) => {
                members.contains(concrete)
                    || members
                        .iter()
                        .filter(|m| self.kind(m) == Kind::Interface)
                        .any(|m| self.satisfies(concrete, m))
            }
            None => false,
        }
    }

    /// Whether clients may see the type (it is not `@inaccessible`).
    pub fn is_public(&self, name: &str) -> bool {
        self.public.contains(name)
    }

    /// The fields of an input object.
    pub fn input_fields(&self, name: &str) -> &[InputField] {
        self.inputs.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether `value` is a public value of the enum `name`.
    pub fn enum_has(&self, name: &str, value: &str) -> bool {
        self.enums.get(name).is_some_and(|v| v.contains(value))
    }
}
