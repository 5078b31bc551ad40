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
use super::plan::{Case, Cases, Fields, Node};
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

/// A tool's arguments, planned once from its parameters' WIT types: the
/// JSON names, case and flag lists, and the hints of every nested type are
/// computed here, so a call only walks its JSON.
pub struct Arguments {
    fields: Fields,
}

impl Arguments {
    /// Plans the decoding of `params`, the WIT names and types of a
    /// function's parameters, in order.
    pub fn new(params: &[(String, Type)]) -> Arguments {
        Arguments {
            fields: Fields::new(
                params.iter().map(|(n, t)| (n.as_str(), t.clone())),
                "argument",
            ),
        }
    }

    /// Decodes a call's `arguments` object (absent means `{}`) into the
    /// `Val`s of the parameters, or every problem found (up to
    /// 20).
    pub fn decode(&self, args: Option<&Map<String, Value>>) -> Result<Vec<Val>, Vec<ArgError>> {
        let empty = Map::new();
        let mut decoder = Decoder::default();
        let fields = decoder.fields(&self.fields, args.unwrap_or(&empty));
        if decoder.errors.is_empty() {
            Ok(fields.into_iter().map(|(_, v)| v).collect())
        } else {
            Err(decoder.errors)
        }
    }
}

/// Decodes a tool's JSON arguments into the `Val`s of its parameters,
/// planning them first; a tool plans once with [`Arguments`] instead.
///
/// `params` are the WIT names and types of the function's parameters, in
/// order; `args` is the `arguments` object of the call (absent means `{}`).
pub fn decode(
    params: &[(String, Type)],
    args: Option<&Map<String, Value>>,
) -> Result<Vec<Val>, Vec<ArgError>> {
    Arguments::new(params).decode(args)
}

#[derive(Default)]
struct Decoder<'a> {
    path: Vec<Segment<'a>>,
    errors: Vec<ArgError>,
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Decoder<'a> {
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

    fn at<R>(&mut self, segment: Segment<'a>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment);
        let r = f(self);
        self.path.pop();
        r
    }

    /// Decodes an object whose keys are `fields` (record fields or
    /// arguments); missing `option` fields are `none`. Returns the fields
    /// that decoded, with their WIT names.
    fn fields(&mut self, fields: &'a Fields, object: &'a Map<String, Value>) -> Vec<(String, Val)> {
        let mut out = Vec::with_capacity(fields.list.len());
        let mut present = 0;
        for field in &fields.list {
            match object.get(&field.json) {
                Some(value) => {
                    present += 1;
                    if let Some(v) =
                        self.at(Segment::Key(&field.json), |d| d.value(&field.node, value))
                    {
                        out.push((field.wit.clone(), v));
                    }
                }
                None if field.optional => out.push((field.wit.clone(), Val::Option(None))),
                None => self.at(Segment::Key(&field.json), |d| {
                    d.fail(format!("missing required {}", fields.what))
                }),
            }
        }
        // Every key matched a field unless there are more keys than matches.
        if present < object.len() {
            for key in object.keys() {
                if !fields.list.iter().any(|f| f.json == *key) {
                    self.at(Segment::Key(key), |d| {
                        d.fail(format!("unknown {} ({})", fields.what, fields.expected))
                    });
                }
            }
        }
        out
    }

    fn value(&mut self, node: &'a Node, value: &'a Value) -> Option<Val> {
        match node {
            Node::Bool => match value {
                Value::Bool(b) => Some(Val::Bool(*b)),
                other => self.mismatch("a boolean", other),
            },
            Node::Int { name, fit } => self.int(value, name, *fit),
            Node::F32 => {
                let f = self.float(value)?;
                if f.abs() > F32_LIMIT {
                    return self.fail_none(format!("{f:e} is out of range for f32"));
                }
                Some(Val::Float32(f as f32))
            }
            Node::F64 => self.float(value).map(Val::Float64),
            Node::Char => match value {
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
            Node::String => match value {
                Value::String(s) => Some(Val::String(s.clone())),
                other => self.mismatch("a string", other),
            },
            Node::List(item) => {
                let items = self.array(value, None)?;
                self.items(items, |_| item).map(Val::List)
            }
            Node::FixedList(item, len) => {
                let items = self.array(value, Some(*len))?;
                self.items(items, |_| item).map(Val::FixedLengthList)
            }
            Node::Tuple(nodes) => {
                let items = self.array(value, Some(nodes.len()))?;
                self.items(items, |i| &nodes[i]).map(Val::Tuple)
            }
            Node::StringMap(item) => self.string_map(item, value),
            Node::PairMap(key, item) => self.pair_map(key, item, value),
            Node::Record(fields) => {
                let object = self.object(value)?;
                let before = self.errors.len();
                let decoded = self.fields(fields, object);
                (self.errors.len() == before).then_some(Val::Record(decoded))
            }
            Node::Variant(cases) => {
                let (case, payload) = self.case(cases, value)?;
                Some(Val::Variant(case.wit.clone(), payload.map(Box::new)))
            }
            Node::Enum(names) => match value {
                Value::String(s) => match names.find(s) {
                    Some(wit) => Some(Val::Enum(wit.to_owned())),
                    None => self.fail_none(format!("{s:?} is not one of: {}", names.joined)),
                },
                other => self.mismatch(&format!("one of: {}", names.joined), other),
            },
            Node::Option { inner, nested } => match value {
                Value::Null => Some(Val::Option(None)),
                Value::Object(o) if *nested => match (o.get("some"), o.len()) {
                    (Some(v), 1) => {
                        let v = self.at(Segment::Key("some"), |d| d.value(inner, v))?;
                        Some(Val::Option(Some(Box::new(v))))
                    }
                    _ => self.fail_none("expected null or {\"some\": value}".into()),
                },
                v if *nested => self.mismatch("null or {\"some\": value}", v),
                v => Some(Val::Option(Some(Box::new(self.value(inner, v)?)))),
            },
            Node::Result(cases) => {
                let (case, payload) = self.tagged(cases, value)?;
                let payload = payload.map(Box::new);
                // Cases are planned as [ok, err].
                Some(Val::Result(if std::ptr::eq(case, &cases.list[0]) {
                    Ok(payload)
                } else {
                    Err(payload)
                }))
            }
            Node::Flags(names) => {
                let items = self.array(value, None)?;
                let mut set: Vec<String> = Vec::new();
                let before = self.errors.len();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().and_then(|s| names.find(s)) {
                        Some(wit) if set.iter().any(|n| n == wit) => self
                            .at(Segment::Index(i), |d| {
                                d.fail(format!("flag {:?} is given twice", json_name(wit)))
                            }),
                        Some(wit) => set.push(wit.to_owned()),
                        None => self.at(Segment::Index(i), |d| {
                            d.fail(format!(
                                "{item} is not a flag; expected one of: {}",
                                names.joined
                            ))
                        }),
                    }
                }
                (self.errors.len() == before).then_some(Val::Flags(set))
            }
            Node::Unsupported => self.fail_none("this type cannot be passed as JSON".into()),
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

    fn array(&mut self, value: &'a Value, len: Option<usize>) -> Option<&'a [Value]> {
        match (value, len) {
            (Value::Array(a), Some(n)) if a.len() != n => self.fail_none(format!(
                "expected an array of exactly {n} items, got {}",
                a.len()
            )),
            (Value::Array(a), _) => Some(a),
            (other, _) => self.mismatch("an array", other),
        }
    }

    fn items(&mut self, items: &'a [Value], node: impl Fn(usize) -> &'a Node) -> Option<Vec<Val>> {
        let before = self.errors.len();
        let vals: Vec<Option<Val>> = items
            .iter()
            .enumerate()
            .map(|(i, v)| self.at(Segment::Index(i), |d| d.value(node(i), v)))
            .collect();
        if self.errors.len() == before {
            vals.into_iter().collect()
        } else {
            None
        }
    }

    fn object(&mut self, value: &'a Value) -> Option<&'a Map<String, Value>> {
        match value {
            Value::Object(o) => Some(o),
            other => self.mismatch("an object", other),
        }
    }

    /// A map with string keys, as a JSON object.
    fn string_map(&mut self, item: &'a Node, value: &'a Value) -> Option<Val> {
        let before = self.errors.len();
        let mut pairs = Vec::new();
        for (k, v) in self.object(value)? {
            if let Some(v) = self.at(Segment::Key(k), |d| d.value(item, v)) {
                pairs.push((Val::String(k.clone()), v));
            }
        }
        (self.errors.len() == before).then_some(Val::Map(pairs))
    }

    /// A map with other keys, as an array of `[key, value]` pairs.
    fn pair_map(&mut self, key: &'a Node, item: &'a Node, value: &'a Value) -> Option<Val> {
        let before = self.errors.len();
        let mut pairs = Vec::new();
        for (i, pair) in self.array(value, None)?.iter().enumerate() {
            self.at(Segment::Index(i), |d| {
                let pair = d.array(pair, Some(2))?;
                let k = d.at(Segment::Index(0), |d| d.value(key, &pair[0]));
                let v = d.at(Segment::Index(1), |d| d.value(item, &pair[1]));
                pairs.push((k?, v?));
                Some(())
            });
        }
        (self.errors.len() == before).then_some(Val::Map(pairs))
    }

    /// A variant value: `"case"` or `{"case": payload}`.
    fn case(&mut self, cases: &'a Cases, value: &'a Value) -> Option<(&'a Case, Option<Val>)> {
        if let Value::String(s) = value {
            return match cases.find(s) {
                Some(case) if case.payload.is_none() => Some((case, None)),
                Some(_) => {
                    self.fail_none(format!("case {s:?} needs a payload: write {{{s:?}: …}}"))
                }
                None => self.fail_none(format!(
                    "{s:?} is not a case; expected one of: {}",
                    cases.names
                )),
            };
        }
        // A case without a payload has one spelling, its name; the schema
        // lists no `{"case": null}` for it.
        if let Value::Object(o) = value
            && let (Some((key, _)), 1) = (o.iter().next(), o.len())
            && cases.find(key).is_some_and(|c| c.payload.is_none())
        {
            return self.fail_none(format!(
                "case {key:?} takes no payload: write it as the string {key:?}"
            ));
        }
        self.tagged(cases, value)
    }

    /// A single-key object naming one of `cases`.
    fn tagged(&mut self, cases: &'a Cases, value: &'a Value) -> Option<(&'a Case, Option<Val>)> {
        let Value::Object(o) = value else {
            return self.mismatch(
                &format!("an object with one key of: {}", cases.names),
                value,
            );
        };
        let mut entries = o.iter();
        let (Some((key, payload)), None) = (entries.next(), entries.next()) else {
            return self.fail_none(format!(
                "expected an object with exactly one key, one of: {}",
                cases.names
            ));
        };
        let Some(case) = cases.find(key) else {
            return self.fail_none(format!(
                "{key:?} is not a case; expected one of: {}",
                cases.names
            ));
        };
        match &case.payload {
            Some(node) => {
                let v = self.at(Segment::Key(key), |d| d.value(node, payload))?;
                Some((case, Some(v)))
            }
            None if payload.is_null() => Some((case, None)),
            None => self.at(Segment::Key(key), |d| {
                d.fail_none(format!("case {key:?} takes no payload: expected null"))
            }),
        }
    }
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
