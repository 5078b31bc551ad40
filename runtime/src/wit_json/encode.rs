//! `Val` → JSON, the reverse of [`super::decode`], following the type so
//! that the output always validates against the `Output` schema.
//!
//! A guest's result can be small in its memory and huge as JSON (a list of
//! a million one-byte records, or of a million strings that all point at
//! the same bytes), so encoding is bounded while it happens, not after:
//! [`encode_within`] stops as soon as the text it would make passes a
//! bound, or as soon as its caller says to stop (the call's host memory
//! budget ran out).

use serde_json::{Map, Number, Value, json};
use wasmtime::component::{Type, Val};

use super::json_name;

/// A value that could not be encoded within its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value is too large to encode")]
pub struct TooLarge;

/// The bounds of one encoding.
pub struct Limit<'a> {
    /// The most bytes of JSON text the value may make (estimated while
    /// encoding; escapes are not counted).
    pub max_text: usize,
    /// Asked at every value: `true` stops the encoding.
    pub stop: &'a dyn Fn() -> bool,
}

/// Encodes a value the guest returned. `ty` is the type the function
/// declares; wasmtime has already checked that `val` has it.
pub fn encode(val: &Val, ty: &Type) -> Value {
    let unbounded = Limit {
        max_text: usize::MAX,
        stop: &|| false,
    };
    encode_within(val, ty, &unbounded).unwrap_or(Value::Null)
}

/// Encodes a value within `limit`.
pub fn encode_within(val: &Val, ty: &Type, limit: &Limit<'_>) -> Result<Value, TooLarge> {
    Encoder { limit, text: 0 }.value(val, ty)
}

struct Encoder<'l, 'a> {
    limit: &'l Limit<'a>,
    /// Estimated bytes of text so far.
    text: usize,
}

impl Encoder<'_, '_> {
    /// Counts `bytes` more of text; fails past the bounds.
    fn grow(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.text = self.text.saturating_add(bytes);
        if self.text > self.limit.max_text || (self.limit.stop)() {
            return Err(TooLarge);
        }
        Ok(())
    }

    fn value(&mut self, val: &Val, ty: &Type) -> Result<Value, TooLarge> {
        Ok(match (val, ty) {
            (Val::Bool(b), _) => {
                self.grow(6)?;
                Value::Bool(*b)
            }
            (Val::S8(n), _) => self.number(json!(n))?,
            (Val::U8(n), _) => self.number(json!(n))?,
            (Val::S16(n), _) => self.number(json!(n))?,
            (Val::U16(n), _) => self.number(json!(n))?,
            (Val::S32(n), _) => self.number(json!(n))?,
            (Val::U32(n), _) => self.number(json!(n))?,
            (Val::S64(n), _) => self.number(json!(n))?,
            (Val::U64(n), _) => self.number(json!(n))?,
            // Through the shortest decimal form, so 0.1f32 stays 0.1.
            (Val::Float32(f), _) => {
                self.number(float(f.to_string().parse().unwrap_or(f64::NAN)))?
            }
            (Val::Float64(f), _) => self.number(float(*f))?,
            (Val::Char(c), _) => self.string(c.to_string())?,
            (Val::String(s), _) => self.string(s.clone())?,
            (Val::List(items), Type::List(list)) => self.list(items, &list.ty())?,
            (Val::FixedLengthList(items), Type::FixedLengthList(list)) => {
                self.list(items, &list.ty())?
            }
            (Val::Map(pairs), Type::Map(map)) => {
                let (key, value) = (map.key(), map.value());
                self.grow(2)?;
                if key == Type::String {
                    let mut object = Map::new();
                    for (k, v) in pairs {
                        if let Val::String(k) = k {
                            self.grow(k.len() + 4)?;
                            let v = self.value(v, &value)?;
                            object.insert(k.clone(), v);
                        }
                    }
                    Value::Object(object)
                } else {
                    let mut array = Vec::with_capacity(pairs.len().min(1024));
                    for (k, v) in pairs {
                        self.grow(4)?;
                        array.push(Value::Array(vec![
                            self.value(k, &key)?,
                            self.value(v, &value)?,
                        ]));
                    }
                    Value::Array(array)
                }
            }
            (Val::Record(fields), Type::Record(record)) => {
                self.grow(2)?;
                let mut object = Map::new();
                for ((name, v), field) in fields.iter().zip(record.fields()) {
                    self.grow(name.len() + 4)?;
                    let v = self.value(v, &field.ty)?;
                    object.insert(json_name(name), v);
                }
                Value::Object(object)
            }
            (Val::Tuple(items), Type::Tuple(tuple)) => {
                self.grow(2)?;
                let mut array = Vec::with_capacity(items.len());
                for (v, t) in items.iter().zip(tuple.types()) {
                    self.grow(1)?;
                    array.push(self.value(v, &t)?);
                }
                Value::Array(array)
            }
            (Val::Variant(name, payload), Type::Variant(variant)) => {
                let ty = variant.cases().find(|c| c.name == name).and_then(|c| c.ty);
                match (payload, ty) {
                    (Some(v), Some(ty)) => {
                        self.grow(name.len() + 6)?;
                        json!({ json_name(name): self.value(v, &ty)? })
                    }
                    _ => self.string(json_name(name))?,
                }
            }
            (Val::Enum(name), _) => self.string(json_name(name))?,
            (Val::Option(None), _) => {
                self.grow(4)?;
                Value::Null
            }
            (Val::Option(Some(v)), Type::Option(option)) => {
                let inner = option.ty();
                let encoded = self.value(v, &inner)?;
                if matches!(inner, Type::Option(_)) {
                    self.grow(9)?;
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
                self.grow(9)?;
                let payload = match (payload, ty) {
                    (Some(v), Some(ty)) => self.value(v, &ty)?,
                    _ => Value::Null,
                };
                json!({ tag: payload })
            }
            (Val::Flags(names), _) => {
                self.grow(2)?;
                let mut array = Vec::with_capacity(names.len());
                for n in names {
                    array.push(self.string(json_name(n))?);
                }
                Value::Array(array)
            }
            // Resources never reach here: functions using them are not tools.
            // A value whose shape disagrees with its type cannot come out of
            // wasmtime; render it as null rather than guess.
            _ => Value::Null,
        })
    }

    fn number(&mut self, value: Value) -> Result<Value, TooLarge> {
        self.grow(match &value {
            Value::Number(n) if n.is_f64() => 24,
            Value::Number(n) => n
                .as_u64()
                .map_or(20, |n| n.checked_ilog10().unwrap_or(0) as usize + 2),
            _ => 12,
        })?;
        Ok(value)
    }

    fn string(&mut self, text: String) -> Result<Value, TooLarge> {
        self.grow(text.len() + 3)?;
        Ok(Value::String(text))
    }

    fn list(&mut self, items: &[Val], ty: &Type) -> Result<Value, TooLarge> {
        self.grow(2)?;
        // Grown as the items come: a list the bound stops early never gets
        // its whole length allocated up front.
        let mut array = Vec::with_capacity(items.len().min(1024));
        for item in items {
            array.push(self.value(item, ty)?);
        }
        Ok(Value::Array(array))
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
