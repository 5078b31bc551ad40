//! WIT type → JSON Schema (draft 2020-12, the MCP default dialect).

use serde_json::{Value, json};
use wasmtime::component::Type;
use wasmtime::component::types::Case;

use super::json_name;

/// Which way a value travels: schemas differ only where a guest can produce
/// something a client should not be asked for (non-finite floats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Arguments, from the client to the guest.
    Input,
    /// Results, from the guest to the client.
    Output,
}

/// A WIT type with no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} cannot be passed as JSON")]
pub struct Unsupported(pub &'static str);

/// The JSON Schema of values of `ty`.
pub fn schema(ty: &Type, direction: Direction) -> Result<Value, Unsupported> {
    Ok(match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::S8 => int(i8::MIN as i64, i8::MAX as u64),
        Type::U8 => int(0, u8::MAX as u64),
        Type::S16 => int(i16::MIN as i64, i16::MAX as u64),
        Type::U16 => int(0, u16::MAX as u64),
        Type::S32 => int(i32::MIN as i64, i32::MAX as u64),
        Type::U32 => int(0, u32::MAX as u64),
        Type::S64 => int(i64::MIN, i64::MAX as u64),
        Type::U64 => int(0, u64::MAX),
        Type::Float32 => float(
            json!({ "type": "number", "minimum": -F32_LIMIT, "maximum": F32_LIMIT }),
            direction,
        ),
        Type::Float64 => float(json!({ "type": "number" }), direction),
        Type::Char => json!({ "type": "string", "minLength": 1, "maxLength": 1 }),
        Type::String => json!({ "type": "string" }),
        Type::List(list) => json!({ "type": "array", "items": schema(&list.ty(), direction)? }),
        Type::FixedLengthList(list) => json!({
            "type": "array",
            "items": schema(&list.ty(), direction)?,
            "minItems": list.len(),
            "maxItems": list.len(),
        }),
        Type::Map(map) => {
            let value = schema(&map.value(), direction)?;
            if map.key() == Type::String {
                json!({ "type": "object", "additionalProperties": value })
            } else {
                json!({ "type": "array", "items": {
                    "type": "array",
                    "prefixItems": [schema(&map.key(), direction)?, value],
                    "items": false, "minItems": 2, "maxItems": 2,
                }})
            }
        }
        Type::Record(record) => object(record.fields().map(|f| (f.name, f.ty)), direction)?,
        Type::Tuple(tuple) => {
            let items = tuple
                .types()
                .map(|t| schema(&t, direction))
                .collect::<Result<Vec<_>, _>>()?;
            json!({
                "type": "array",
                "prefixItems": items,
                "items": false,
                "minItems": items.len(),
                "maxItems": items.len(),
            })
        }
        Type::Variant(variant) => cases(variant.cases(), direction)?,
        Type::Enum(e) => {
            json!({ "type": "string", "enum": e.names().map(json_name).collect::<Vec<_>>() })
        }
        Type::Option(option) => {
            let inner = option.ty();
            let some = if matches!(inner, Type::Option(_)) {
                tagged("some", schema(&inner, direction)?)
            } else {
                schema(&inner, direction)?
            };
            json!({ "anyOf": [some, { "type": "null" }] })
        }
        Type::Result(result) => {
            let payload = |t: Option<Type>| match t {
                Some(t) => schema(&t, direction),
                None => Ok(json!({ "type": "null" })),
            };
            json!({ "oneOf": [
                tagged("ok", payload(result.ok())?),
                tagged("err", payload(result.err())?),
            ]})
        }
        Type::Flags(flags) => json!({
            "type": "array",
            "items": { "type": "string", "enum": flags.names().map(json_name).collect::<Vec<_>>() },
            "uniqueItems": true,
        }),
        Type::Own(_) | Type::Borrow(_) => return Err(Unsupported("a resource handle")),
        Type::Future(_) => return Err(Unsupported("a future")),
        Type::Stream(_) => return Err(Unsupported("a stream")),
        Type::ErrorContext => return Err(Unsupported("an error-context")),
    })
}

/// The largest magnitude an `f32` argument may have: `f32::MAX` written
/// as its shortest decimal, which is how results spell it. Every number up
/// to it rounds to a finite `f32` (to `f32::MAX` at the end), so the schema
/// and the decoder can share this one bound.
pub(super) const F32_LIMIT: f64 = 3.4028235e38;

/// A float: `finite` as an argument; a result may also be non-finite.
fn float(finite: Value, direction: Direction) -> Value {
    match direction {
        Direction::Input => finite,
        Direction::Output => json!({ "anyOf": [
            finite,
            { "enum": ["NaN", "Infinity", "-Infinity"] },
        ]}),
    }
}

fn int(min: i64, max: u64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// `{"name": payload}` and nothing else.
fn tagged(name: &str, payload: Value) -> Value {
    json!({
        "type": "object",
        "properties": { name: payload },
        "required": [name],
        "additionalProperties": false,
    })
}

/// The schema of an object whose keys are `fields`; `option` fields may be
/// left out. Also used for a tool's argument list.
pub fn object<'a>(
    fields: impl Iterator<Item = (&'a str, Type)>,
    direction: Direction,
) -> Result<Value, Unsupported> {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for (name, ty) in fields {
        let name = json_name(name);
        if direction == Direction::Output || !matches!(ty, Type::Option(_)) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema(&ty, direction)?);
    }
    Ok(json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

fn cases<'a>(
    cases: impl Iterator<Item = Case<'a>>,
    direction: Direction,
) -> Result<Value, Unsupported> {
    let mut bare = Vec::new();
    let mut alternatives = Vec::new();
    for case in cases {
        match case.ty {
            None => bare.push(json_name(case.name)),
            Some(ty) => alternatives.push(tagged(&json_name(case.name), schema(&ty, direction)?)),
        }
    }
    if !bare.is_empty() {
        alternatives.insert(0, json!({ "type": "string", "enum": bare }));
    }
    Ok(json!({ "oneOf": alternatives }))
}
