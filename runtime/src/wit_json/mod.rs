//! WIT types as JSON: the schema a client sees and the values that cross.
//!
//! One mapping serves both directions, so a value that validates against a
//! tool's `inputSchema` always decodes, and every value a guest returns
//! encodes to JSON that validates against its `outputSchema`:
//!
//! | WIT | JSON |
//! |---|---|
//! | `bool` | `true` |
//! | `s8`…`u64` | integer within the type's exact bounds (`7.0` included) |
//! | `f32` | number up to ±3.4028235e38 (outputs may also be `"NaN"`, `"Infinity"`, `"-Infinity"`) |
//! | `f64` | number (outputs may also be `"NaN"`, `"Infinity"`, `"-Infinity"`) |
//! | `char` | one-character string |
//! | `string` | string |
//! | `list<T>` | array |
//! | `record` | object, snake_case keys; `option` fields may be left out |
//! | `tuple<…>` | fixed-length array (`prefixItems`) |
//! | `variant` | `"case"` without payload (only so), `{"case": payload}` with one |
//! | `enum` | one of the snake_case case names |
//! | `option<T>` | `null` or the value (`{"some": v}` when `T` is itself an option) |
//! | `result<T, E>` | `{"ok": v}` or `{"err": e}` |
//! | `flags` | array of the set flags' snake_case names |
//!
//! Resources, futures, streams and error contexts have no JSON form: a
//! function that uses them is not a tool ([`Unsupported`]).

mod decode;
mod encode;
mod plan;
mod schema;

pub use decode::{ArgError, Arguments, decode};
pub use encode::{Limit, TooLarge, encode, encode_within};
pub use schema::{Direction, Unsupported, object, schema};

/// The JSON spelling of a WIT identifier: kebab-case becomes snake_case.
pub fn json_name(wit_name: &str) -> String {
    wit_name.replace('-', "_")
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
