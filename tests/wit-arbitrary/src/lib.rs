//! Arbitrary WIT types, values of them, and JSON close to them: the
//! generators behind the codec's property tests
//! (`runtime/src/wit_json/properties.rs`) and its fuzz target
//! (`fuzz/fuzz_targets/wit_json.rs`).
//!
//! Everything is drawn from an [`arbitrary::Unstructured`], so one set of
//! generators serves both: proptest hands it random bytes (and shrinks them
//! towards fewer and smaller ones, which here means simpler types), libFuzzer
//! hands it its input. A type is drawn as a [`Shape`], written out as a tiny
//! WAT component that imports a function taking it, and compiled by
//! wasmtime ([`Types`]), so the codec sees the same `Type` it sees in
//! production. Values ([`val`]) and JSON ([`near_json`]) are drawn from that
//! `Type`.
//!
//! [`near_json`] does not draw JSON at random: random JSON almost never
//! fits a record of variants, so agreement between a schema and the decoder
//! would only ever be tested on refusals. It draws JSON shaped like the type
//! with a defect here and there (a number just past a bound, a missing
//! field, a case spelled the wrong way), where a schema and a decoder are
//! most likely to disagree.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value, json};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Type, Val};
use wasmtime::{Config, Engine};

/// How deep types nest at most.
pub const MAX_DEPTH: u32 = 4;

/// A WIT type, as drawn; [`Types`] turns it into a wasmtime `Type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// `string`
    String,
    /// `list<T>`
    List(Box<Shape>),
    /// `list<T, N>`
    FixedLengthList(Box<Shape>, u32),
    /// `record { name: T, … }`
    Record(Vec<(String, Shape)>),
    /// `tuple<T, …>`
    Tuple(Vec<Shape>),
    /// `variant { name, name(T), … }`
    Variant(Vec<(String, Option<Shape>)>),
    /// `enum { name, … }`
    Enum(Vec<String>),
    /// `option<T>`
    Option(Box<Shape>),
    /// `result<T, E>`, either side possibly absent
    Result(Option<Box<Shape>>, Option<Box<Shape>>),
    /// `flags { name, … }`
    Flags(Vec<String>),
    /// `map<K, V>`
    Map(Box<Shape>, Box<Shape>),
}

const PRIMITIVES: [Shape; 13] = [
    Shape::Bool,
    Shape::S8,
    Shape::U8,
    Shape::S16,
    Shape::U16,
    Shape::S32,
    Shape::U32,
    Shape::S64,
    Shape::U64,
    Shape::F32,
    Shape::F64,
    Shape::Char,
    Shape::String,
];

/// Words names are made of: kebab-case ones test the snake_case mapping.
const WORDS: [&str; 6] = ["a", "x-pos", "some", "ok", "long-name-here", "b"];

impl Shape {
    /// Draws a shape nesting at most `depth` levels. An exhausted input
    /// draws `bool`, so shrinking an input simplifies its types.
    pub fn arbitrary(u: &mut Unstructured<'_>, depth: u32) -> Result<Shape> {
        let last = if depth == 0 { 12 } else { 12 + 10 };
        let pick: usize = u.int_in_range(0..=last)?;
        if let Some(primitive) = PRIMITIVES.get(pick) {
            return Ok(primitive.clone());
        }
        let inner = |u: &mut Unstructured<'_>| Shape::arbitrary(u, depth - 1).map(Box::new);
        Ok(match pick - PRIMITIVES.len() {
            0 => Shape::List(inner(u)?),
            1 => Shape::FixedLengthList(inner(u)?, u.int_in_range(1..=3)?),
            2 => Shape::Record(
                names(u, 4)?
                    .into_iter()
                    .map(|n| Ok((n, Shape::arbitrary(u, depth - 1)?)))
                    .collect::<Result<_>>()?,
            ),
            3 => Shape::Tuple(
                (0..u.int_in_range(1..=4)?)
                    .map(|_| Shape::arbitrary(u, depth - 1))
                    .collect::<Result<_>>()?,
            ),
            4 => Shape::Variant(
                names(u, 4)?
                    .into_iter()
                    .map(|n| {
                        let payload = if u.arbitrary()? {
                            Some(Shape::arbitrary(u, depth - 1)?)
                        } else {
                            None
                        };
                        Ok((n, payload))
                    })
                    .collect::<Result<_>>()?,
            ),
            5 => Shape::Enum(names(u, 5)?),
            6 => Shape::Option(inner(u)?),
            7 => {
                let ok = if u.arbitrary()? {
                    Some(inner(u)?)
                } else {
                    None
                };
                let err = if u.arbitrary()? {
                    Some(inner(u)?)
                } else {
                    None
                };
                Shape::Result(ok, err)
            }
            8 => Shape::Flags(names(u, 6)?),
            _ => {
                // String keys make JSON objects, others arrays of pairs.
                let key = if u.arbitrary()? {
                    Box::new(Shape::String)
                } else {
                    inner(u)?
                };
                Shape::Map(key, inner(u)?)
            }
        })
    }
}

/// One to `max` distinct kebab-case names.
fn names(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<String>> {
    (0..u.int_in_range(1..=max)?)
        .map(|i| Ok(format!("{}{i}", u.choose(&WORDS)?)))
        .collect()
}

/// Draws a function's parameters: up to `max` of them, named `p0`, `p1`…
pub fn params(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<(String, Shape)>> {
    (0..u.int_in_range(0..=max)?)
        .map(|i| Ok((format!("p{i}"), Shape::arbitrary(u, MAX_DEPTH)?)))
        .collect()
}

/// Compiles shapes into wasmtime `Type`s.
///
/// Compiling a component is most of the cost of a fuzz input, and
/// libFuzzer's mutations mostly keep an input's types, so the types of the
/// last few thousand parameter lists are kept.
pub struct Types {
    engine: Engine,
    seen: Mutex<HashMap<Vec<(String, Shape)>, Params>>,
}

/// Named parameter types, as a compiled component gives them.
type Params = Vec<(String, Type)>;

/// How many parameter lists [`Types`] keeps compiled.
const KEPT: usize = 4096;

impl Default for Types {
    fn default() -> Self {
        Types::new()
    }
}

impl Types {
    /// An engine that accepts every shape, maps and fixed-length lists
    /// included.
    pub fn new() -> Types {
        let mut config = Config::new();
        config
            .wasm_component_model_map(true)
            .wasm_component_model_fixed_length_lists(true);
        let engine = Engine::new(&config).unwrap_or_else(|e| panic!("engine: {e:?}"));
        Types {
            engine,
            seen: Mutex::default(),
        }
    }

    /// The parameters of a function `f` taking `params`, as wasmtime sees
    /// them. An error means a shape this crate should not have drawn.
    pub fn params(
        &self,
        params: &[(String, Shape)],
    ) -> std::result::Result<Vec<(String, Type)>, TypesError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(types) = seen.get(params) {
            return Ok(types.clone());
        }
        let types = self.compile(params)?;
        if seen.len() >= KEPT {
            seen.clear();
        }
        seen.insert(params.to_vec(), types.clone());
        Ok(types)
    }

    fn compile(
        &self,
        params: &[(String, Shape)],
    ) -> std::result::Result<Vec<(String, Type)>, TypesError> {
        let wat = component(params);
        let refused = |reason: String| TypesError {
            reason,
            wat: wat.clone(),
        };
        let bytes = wat::parse_str(&wat).map_err(|e| refused(e.to_string()))?;
        let component =
            Component::new(&self.engine, bytes).map_err(|e| refused(format!("{e:?}")))?;
        match component
            .component_type()
            .get_import(&self.engine, "f")
            .map(|import| import.ty)
        {
            Some(ComponentItem::ComponentFunc(f)) => {
                Ok(f.params().map(|(n, t)| (n.to_owned(), t)).collect())
            }
            other => Err(refused(format!("unexpected import {other:?}"))),
        }
    }
}

/// Drawn shapes that do not make a valid component: a bug in this crate.
#[derive(Debug, thiserror::Error)]
#[error("drawn types do not compile: {reason}\n{wat}")]
pub struct TypesError {
    /// What the WAT parser or wasmtime said.
    pub reason: String,
    /// The component text written for the shapes.
    pub wat: String,
}

/// A component importing `f: func(params…)`. Every compound type is named
/// (imported with an `eq` bound), as the component model requires of
/// records, variants, enums and flags in function types.
pub fn component(params: &[(String, Shape)]) -> String {
    let mut wat = Wat::default();
    let params: Vec<String> = params
        .iter()
        .map(|(name, shape)| format!("(param {name:?} {})", wat.reference(shape)))
        .collect();
    format!(
        "(component\n{}(import \"f\" (func {})))",
        wat.text,
        params.join(" ")
    )
}

#[derive(Default)]
struct Wat {
    text: String,
    next: usize,
}

impl Wat {
    /// How `shape` is written where a value type goes.
    fn reference(&mut self, shape: &Shape) -> String {
        let definition = match shape {
            Shape::Bool => return "bool".into(),
            Shape::S8 => return "s8".into(),
            Shape::U8 => return "u8".into(),
            Shape::S16 => return "s16".into(),
            Shape::U16 => return "u16".into(),
            Shape::S32 => return "s32".into(),
            Shape::U32 => return "u32".into(),
            Shape::S64 => return "s64".into(),
            Shape::U64 => return "u64".into(),
            Shape::F32 => return "f32".into(),
            Shape::F64 => return "f64".into(),
            Shape::Char => return "char".into(),
            Shape::String => return "string".into(),
            Shape::List(t) => format!("(list {})", self.reference(t)),
            Shape::FixedLengthList(t, n) => format!("(list {} {n})", self.reference(t)),
            Shape::Record(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(n, t)| format!("(field {n:?} {})", self.reference(t)))
                    .collect();
                format!("(record {})", fields.join(" "))
            }
            Shape::Tuple(types) => {
                let types: Vec<String> = types.iter().map(|t| self.reference(t)).collect();
                format!("(tuple {})", types.join(" "))
            }
            Shape::Variant(cases) => {
                let cases: Vec<String> = cases
                    .iter()
                    .map(|(n, t)| match t {
                        Some(t) => format!("(case {n:?} {})", self.reference(t)),
                        None => format!("(case {n:?})"),
                    })
                    .collect();
                format!("(variant {})", cases.join(" "))
            }
            Shape::Enum(names) => format!("(enum {})", quoted(names)),
            Shape::Option(t) => format!("(option {})", self.reference(t)),
            Shape::Result(ok, err) => {
                let ok = ok.as_ref().map(|t| self.reference(t)).unwrap_or_default();
                let err = err
                    .as_ref()
                    .map(|t| format!("(error {})", self.reference(t)))
                    .unwrap_or_default();
                format!("(result {ok} {err})")
            }
            Shape::Flags(names) => format!("(flags {})", quoted(names)),
            Shape::Map(k, v) => format!("(map {} {})", self.reference(k), self.reference(v)),
        };
        let i = self.next;
        self.next += 1;
        self.text.push_str(&format!(
            "(type $t{i}-def {definition})\n(import \"t{i}\" (type $t{i} (eq $t{i}-def)))\n"
        ));
        format!("$t{i}")
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most items a drawn list or map has.
const MAX_ITEMS: usize = 3;

/// Draws a value of `ty`. Floats may be NaN or infinite; map keys are
/// distinct, as they are in a JSON object.
pub fn val(u: &mut Unstructured<'_>, ty: &Type) -> Result<Val> {
    Ok(match ty {
        Type::Bool => Val::Bool(u.arbitrary()?),
        Type::S8 => Val::S8(edge_or(u, &[i8::MIN, i8::MAX, 0, -1])?),
        Type::U8 => Val::U8(edge_or(u, &[u8::MAX, 0])?),
        Type::S16 => Val::S16(edge_or(u, &[i16::MIN, i16::MAX, 0])?),
        Type::U16 => Val::U16(edge_or(u, &[u16::MAX, 0])?),
        Type::S32 => Val::S32(edge_or(u, &[i32::MIN, i32::MAX, 0])?),
        Type::U32 => Val::U32(edge_or(u, &[u32::MAX, 0])?),
        Type::S64 => Val::S64(edge_or(u, &[i64::MIN, i64::MAX, 0])?),
        Type::U64 => Val::U64(edge_or(u, &[u64::MAX, 0])?),
        Type::Float32 => Val::Float32(edge_or(
            u,
            &[
                f32::MAX,
                f32::MIN,
                f32::MIN_POSITIVE,
                -0.0,
                0.1,
                f32::NAN,
                f32::INFINITY,
            ],
        )?),
        Type::Float64 => Val::Float64(edge_or(
            u,
            &[
                f64::MAX,
                f64::MIN,
                f64::MIN_POSITIVE,
                5e-324,
                -0.0,
                0.1,
                f64::NEG_INFINITY,
            ],
        )?),
        Type::Char => Val::Char(u.arbitrary()?),
        Type::String => Val::String(u.arbitrary()?),
        Type::List(list) => {
            let n = u.int_in_range(0..=MAX_ITEMS)?;
            let ty = list.ty();
            Val::List((0..n).map(|_| val(u, &ty)).collect::<Result<_>>()?)
        }
        Type::FixedLengthList(list) => {
            let ty = list.ty();
            Val::FixedLengthList(
                (0..list.len())
                    .map(|_| val(u, &ty))
                    .collect::<Result<_>>()?,
            )
        }
        Type::Record(record) => Val::Record(
            record
                .fields()
                .map(|f| Ok((f.name.to_owned(), val(u, &f.ty)?)))
                .collect::<Result<_>>()?,
        ),
        Type::Tuple(tuple) => Val::Tuple(tuple.types().map(|t| val(u, &t)).collect::<Result<_>>()?),
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let case = u.choose(&cases)?;
            let payload = match &case.ty {
                Some(t) => Some(Box::new(val(u, t)?)),
                None => None,
            };
            Val::Variant(case.name.to_owned(), payload)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            Val::Enum((*u.choose(&names)?).to_owned())
        }
        Type::Option(option) => Val::Option(if u.arbitrary()? {
            Some(Box::new(val(u, &option.ty())?))
        } else {
            None
        }),
        Type::Result(result) => {
            let ok: bool = u.arbitrary()?;
            let side = if ok { result.ok() } else { result.err() };
            let payload = match side {
                Some(t) => Some(Box::new(val(u, &t)?)),
                None => None,
            };
            Val::Result(if ok { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let mut set = Vec::new();
            for name in flags.names() {
                if u.arbitrary()? {
                    set.push(name.to_owned());
                }
            }
            Val::Flags(set)
        }
        Type::Map(map) => {
            let (key, value) = (map.key(), map.value());
            let mut pairs: Vec<(Val, Val)> = Vec::new();
            for _ in 0..u.int_in_range(0..=MAX_ITEMS)? {
                let k = val(u, &key)?;
                if !pairs.iter().any(|(seen, _)| *seen == k) {
                    pairs.push((k, val(u, &value)?));
                }
            }
            Val::Map(pairs)
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(arbitrary::Error::IncorrectFormat);
        }
    })
}

/// One of `edges` a quarter of the time, else any value.
fn edge_or<'a, T>(u: &mut Unstructured<'a>, edges: &[T]) -> Result<T>
where
    T: arbitrary::Arbitrary<'a> + Copy,
{
    if u.ratio(1, 4)? {
        Ok(*u.choose(edges)?)
    } else {
        u.arbitrary()
    }
}

/// Whether `val` has a float that is NaN or infinite, anywhere in it.
/// Such values are results only: JSON has no number for them, and the
/// strings they encode to are not arguments.
pub fn has_non_finite(val: &Val) -> bool {
    match val {
        Val::Float32(f) => !f.is_finite(),
        Val::Float64(f) => !f.is_finite(),
        Val::List(items) | Val::FixedLengthList(items) | Val::Tuple(items) => {
            items.iter().any(has_non_finite)
        }
        Val::Record(fields) => fields.iter().any(|(_, v)| has_non_finite(v)),
        Val::Variant(_, Some(v))
        | Val::Option(Some(v))
        | Val::Result(Ok(Some(v)) | Err(Some(v))) => has_non_finite(v),
        Val::Map(pairs) => pairs
            .iter()
            .any(|(k, v)| has_non_finite(k) || has_non_finite(v)),
        _ => false,
    }
}

/// `val` with its map entries in one order (a JSON object does not keep
/// the order of its keys), for comparing values that went through JSON.
pub fn normalized(val: &Val) -> Val {
    let all = |items: &[Val]| items.iter().map(normalized).collect::<Vec<_>>();
    let boxed = |v: &Option<Box<Val>>| v.as_ref().map(|v| Box::new(normalized(v)));
    match val {
        Val::List(items) => Val::List(all(items)),
        Val::FixedLengthList(items) => Val::FixedLengthList(all(items)),
        Val::Tuple(items) => Val::Tuple(all(items)),
        Val::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, v)| (n.clone(), normalized(v)))
                .collect(),
        ),
        Val::Variant(name, payload) => Val::Variant(name.clone(), boxed(payload)),
        Val::Option(v) => Val::Option(boxed(v)),
        Val::Result(Ok(v)) => Val::Result(Ok(boxed(v))),
        Val::Result(Err(v)) => Val::Result(Err(boxed(v))),
        Val::Map(pairs) => {
            let mut pairs: Vec<(Val, Val)> = pairs
                .iter()
                .map(|(k, v)| (normalized(k), normalized(v)))
                .collect();
            pairs.sort_by_key(|(k, _)| format!("{k:?}"));
            Val::Map(pairs)
        }
        other => other.clone(),
    }
}

/// Draws JSON shaped like a value of `ty`, now and then with a defect:
/// a value the decoder should take, or one just outside what it takes.
pub fn near_json(u: &mut Unstructured<'_>, ty: &Type) -> Result<Value> {
    if u.ratio(1, 16)? {
        return stray(u);
    }
    Ok(match ty {
        Type::Bool => Value::Bool(u.arbitrary()?),
        Type::S8 => integer(u, i8::MIN.into(), i8::MAX.into())?,
        Type::U8 => integer(u, 0, u8::MAX.into())?,
        Type::S16 => integer(u, i16::MIN.into(), i16::MAX.into())?,
        Type::U16 => integer(u, 0, u16::MAX.into())?,
        Type::S32 => integer(u, i32::MIN.into(), i32::MAX.into())?,
        Type::U32 => integer(u, 0, u32::MAX.into())?,
        Type::S64 => integer(u, i64::MIN.into(), i64::MAX.into())?,
        Type::U64 => integer(u, 0, u64::MAX.into())?,
        Type::Float32 | Type::Float64 => float(u)?,
        Type::Char => {
            let n = u.choose(&[1, 1, 1, 0, 2])?;
            Value::String(
                (0..*n)
                    .map(|_| u.arbitrary::<char>())
                    .collect::<Result<String>>()?,
            )
        }
        Type::String => Value::String(u.arbitrary()?),
        Type::List(list) => {
            let ty = list.ty();
            Value::Array(
                (0..u.int_in_range(0..=MAX_ITEMS)?)
                    .map(|_| near_json(u, &ty))
                    .collect::<Result<_>>()?,
            )
        }
        Type::FixedLengthList(list) => {
            let ty = list.ty();
            let n = off_by_one(u, list.len() as usize)?;
            Value::Array((0..n).map(|_| near_json(u, &ty)).collect::<Result<_>>()?)
        }
        Type::Tuple(tuple) => {
            let types: Vec<Type> = tuple.types().collect();
            let n = off_by_one(u, types.len())?;
            Value::Array(
                (0..n)
                    .map(|i| match types.get(i) {
                        Some(t) => near_json(u, t),
                        None => stray(u),
                    })
                    .collect::<Result<_>>()?,
            )
        }
        Type::Record(record) => {
            let fields: Vec<(String, Type)> =
                record.fields().map(|f| (f.name.to_owned(), f.ty)).collect();
            near_object(u, &fields)?
        }
        Type::Variant(variant) => {
            let cases: Vec<(String, Option<Type>)> =
                variant.cases().map(|c| (c.name.to_owned(), c.ty)).collect();
            near_case(u, &cases)?
        }
        Type::Enum(e) => {
            let mut names: Vec<String> = e.names().map(json_name).collect();
            names.push("not-a-case".into());
            Value::String(u.choose(&names)?.clone())
        }
        Type::Option(option) => {
            let inner = option.ty();
            match u.int_in_range(0..=3)? {
                0 => Value::Null,
                1 => near_json(u, &inner)?,
                2 => json!({ "some": near_json(u, &inner)? }),
                _ => json!({ "some": near_json(u, &inner)?, "none": null }),
            }
        }
        Type::Result(result) => near_case(
            u,
            &[("ok".into(), result.ok()), ("err".into(), result.err())],
        )?,
        Type::Flags(flags) => {
            let mut names: Vec<String> = flags.names().map(json_name).collect();
            names.push("not-a-flag".into());
            Value::Array(
                (0..u.int_in_range(0..=names.len())?)
                    .map(|_| Ok(Value::String(u.choose(&names)?.clone())))
                    .collect::<Result<_>>()?,
            )
        }
        Type::Map(map) => {
            let (key, value) = (map.key(), map.value());
            let n = u.int_in_range(0..=MAX_ITEMS)?;
            if key == Type::String {
                let mut object = Map::new();
                for _ in 0..n {
                    object.insert(u.arbitrary()?, near_json(u, &value)?);
                }
                Value::Object(object)
            } else {
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let mut pair = vec![near_json(u, &key)?, near_json(u, &value)?];
                    if u.ratio(1, 8)? {
                        pair.pop();
                    }
                    pairs.push(Value::Array(pair));
                }
                Value::Array(pairs)
            }
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            Value::Null
        }
    })
}

/// The arguments object of a call of a function taking `params`, drawn
/// with [`near_json`]; arguments may be left out, and a stray one added.
pub fn near_arguments(u: &mut Unstructured<'_>, params: &[(String, Type)]) -> Result<Value> {
    near_object(u, params)
}

fn near_object(u: &mut Unstructured<'_>, fields: &[(String, Type)]) -> Result<Value> {
    let mut object = Map::new();
    for (name, ty) in fields {
        if !u.ratio(1, 8)? {
            object.insert(json_name(name), near_json(u, ty)?);
        }
    }
    if u.ratio(1, 16)? {
        object.insert("unknown".into(), stray(u)?);
    }
    Ok(Value::Object(object))
}

/// A variant case or a result side: a bare name, a one-key object (with a
/// payload or `null`), or an object with two keys.
fn near_case(u: &mut Unstructured<'_>, cases: &[(String, Option<Type>)]) -> Result<Value> {
    let (name, ty) = u.choose(cases)?;
    let name = json_name(name);
    let payload = |u: &mut Unstructured<'_>| match ty {
        Some(t) if !u.ratio(1, 8)? => near_json(u, t),
        _ => Ok(Value::Null),
    };
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::String(name),
        1 => Value::String("not-a-case".into()),
        2 => {
            let (other, _) = u.choose(cases)?;
            json!({ name: payload(u)?, json_name(other): null })
        }
        _ => json!({ name: payload(u)? }),
    })
}

/// An integer near the bounds `min`..=`max`, or spelled as a float.
fn integer(u: &mut Unstructured<'_>, min: i128, max: i128) -> Result<Value> {
    let n: i128 = match u.int_in_range(0..=7)? {
        0 => min,
        1 => max,
        2 => min - 1,
        3 => max + 1,
        4 => u.arbitrary::<i64>()?.into(),
        5 => u.arbitrary::<u64>()?.into(),
        _ => u.int_in_range(min..=max)?,
    };
    Ok(match u.int_in_range(0..=5)? {
        // The same number as a float: `1.0`, or past 2^53 a rounded one.
        0 => Number::from_f64(n as f64).map_or(Value::Null, Value::Number),
        1 => json!(0.5),
        _ => serde_json::from_str::<Value>(&n.to_string()).unwrap_or_else(|_| json!(n as f64)),
    })
}

/// A number near where floats stop fitting, or any finite one.
fn float(u: &mut Unstructured<'_>) -> Result<Value> {
    const EDGES: [f64; 12] = [
        3.4028235e38,
        3.4028235677973366e38,
        3.4028234663852886e38,
        3.402823466385289e38,
        -3.4028235e38,
        -3.4028236e38,
        1e300,
        -1e300,
        f64::MAX,
        5e-324,
        -0.0,
        1e39,
    ];
    let f = if u.ratio(1, 2)? {
        *u.choose(&EDGES)?
    } else {
        u.arbitrary()?
    };
    Ok(match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => json!(u.arbitrary::<u64>()?),
    })
}

/// `n`, or one less or one more, now and then.
fn off_by_one(u: &mut Unstructured<'_>, n: usize) -> Result<usize> {
    Ok(match u.int_in_range(0..=7)? {
        0 => n.saturating_sub(1),
        1 => n + 1,
        _ => n,
    })
}

/// A JSON value of no particular shape.
fn stray(u: &mut Unstructured<'_>) -> Result<Value> {
    let values = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
        json!({ "some": null }),
    ];
    Ok(u.choose(&values)?.clone())
}

/// The JSON spelling of a WIT name, as the codec writes it.
fn json_name(wit_name: &str) -> String {
    wit_name.replace('-', "_")
}
