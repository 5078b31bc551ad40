//! Values checked while deserialising, so that a bad one is reported with
//! its line: memory sizes, durations, positive numbers.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{MAX_MEMORY, MAX_TIMEOUT, MIN_MEMORY};

/// A memory size written as `"64MiB"` (or a plain number of bytes).
#[derive(Clone, Copy)]
pub(super) struct MemorySize(pub(super) u64);

impl<'de> Deserialize<'de> for MemorySize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = MemorySize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a memory size such as \"64MiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MemorySize, E> {
                let bytes = u64::try_from(v)
                    .map_err(|_| E::custom(format!("memory size {v} is negative")))?;
                check_memory(bytes)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MemorySize, E> {
                let size: bytesize::ByteSize = v.parse().map_err(|_| {
                    E::custom(format!(
                        "{v:?} is not a memory size; write e.g. \"64MiB\", \"512KiB\" or \"1GiB\""
                    ))
                })?;
                check_memory(size.as_u64())
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn check_memory<E: de::Error>(bytes: u64) -> Result<MemorySize, E> {
    if (MIN_MEMORY..=MAX_MEMORY).contains(&bytes) {
        Ok(MemorySize(bytes))
    } else {
        Err(E::custom(format!(
            "memory size of {bytes} bytes is out of range: give between \"1MiB\" and \"4GiB\""
        )))
    }
}

/// A duration written as `"10s"`, `"500ms"` or `"2m"`.
#[derive(Clone, Copy)]
pub(super) struct Timeout(pub(super) Duration);

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let duration = humantime::parse_duration(&text).map_err(|_| {
            de::Error::custom(format!(
                "{text:?} is not a duration; write e.g. \"10s\", \"500ms\" or \"2m\""
            ))
        })?;
        if duration.is_zero() || duration > MAX_TIMEOUT {
            return Err(de::Error::custom(format!(
                "timeout {text:?} is out of range: give more than 0s and at most \"1h\""
            )));
        }
        Ok(Timeout(duration))
    }
}

/// A number that must be at least 1.
#[derive(Clone, Copy)]
pub(super) struct Positive<T>(pub(super) T);

impl<'de, T> Deserialize<'de> for Positive<T>
where
    T: Deserialize<'de> + PartialOrd + From<u8> + fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = T::deserialize(d)?;
        if value < T::from(1) {
            return Err(de::Error::custom(format!(
                "{value} is not allowed here: give a number of at least 1"
            )));
        }
        Ok(Positive(value))
    }
}
