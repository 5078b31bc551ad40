//! `Val` → JSON, the reverse of [`super::decode`], following the type so
//! that the output always validates against the `Output` schema.

use serde_json::{Map, Number, Value, json};
use wasmtime::component::{Type, Val};

use super::json_name;

/// Encodes a value the guest returned. `ty` is the type the function
/// declares; wasmtime has already checked that `val` has it.
pub fn encode(val: &Val, ty: &Type) -> Value {
    match (val, ty) {
        (Val::Bool(b), _) => Value::Bool(*b),
        (Val::S8(n), _) => json!(n),
        (Val::U8(n), _) => json!(n),
        (Val::S16(n), _) => json!(n),
        (Val::U16(n), _) => json!(n),
        (Val::S32(n), _) => json!(n),
        (Val::U32(n), _) => json!(n),
        (Val::S64(n), _) => json!(n),
        (Val::U64(n), _) => json!(n),
        // Through the shortest decimal form, so 0.1f32 stays 0.1.
        (Val::Float32(f), _) => float(f.to_string().parse().unwrap_or(f64::NAN)),
        (Val::Float64(f), _) => float(*f),
        (Val::Char(c), _) => Value::String(c.to_string()),
        (Val::String(s), _) => Value::String(s.clone()),
        (Val::List(items), Type::List(list)) => {
            let ty = list.ty();
            Value::Array(items.iter().map(|v| encode(v, &ty)).collect())
        }
        (Val::FixedLengthList(items), Type::FixedLengthList(list)) => {
            let ty = list.ty();
            Value::Array(items.iter().map(|v| encode(v, &ty)).collect())
        }
        (Val::Map(pairs), Type::Map(map)) => {
            let (key, value) = (map.key(), map.value());
            if key == Type::String {
                let mut object = Map::new();
                for (k, v) in pairs {
                    if let Val::String(k) = k {
                        object.insert(k.clone(), encode(v, &value));
                    }
                }
                Value::Object(object)
            } else {
                pairs
                    .iter()
                    .map(|(k, v)| json!([encode(k, &key), encode(v, &value)]))
                    .collect()
            }
        }
        (Val::Record(fields), Type::Record(record)) => {
            let mut object = Map::new();
            for ((name, v), field) in fields.iter().zip(record.fields()) {
                object.insert(json_name(name), encode(v, &field.ty));
            }
            Value::Object(object)
        }
        (Val::Tuple(items), Type::Tuple(tuple)) => Value::Array(
            items
                .iter()
                .zip(tuple.types())
                .map(|(v, t)| encode(v, &t))
                .collect(),
        ),
        (Val::Variant(name, payload), Type::Variant(variant)) => {
            let ty = variant.cases().find(|c| c.name == name).and_then(|c| c.ty);
            match (payload, ty) {
                (Some(v), Some(ty)) => json!({ json_name(name): encode(v, &ty) }),
                _ => Value::String(json_name(name)),
            }
        }
        (Val::Enum(name), _) => Value::String(json_name(name)),
        (Val::Option(None), _) => Value::Null,
        (Val::Option(Some(v)), Type::Option(option)) => {
            let inner = option.ty();
            let encoded = encode(v, &inner);
            if matches!(inner, Type::Option(_)) {
                json!({ "some": encoded })
            } else {
                encoded
            }
        }
        (Val::Result(result), Type::Result(ty)) => {
            let (tag, payload, ty) = match result {
                Ok(v) => ("ok", v, ty.ok()),
                Err(v) => ("err", v, ty.err()),
            };
            let payload = match (payload, ty) {
                (Some(v), Some(ty)) => encode(v, &ty),
                _ => Value::Null,
            };
            json!({ tag: payload })
        }
        (Val::Flags(names), _) => names.iter().map(|n| Value::String(json_name(n))).collect(),
        // Resources never reach here: functions using them are not tools.
        // A value whose shape disagrees with its type cannot come out of
        // wasmtime; render it as null rather than guess.
        _ => Value::Null,
    }
}

fn float(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String("NaN".into()),
        None if f > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}
