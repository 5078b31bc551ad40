//! An example of a tool that asks before it acts: `delete_files` checks the
//! paths it is given, shows the user every file with its size in a form
//! (`corral:mcp/client`, MCP elicitation) and deletes them only when the
//! user ticks "delete". It reaches only the directory the host grants as
//! `/scratch` (read-write); with a 2026-07-28 client the tool runs twice
//! (ask, then act on the answer), so it changes nothing before it has the
//! answer.

wit_bindgen::generate!({ path: "wit", world: "cleanup", generate_all });
corral_guest::package_docs!();

use std::fs;
use std::path::{Component, Path, PathBuf};

use corral::mcp::client::{
    Answer, AskError, Form, FormAction, Question, QuestionKind, ask, can_answer,
};

/// The granted directory, as the guest sees it.
const ROOT: &str = "/scratch";
/// The most files one call deletes.
const MAX_FILES: usize = 100;
/// The form's only field.
const SCHEMA: &str = r#"{"type":"object","properties":{"delete":{"type":"boolean","title":"Delete these files","description":"Tick to delete them; they cannot be restored.","default":false}},"required":["delete"]}"#;

struct Cleanup;

/// The file `relative` names under [`ROOT`], with its size, or why not.
fn checked(relative: &str) -> Result<(PathBuf, u64), String> {
    let path = Path::new(relative);
    let inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if relative.is_empty() || !inside {
        return Err(format!(
            "{relative:?}: not a path inside the scratch folder"
        ));
    }
    let full = Path::new(ROOT).join(path);
    match fs::symlink_metadata(&full) {
        Ok(meta) if meta.is_file() => Ok((full, meta.len())),
        Ok(_) => Err(format!("{relative:?}: not a file")),
        Err(e) => Err(format!("{relative:?}: {e}")),
    }
}

/// Whether the form's reply ticks "delete".
fn ticked(content: Option<&str>) -> bool {
    let compact: String = content
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact.contains(r#""delete":true"#)
}

impl Guest for Cleanup {
    fn delete_files(paths: Vec<String>) -> Result<Deleted, CleanupError> {
        if paths.is_empty() || paths.len() > MAX_FILES {
            return Err(CleanupError::InvalidPaths(vec![format!(
                "give 1 to {MAX_FILES} paths"
            )]));
        }
        let mut files = Vec::new();
        let mut invalid = Vec::new();
        for relative in &paths {
            match checked(relative) {
                Ok(file) => files.push(file),
                Err(why) => invalid.push(why),
            }
        }
        if !invalid.is_empty() {
            return Err(CleanupError::InvalidPaths(invalid));
        }
        if !can_answer(QuestionKind::Elicit) {
            return Err(CleanupError::CannotAsk(
                "the client shows no forms (it did not declare elicitation)".into(),
            ));
        }
        let bytes: u64 = files.iter().map(|(_, size)| size).sum();
        let listing: Vec<String> = paths
            .iter()
            .zip(&files)
            .map(|(path, (_, size))| format!("- {path} ({size} bytes)"))
            .collect();
        let form = Form {
            message: format!(
                "Delete {} files ({bytes} bytes) from the scratch folder?\n{}",
                files.len(),
                listing.join("\n")
            ),
            schema: SCHEMA.into(),
        };
        let answer = ask(&[("confirm".into(), Question::Elicit(form))]).pop();
        match answer {
            Some(Ok(Answer::Form(reply)))
                if reply.action == FormAction::Accept && ticked(reply.content.as_deref()) => {}
            Some(Ok(_)) => return Err(CleanupError::NotConfirmed),
            Some(Err(AskError::TimedOut)) => {
                return Err(CleanupError::CannotAsk("no answer came in time".into()));
            }
            Some(Err(AskError::Unsupported)) => {
                return Err(CleanupError::CannotAsk("the client shows no forms".into()));
            }
            Some(Err(AskError::Invalid(why) | AskError::Failed(why))) => {
                return Err(CleanupError::CannotAsk(why));
            }
            None => return Err(CleanupError::CannotAsk("no answer".into())),
        }
        for (full, _) in &files {
            if let Err(e) = fs::remove_file(full) {
                return Err(CleanupError::Failed(format!(
                    "deleting {} failed: {e}",
                    full.display()
                )));
            }
        }
        Ok(Deleted {
            files: paths,
            bytes,
        })
    }
}

export!(Cleanup);
