//! A tool's argument decoding, planned once from the WIT types: the JSON
//! names, the case, enum and flag lists and the hints of every nested type,
//! so that decoding a call only walks its JSON.

use wasmtime::component::{Type, Val};

use super::json_name;

/// The decoding of one WIT type.
pub(super) enum Node {
    Bool,
    Int {
        name: &'static str,
        fit: fn(i128) -> Option<Val>,
    },
    F32,
    F64,
    Char,
    String,
    List(Box<Node>),
    FixedList(Box<Node>, usize),
    Tuple(Vec<Node>),
    /// A map with string keys: a JSON object.
    StringMap(Box<Node>),
    /// A map with other keys: an array of `[key, value]` pairs.
    PairMap(Box<Node>, Box<Node>),
    Record(Fields),
    Variant(Cases),
    Enum(Names),
    Option {
        inner: Box<Node>,
        /// `option<option<T>>`: the outer `some` is spelled out.
        nested: bool,
    },
    Result(Cases),
    Flags(Names),
    /// Resources, futures, streams: no JSON form (such a function is not a
    /// tool, so this is only reached through [`decode`]).
    Unsupported,
}

impl Node {
    pub(super) fn new(ty: &Type) -> Node {
        match ty {
            Type::Bool => Node::Bool,
            Type::S8 => Node::int("s8", |n| i8::try_from(n).ok().map(Val::S8)),
            Type::U8 => Node::int("u8", |n| u8::try_from(n).ok().map(Val::U8)),
            Type::S16 => Node::int("s16", |n| i16::try_from(n).ok().map(Val::S16)),
            Type::U16 => Node::int("u16", |n| u16::try_from(n).ok().map(Val::U16)),
            Type::S32 => Node::int("s32", |n| i32::try_from(n).ok().map(Val::S32)),
            Type::U32 => Node::int("u32", |n| u32::try_from(n).ok().map(Val::U32)),
            Type::S64 => Node::int("s64", |n| i64::try_from(n).ok().map(Val::S64)),
            Type::U64 => Node::int("u64", |n| u64::try_from(n).ok().map(Val::U64)),
            Type::Float32 => Node::F32,
            Type::Float64 => Node::F64,
            Type::Char => Node::Char,
            Type::String => Node::String,
            Type::List(list) => Node::List(Box::new(Node::new(&list.ty()))),
            Type::FixedLengthList(list) => {
                Node::FixedList(Box::new(Node::new(&list.ty())), list.len() as usize)
            }
            Type::Tuple(tuple) => Node::Tuple(tuple.types().map(|t| Node::new(&t)).collect()),
            Type::Map(map) if map.key() == Type::String => {
                Node::StringMap(Box::new(Node::new(&map.value())))
            }
            Type::Map(map) => Node::PairMap(
                Box::new(Node::new(&map.key())),
                Box::new(Node::new(&map.value())),
            ),
            Type::Record(record) => Node::Record(Fields::new(
                record.fields().map(|f| (f.name, f.ty)),
                "field",
            )),
            Type::Variant(variant) => {
                Node::Variant(Cases::new(variant.cases().map(|c| (c.name, c.ty))))
            }
            Type::Enum(e) => Node::Enum(Names::new(e.names())),
            Type::Option(option) => {
                let inner = option.ty();
                Node::Option {
                    nested: matches!(inner, Type::Option(_)),
                    inner: Box::new(Node::new(&inner)),
                }
            }
            Type::Result(result) => Node::Result(Cases::new(
                [("ok", result.ok()), ("err", result.err())].into_iter(),
            )),
            Type::Flags(flags) => Node::Flags(Names::new(flags.names())),
            Type::Own(_)
            | Type::Borrow(_)
            | Type::Future(_)
            | Type::Stream(_)
            | Type::ErrorContext => Node::Unsupported,
        }
    }

    pub(super) fn int(name: &'static str, fit: fn(i128) -> Option<Val>) -> Node {
        Node::Int { name, fit }
    }
}

/// Record fields or a function's arguments: a JSON object.
pub(super) struct Fields {
    pub(super) list: Vec<Field>,
    /// "argument" or "field", for messages.
    pub(super) what: &'static str,
    /// What an unknown key is told: the expected keys.
    pub(super) expected: String,
}

pub(super) struct Field {
    pub(super) wit: String,
    pub(super) json: String,
    pub(super) node: Node,
    /// An `option` field may be left out.
    pub(super) optional: bool,
}

impl Fields {
    pub(super) fn new<'t>(
        fields: impl Iterator<Item = (&'t str, Type)>,
        what: &'static str,
    ) -> Fields {
        let list: Vec<Field> = fields
            .map(|(wit, ty)| Field {
                wit: wit.to_owned(),
                json: json_name(wit),
                optional: matches!(ty, Type::Option(_)),
                node: Node::new(&ty),
            })
            .collect();
        let expected = if list.is_empty() {
            format!("this takes no {what}s")
        } else {
            let names: Vec<&str> = list.iter().map(|f| f.json.as_str()).collect();
            format!("expected one of: {}", names.join(", "))
        };
        Fields {
            list,
            what,
            expected,
        }
    }
}

/// Variant or result cases: `"case"` or `{"case": payload}`.
pub(super) struct Cases {
    pub(super) list: Vec<Case>,
    /// The cases' JSON names, comma-separated, for messages.
    pub(super) names: String,
}

pub(super) struct Case {
    pub(super) wit: String,
    pub(super) json: String,
    pub(super) payload: Option<Node>,
}

impl Cases {
    pub(super) fn new<'t>(cases: impl Iterator<Item = (&'t str, Option<Type>)>) -> Cases {
        let list: Vec<Case> = cases
            .map(|(wit, ty)| Case {
                wit: wit.to_owned(),
                json: json_name(wit),
                payload: ty.as_ref().map(Node::new),
            })
            .collect();
        let names = list
            .iter()
            .map(|c| c.json.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Cases { list, names }
    }

    pub(super) fn find(&self, json: &str) -> Option<&Case> {
        self.list.iter().find(|c| c.json == json)
    }
}

/// Enum cases or flags: WIT and JSON names.
pub(super) struct Names {
    pub(super) list: Vec<(String, String)>,
    /// The JSON names, comma-separated, for messages.
    pub(super) joined: String,
}

impl Names {
    pub(super) fn new<'t>(names: impl Iterator<Item = &'t str>) -> Names {
        let list: Vec<(String, String)> = names.map(|n| (n.to_owned(), json_name(n))).collect();
        let joined = list
            .iter()
            .map(|(_, j)| j.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Names { list, joined }
    }

    /// The WIT name of the JSON name `json`.
    pub(super) fn find(&self, json: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(_, j)| j == json)
            .map(|(w, _)| w.as_str())
    }
}
