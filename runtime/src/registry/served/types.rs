//! What components serve, independent of the protocol: resources,
//! templates, prompts and their messages, and why a request has no answer.

use super::super::content::Content;

/// One resource, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Its URI.
    pub uri: String,
    /// Its name.
    pub name: String,
    /// A title for people.
    pub title: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
}

/// One family of resources, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTemplate {
    /// The URI template (RFC 6570 level 1).
    pub uri_template: String,
    /// Its name.
    pub name: String,
    /// A title for people.
    pub title: Option<String>,
    /// What the resources are.
    pub description: Option<String>,
    /// Their MIME type.
    pub mime_type: Option<String>,
}

/// One prompt, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// Its name.
    pub name: String,
    /// A title for people.
    pub title: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Its arguments: name, description, required.
    pub arguments: Vec<(String, Option<String>, bool)>,
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

/// A prompt filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessages {
    /// Its description.
    pub description: Option<String>,
    /// Its messages.
    pub messages: Vec<(Role, Content)>,
}

/// What a completion completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// An argument of the prompt of this name.
    Prompt(String),
    /// A variable of this URI template.
    Template(String),
}

/// Why a read, a prompt or a completion has no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServeError {
    /// Nothing is served under this URI or name.
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong (the component said why).
    #[error("{0}")]
    Invalid(String),
    /// The component failed or went over a budget.
    #[error("{0}")]
    Failed(String),
}
