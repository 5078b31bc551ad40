//! One `[components.NAME]` table as written: its keys, their values and
//! their lines, for the capabilities to read their own keys from.
//!
//! Values are kept as JSON values, which hold every TOML number a key can
//! take (TOML's own value type stops at `i64`, and fuel goes to `u64`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use toml::Spanned;

/// A key of `[components.NAME]` that cannot be used; converted by the config
/// into its own error with the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError {
    /// The dotted key, e.g. `components.files.dirs`.
    pub key: String,
    /// The line of the key in the config file, when known.
    pub line: Option<usize>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.starts_with(&self.key) {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for GrantError {}

impl fmt::Debug for Section<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Section")
            .field("component", &self.component)
            .field("keys", &self.entries.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The keys of one component's table, with their values and spans. Its
/// `Debug` names the keys only: values may be secrets.
#[derive(Clone)]
pub struct Section<'a> {
    component: &'a str,
    text: &'a str,
    entries: &'a BTreeMap<String, Spanned<serde_json::Value>>,
}

impl<'a> Section<'a> {
    /// The table of component `component`, read from config `text`.
    pub fn new(
        component: &'a str,
        text: &'a str,
        entries: &'a BTreeMap<String, Spanned<serde_json::Value>>,
    ) -> Section<'a> {
        Section {
            component,
            text,
            entries,
        }
    }

    /// The component's name.
    pub fn component(&self) -> &str {
        self.component
    }

    /// The dotted config key of `key` in this table.
    pub fn key(&self, key: &str) -> String {
        format!("components.{}.{key}", self.component)
    }

    /// The line `key` is written on, if it is written.
    pub fn line(&self, key: &str) -> Option<usize> {
        let start = self.entries.get(key)?.span().start;
        self.text.get(..start).map(|s| s.lines().count().max(1))
    }

    /// An error about `key`, naming it and its line.
    pub fn error(&self, key: &str, message: impl Into<String>) -> GrantError {
        GrantError {
            key: self.key(key),
            line: self.line(key),
            message: message.into(),
        }
    }

    /// The value of `key` as a `T`, or `None` when the key is not written.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, GrantError> {
        let Some(value) = self.entries.get(key) else {
            return Ok(None);
        };
        T::deserialize(value.get_ref().clone())
            .map(Some)
            .map_err(|e| self.error(key, e.to_string().trim_end().to_owned()))
    }

    /// The keys written in this table.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}
