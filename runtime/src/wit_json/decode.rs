//! JSON → `Val`, checked against the WIT type before any guest runs.
//!
//! Every problem is reported with the path of the value (`shape.rect.x`,
//! `items[3]`) and the rule it breaks, so a model can fix its call. The
//! decoder keeps going after an error to report all of them at once (up to
//! [`MAX_ERRORS`]).

use std::fmt;

use serde_json::{Map, Value};
use wasmtime::component::{Type, Val};

use super::json_name;
use super::schema::F32_LIMIT;

/// Errors reported for one call at most; the rest are summarised.
pub(super) const MAX_ERRORS: usize = 20;

/// One argument that does not fit its WIT type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// Where the value sits, e.g. `shape.rect.x` or `items[2]`.
    pub path: String,
    /// The rule it breaks, e.g. `5000000000 is out of range for s32`.
    pub message: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Decodes a tool's JSON arguments into the `Val`s of its parameters.
///
/// `params` are the WIT names and types of the function's parameters, in
/// order; `args` is the `arguments` object of the call (absent means `{}`).
pub fn decode(
    params: &[(String, Type)],
    args: Option<&Map<String, Value>>,
) -> Result<Vec<Val>, Vec<ArgError>> {
    let empty = Map::new();
    let mut decoder = Decoder::default();
    let fields = decoder.fields(
        params.iter().map(|(n, t)| (n.as_str(), t)),
        args.unwrap_or(&empty),
        "argument",
    );
    if decoder.errors.is_empty() {
        Ok(fields.into_iter().map(|(_, v)| v).collect())
    } else {
        Err(decoder.errors)
    }
}

#[derive(Default)]
struct Decoder {
    path: Vec<Segment>,
    errors: Vec<ArgError>,
}

enum Segment {
    Key(String),
    Index(usize),
}

impl Decoder {
    fn fail(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS {
            let mut path = String::new();
            for segment in &self.path {
                match segment {
                    Segment::Key(k) if path.is_empty() => path.push_str(k),
                    Segment::Key(k) => {
                        path.push('.');
                        path.push_str(k);
                    }
                    Segment::Index(i) => path.push_str(&format!("[{i}]")),
                }
            }
            self.errors.push(ArgError { path, message });
        }
    }

    fn at<R>(&mut self, segment: Segment, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment);
        let r = f(self);
        self.path.pop();
        r
    }

    /// Decodes an object whose keys are `fields` (record fields or
    /// arguments); missing `option` fields are `none`. Returns the fields
    /// that decoded, with their WIT names.
    fn fields<'t>(
        &mut self,
        fields: impl Iterator<Item = (&'t str, &'t Type)> + Clone,
        object: &Map<String, Value>,
        what: &str,
    ) -> Vec<(String, Val)> {
        let mut out = Vec::new();
        for (wit_name, ty) in fields.clone() {
            let name = json_name(wit_name);
            match object.get(&name) {
                Some(value) => {
                    if let Some(v) = self.at(Segment::Key(name), |d| d.value(ty, value)) {
                        out.push((wit_name.to_owned(), v));
                    }
                }
                None if matches!(ty, Type::Option(_)) => {
                    out.push((wit_name.to_owned(), Val::Option(None)))
                }
                None => self.at(Segment::Key(name), |d| {
                    d.fail(format!("missing required {what}"))
                }),
            }
        }
        for key in object.keys() {
            if !fields.clone().any(|(n, _)| json_name(n) == *key) {
                let expected: Vec<String> = fields.clone().map(|(n, _)| json_name(n)).collect();
                let expected = if expected.is_empty() {
                    format!("this takes no {what}s")
                } else {
                    format!("expected one of: {}", expected.join(", "))
                };
                self.at(Segment::Key(key.clone()), |d| {
                    d.fail(format!("unknown {what} ({expected})"))
                });
            }
        }
        out
    }

    fn value(&mut self, ty: &Type, value: &Value) -> Option<Val> {
        match ty {
            Type::Bool => match value {
                Value::Bool(b) => Some(Val::Bool(*b)),
                other => self.mismatch("a boolean", other),
            },
            Type::S8 => self.int(value, "s8", |n| i8::try_from(n).ok().map(Val::S8)),
            Type::U8 => self.int(value, "u8", |n| u8::try_from(n).ok().map(Val::U8)),
            Type::S16 => self.int(value, "s16", |n| i16::try_from(n).ok().map(Val::S16)),
            Type::U16 => self.int(value, "u16", |n| u16::try_from(n).ok().map(Val::U16)),
            Type::S32 => self.int(value, "s32", |n| i32::try_from(n).ok().map(Val::S32)),
            Type::U32 => self.int(value, "u32", |n| u32::try_from(n).ok().map(Val::U32)),
            Type::S64 => self.int(value, "s64", |n| i64::try_from(n).ok().map(Val::S64)),
            Type::U64 => self.int(value, "u64", |n| u64::try_from(n).ok().map(Val::U64)),
            Type::Float32 => {
                let f = self.float(value)?;
                if f.abs() > F32_LIMIT {
                    return self.fail_none(format!("{f:e} is out of range for f32"));
                }
                Some(Val::Float32(f as f32))
            }
            Type::Float64 => self.float(value).map(Val::Float64),
            Type::Char => match value {
                Value::String(s) => {
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Some(Val::Char(c)),
                        _ => self.fail_none(format!(
                            "expected exactly one character, got a string of {} characters",
                            s.chars().count()
                        )),
                    }
                }
                other => self.mismatch("a one-character string", other),
            },
            Type::String => match value {
                Value::String(s) => Some(Val::String(s.clone())),
                other => self.mismatch("a string", other),
            },
            Type::List(list) => {
                let items = self.array(value, None)?;
                let ty = list.ty();
                self.items(items, |_| &ty).map(Val::List)
            }
            Type::FixedLengthList(list) => {
                let items = self.array(value, Some(list.len() as usize))?;
                let ty = list.ty();
                self.items(items, |_| &ty).map(Val::FixedLengthList)
            }
            Type::Tuple(tuple) => {
                let types: Vec<Type> = tuple.types().collect();
                let items = self.array(value, Some(types.len()))?;
                self.items(items, |i| &types[i]).map(Val::Tuple)
            }
            Type::Map(map) => self.map(&map.key(), &map.value(), value),
            Type::Record(record) => {
                let object = self.object(value)?;
                let fields: Vec<(String, Type)> =
                    record.fields().map(|f| (f.name.to_owned(), f.ty)).collect();
                let before = self.errors.len();
                let decoded =
                    self.fields(fields.iter().map(|(n, t)| (n.as_str(), t)), object, "field");
                (self.errors.len() == before).then_some(Val::Record(decoded))
            }
            Type::Variant(variant) => {
                let cases: Vec<(String, Option<Type>)> =
                    variant.cases().map(|c| (c.name.to_owned(), c.ty)).collect();
                let (name, payload) = self.case(&cases, value)?;
                Some(Val::Variant(name, payload.map(Box::new)))
            }
            Type::Enum(e) => {
                let names: Vec<&str> = e.names().collect();
                match value {
                    Value::String(s) => match names.iter().find(|n| json_name(n) == *s) {
                        Some(n) => Some(Val::Enum((*n).to_owned())),
                        None => self.fail_none(format!("{s:?} is not one of: {}", list(&names))),
                    },
                    other => self.mismatch(&format!("one of: {}", list(&names)), other),
                }
            }
            Type::Option(option) => {
                let inner = option.ty();
                match value {
                    Value::Null => Some(Val::Option(None)),
                    Value::Object(o) if matches!(inner, Type::Option(_)) => {
                        match (o.get("some"), o.len()) {
                            (Some(v), 1) => {
                                let v =
                                    self.at(Segment::Key("some".into()), |d| d.value(&inner, v))?;
                                Some(Val::Option(Some(Box::new(v))))
                            }
                            _ => self.fail_none("expected null or {\"some\": value}".into()),
                        }
                    }
                    v if matches!(inner, Type::Option(_)) => {
                        self.mismatch("null or {\"some\": value}", v)
                    }
                    v => Some(Val::Option(Some(Box::new(self.value(&inner, v)?)))),
                }
            }
            Type::Result(result) => {
                let cases = [
                    ("ok".to_owned(), result.ok()),
                    ("err".to_owned(), result.err()),
                ];
                let (name, payload) = self.tagged(&cases, value)?;
                let payload = payload.map(Box::new);
                Some(Val::Result(if name == "ok" {
                    Ok(payload)
                } else {
                    Err(payload)
                }))
            }
            Type::Flags(flags) => {
                let names: Vec<&str> = flags.names().collect();
                let items = self.array(value, None)?;
                let mut set = Vec::new();
                let before = self.errors.len();
                for (i, item) in items.iter().enumerate() {
                    match item
                        .as_str()
                        .and_then(|s| names.iter().find(|n| json_name(n) == s))
                    {
                        Some(n) if set.contains(&(*n).to_owned()) => self
                            .at(Segment::Index(i), |d| {
                                d.fail(format!("flag {:?} is given twice", json_name(n)))
                            }),
                        Some(n) => set.push((*n).to_owned()),
                        None => self.at(Segment::Index(i), |d| {
                            d.fail(format!(
                                "{item} is not a flag; expected one of: {}",
                                list(&names)
                            ))
                        }),
                    }
                }
                (self.errors.len() == before).then_some(Val::Flags(set))
            }
            Type::Own(_)
            | Type::Borrow(_)
            | Type::Future(_)
            | Type::Stream(_)
            | Type::ErrorContext => self.fail_none("this type cannot be passed as JSON".into()),
        }
    }

    fn fail_none<T>(&mut self, message: String) -> Option<T> {
        self.fail(message);
        None
    }

    fn mismatch<T>(&mut self, expected: &str, got: &Value) -> Option<T> {
        self.fail_none(format!("expected {expected}, got {}", describe(got)))
    }

    fn int(&mut self, value: &Value, ty: &str, fit: impl Fn(i128) -> Option<Val>) -> Option<Val> {
        let Value::Number(n) = value else {
            return self.mismatch(&format!("an integer ({ty})"), value);
        };
        // JSON Schema's "integer" is any number without a fraction, `1.0`
        // and `1e3` too; serde_json reads those (and integers beyond 64
        // bits) as floats. A float without a fraction converts to i128
        // exactly below 2^127, and saturates above, out of every range.
        let wide = n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128));
        match wide {
            Some(w) => match fit(w) {
                Some(v) => Some(v),
                None => self.fail_none(format!("{n} is out of range for {ty}")),
            },
            None => self.fail_none(format!("expected an integer ({ty}), got {n}")),
        }
    }

    fn float(&mut self, value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            other => self.mismatch("a number", other),
        }
    }

    fn array<'v>(&mut self, value: &'v Value, len: Option<usize>) -> Option<&'v [Value]> {
        match (value, len) {
            (Value::Array(a), Some(n)) if a.len() != n => self.fail_none(format!(
                "expected an array of exactly {n} items, got {}",
                a.len()
            )),
            (Value::Array(a), _) => Some(a),
            (other, _) => self.mismatch("an array", other),
        }
    }

    fn items<'t>(&mut self, items: &[Value], ty: impl Fn(usize) -> &'t Type) -> Option<Vec<Val>> {
        let before = self.errors.len();
        let vals: Vec<Option<Val>> = items
            .iter()
            .enumerate()
            .map(|(i, v)| self.at(Segment::Index(i), |d| d.value(ty(i), v)))
            .collect();
        if self.errors.len() == before {
            vals.into_iter().collect()
        } else {
            None
        }
    }

    fn object<'v>(&mut self, value: &'v Value) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(o) => Some(o),
            other => self.mismatch("an object", other),
        }
    }

    fn map(&mut self, key: &Type, value_ty: &Type, value: &Value) -> Option<Val> {
        let before = self.errors.len();
        let mut pairs = Vec::new();
        if *key == Type::String {
            for (k, v) in self.object(value)? {
                if let Some(v) = self.at(Segment::Key(k.clone()), |d| d.value(value_ty, v)) {
                    pairs.push((Val::String(k.clone()), v));
                }
            }
        } else {
            for (i, pair) in self.array(value, None)?.iter().enumerate() {
                self.at(Segment::Index(i), |d| {
                    let pair = d.array(pair, Some(2))?;
                    let k = d.at(Segment::Index(0), |d| d.value(key, &pair[0]));
                    let v = d.at(Segment::Index(1), |d| d.value(value_ty, &pair[1]));
                    pairs.push((k?, v?));
                    Some(())
                });
            }
        }
        (self.errors.len() == before).then_some(Val::Map(pairs))
    }

    /// A variant value: `"case"` or `{"case": payload}`.
    fn case(
        &mut self,
        cases: &[(String, Option<Type>)],
        value: &Value,
    ) -> Option<(String, Option<Val>)> {
        if let Value::String(s) = value {
            return match cases.iter().find(|(n, _)| json_name(n) == *s) {
                Some((n, None)) => Some((n.clone(), None)),
                Some((_, Some(_))) => {
                    self.fail_none(format!("case {s:?} needs a payload: write {{{s:?}: …}}"))
                }
                None => self.fail_none(format!(
                    "{s:?} is not a case; expected one of: {}",
                    case_list(cases)
                )),
            };
        }
        // A case without a payload has one spelling, its name; the schema
        // lists no `{"case": null}` for it.
        if let Value::Object(o) = value
            && let (Some((key, _)), 1) = (o.iter().next(), o.len())
            && let Some((_, None)) = cases.iter().find(|(n, _)| json_name(n) == *key)
        {
            return self.fail_none(format!(
                "case {key:?} takes no payload: write it as the string {key:?}"
            ));
        }
        self.tagged(cases, value)
    }

    /// A single-key object naming one of `cases`.
    fn tagged(
        &mut self,
        cases: &[(String, Option<Type>)],
        value: &Value,
    ) -> Option<(String, Option<Val>)> {
        let Value::Object(o) = value else {
            return self.mismatch(
                &format!("an object with one key of: {}", case_list(cases)),
                value,
            );
        };
        let mut entries = o.iter();
        let (Some((key, payload)), None) = (entries.next(), entries.next()) else {
            return self.fail_none(format!(
                "expected an object with exactly one key, one of: {}",
                case_list(cases)
            ));
        };
        let Some((name, ty)) = cases.iter().find(|(n, _)| json_name(n) == *key) else {
            return self.fail_none(format!(
                "{key:?} is not a case; expected one of: {}",
                case_list(cases)
            ));
        };
        match ty {
            Some(ty) => {
                let v = self.at(Segment::Key(key.clone()), |d| d.value(ty, payload))?;
                Some((name.clone(), Some(v)))
            }
            None if payload.is_null() => Some((name.clone(), None)),
            None => self.at(Segment::Key(key.clone()), |d| {
                d.fail_none(format!("case {key:?} takes no payload: expected null"))
            }),
        }
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| json_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn case_list(cases: &[(String, Option<Type>)]) -> String {
    cases
        .iter()
        .map(|(n, _)| json_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("a string of {} characters", s.chars().count())
        }
        Value::String(s) => format!("string {s:?}"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".into(),
    }
}
