//! An example of a component that serves rather than acts: the text files
//! of the directory the host grants as `/docs` become MCP resources, with a
//! prompt that embeds one of them and completion of that prompt's argument.
//! Everything goes through `std::fs` over `wasi:filesystem`, so it reaches
//! exactly the granted directory and nothing else.

wit_bindgen::generate!({ path: "wit", world: "docs-server", generate_all });
corral_guest::package_docs!();

use std::fs;
use std::path::{Path, PathBuf};

use corral::mcp::types::{Content, ResourceContents, TextResource};
use exports::corral::mcp::completion::Reference;
use exports::corral::mcp::prompts::{Argument, Message, Prompt, PromptMessages, Role};
use exports::corral::mcp::resources::{ReadError, Resource, ResourceTemplate};

/// The granted directory, as the guest sees it.
const ROOT: &str = "/docs";
/// URIs are this prefix and the path below [`ROOT`].
const SCHEME: &str = "file:///docs/";
/// The most files listed.
const MAX_FILES: usize = 1000;
/// The largest file served.
const MAX_FILE: u64 = 1 << 20;
/// The prompt this component serves.
const SUMMARIZE: &str = "summarize";

struct Docs;

/// The text files under `dir`, recursively, in name order.
fn files(dir: &Path, found: &mut Vec<(PathBuf, u64)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if found.len() >= MAX_FILES {
            return;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            files(&path, found);
        } else if let Ok(metadata) = entry.metadata()
            && metadata.is_file()
            && metadata.len() <= MAX_FILE
            && is_text(&path)
        {
            found.push((path, metadata.len()));
        }
    }
}

/// Whether the file's start has no NUL byte (binary files are not served).
fn is_text(path: &Path) -> bool {
    let mut head = [0u8; 8192];
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    let read = std::io::Read::read(&mut file, &mut head).unwrap_or(0);
    !head[..read].contains(&0)
}

fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => "text/markdown",
        _ => "text/plain",
    }
}

/// The file a `file:///docs/…` URI names, if it stays below [`ROOT`].
fn path_of(uri: &str) -> Option<PathBuf> {
    let relative = uri.strip_prefix(SCHEME)?;
    let safe = !relative.is_empty()
        && relative
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    safe.then(|| Path::new(ROOT).join(relative))
}

fn uri_of(path: &Path) -> String {
    let relative = path.strip_prefix(ROOT).unwrap_or(path);
    format!("{SCHEME}{}", relative.to_string_lossy())
}

fn read(uri: &str) -> Result<TextResource, ReadError> {
    let path = path_of(uri).ok_or(ReadError::NotFound)?;
    let metadata = fs::metadata(&path).map_err(|_| ReadError::NotFound)?;
    if !metadata.is_file() {
        return Err(ReadError::NotFound);
    }
    if metadata.len() > MAX_FILE || !is_text(&path) {
        return Err(ReadError::Failed(format!(
            "{uri} is not a text file of at most 1 MiB"
        )));
    }
    let text = fs::read_to_string(&path)
        .map_err(|err| ReadError::Failed(format!("cannot read {uri} as text: {err}")))?;
    Ok(TextResource {
        uri: uri.to_owned(),
        mime_type: Some(mime_type(&path).to_owned()),
        text,
    })
}

impl exports::corral::mcp::resources::Guest for Docs {
    fn list() -> Vec<Resource> {
        let mut found = Vec::new();
        files(Path::new(ROOT), &mut found);
        found
            .into_iter()
            .map(|(path, size)| Resource {
                uri: uri_of(&path),
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                title: None,
                description: None,
                mime_type: Some(mime_type(&path).to_owned()),
                size: Some(size),
            })
            .collect()
    }

    fn templates() -> Vec<ResourceTemplate> {
        Vec::new()
    }

    fn read(uri: String) -> Result<Vec<ResourceContents>, ReadError> {
        read(&uri).map(|text| vec![ResourceContents::Text(text)])
    }
}

impl exports::corral::mcp::prompts::Guest for Docs {
    fn list() -> Vec<Prompt> {
        vec![Prompt {
            name: SUMMARIZE.into(),
            title: Some("Summarize a document".into()),
            description: Some(
                "Embeds one of the served documents and asks for a summary in five points".into(),
            ),
            arguments: vec![Argument {
                name: "uri".into(),
                description: Some("The document's URI, e.g. file:///docs/README.md".into()),
                required: true,
            }],
        }]
    }

    fn get(name: String, arguments: Vec<(String, String)>) -> Result<PromptMessages, String> {
        if name != SUMMARIZE {
            return Err(format!("no prompt is named {name:?}"));
        }
        let uri = arguments
            .iter()
            .find(|(key, _)| key == "uri")
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        let document = read(uri).map_err(|error| match error {
            ReadError::NotFound => format!("no document has the URI {uri:?}"),
            ReadError::Failed(message) => message,
        })?;
        let user = |content| Message {
            role: Role::User,
            content,
        };
        Ok(PromptMessages {
            description: Some(format!("Summarize {uri}")),
            messages: vec![
                user(Content::Resource(ResourceContents::Text(document))),
                user(Content::Text(
                    "Summarize the document above in five short points, most important first."
                        .into(),
                )),
            ],
        })
    }
}

impl exports::corral::mcp::completion::Guest for Docs {
    fn complete(
        target: Reference,
        argument: String,
        value: String,
        _context: Vec<(String, String)>,
    ) -> Vec<String> {
        if !matches!(&target, Reference::Prompt(name) if name == SUMMARIZE) || argument != "uri" {
            return Vec::new();
        }
        let mut found = Vec::new();
        files(Path::new(ROOT), &mut found);
        found
            .iter()
            .map(|(path, _)| uri_of(path))
            .filter(|uri| uri.starts_with(&value) || uri[SCHEME.len()..].starts_with(&value))
            .take(100)
            .collect()
    }
}

export!(Docs);
