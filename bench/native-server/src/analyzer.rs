//! A small native stand-in for `guest-tools/code-analyzer`, written for the
//! benchmark and sharing no code with it.
//!
//! The guest cannot be a path dependency: it is a `cdylib` only, its
//! analysis functions are private, and its analysis modules take their types
//! from the `wit_bindgen::generate!` glue. So this is a single pass with the
//! same rule identifiers, severities, thresholds and record shape, but a
//! cruder lexer (one quote state per line, no triple-quoted strings), and
//! its own message wording. The heavy-tool comparison is therefore
//! approximate: see bench/RESULTS.md.

use serde_json::{Value, json};

/// A language `analyze_code` accepts.
#[derive(Clone, Copy, PartialEq)]
pub enum Language {
    Python,
    Javascript,
    Rust,
}

impl Language {
    /// The enum case as Corral spells it in JSON.
    pub fn parse(name: &str) -> Option<Language> {
        match name {
            "python" => Some(Language::Python),
            "javascript" => Some(Language::Javascript),
            "rust" => Some(Language::Rust),
            _ => None,
        }
    }
}

const MAX_FUNCTION_LINES: u32 = 50;
const MAX_LINE_CHARS: usize = 100;
const MAX_NESTING: u32 = 4;
const SECRET_NAMES: [&str; 8] = [
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "token",
    "access_key",
    "private_key",
];

struct Finding {
    line: u32,
    rule: &'static str,
    severity: &'static str,
    message: String,
    suggestion: bool,
}

impl Finding {
    fn penalty(&self) -> u32 {
        match self.severity {
            "info" => 1,
            "warning" => 5,
            _ => 20,
        }
    }

    fn to_json(&self) -> Value {
        json!({"line": self.line, "message": self.message, "rule": self.rule, "severity": self.severity})
    }
}

/// Analyses `code` and returns Corral's `analysis` record as JSON.
pub fn analyze(code: &str, language: Language) -> Value {
    let comment_start = if language == Language::Python {
        "#"
    } else {
        "//"
    };
    let uses_subprocess = language == Language::Python && code.contains("subprocess");
    let mut findings = Vec::new();
    let (mut loc, mut functions, mut max_depth, mut depth) = (0u32, 0u32, 0u32, 0u32);
    let mut indents: Vec<usize> = Vec::new();
    // Open Python functions: (indent of the `def`, first line, last code line).
    let mut open: Vec<(usize, u32, u32)> = Vec::new();

    for (number, raw) in (1u32..).zip(code.lines()) {
        let (code_part, comment) = split(raw, comment_start);
        let mut line_findings = Vec::new();
        if raw.chars().count() > MAX_LINE_CHARS {
            line_findings.push(rule(
                number,
                "long-line",
                "info",
                true,
                format!(
                    "This line has {} characters, over the limit of {MAX_LINE_CHARS}; break it up.",
                    raw.chars().count()
                ),
            ));
        }
        if comment.contains("TODO") || comment.contains("FIXME") {
            line_findings.push(rule(
                number,
                "todo-comment",
                "info",
                true,
                "A TODO or FIXME note is still open; resolve it or move it to the issue tracker."
                    .into(),
            ));
        }
        if !code_part.trim().is_empty() {
            loc += 1;
            let indent = code_part.len() - code_part.trim_start().len();
            let previous = depth;
            if language == Language::Python {
                close(&mut open, &mut findings, indent);
                while indents.last().is_some_and(|&i| indent < i) {
                    indents.pop();
                }
                if indent > indents.last().copied().unwrap_or(0) {
                    indents.push(indent);
                }
                depth = indents.len() as u32;
                let trimmed = code_part.trim_start();
                if trimmed.starts_with("def ") || trimmed.starts_with("async def ") {
                    functions += 1;
                    open.push((indent, number, number));
                }
                for function in &mut open {
                    function.2 = number;
                }
            } else {
                functions += code_part.matches("function").count() as u32
                    + code_part.matches("fn ").count() as u32;
                for c in code_part.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    max_depth = max_depth.max(depth);
                }
            }
            max_depth = max_depth.max(depth);
            if previous <= MAX_NESTING && depth > MAX_NESTING {
                line_findings.push(rule(
                    number,
                    "deep-nesting",
                    "warning",
                    true,
                    "Blocks here are nested more than 4 deep; extract a function or return early."
                        .into(),
                ));
            }
            for (call, id) in [
                ("eval", "eval"),
                ("exec", "exec"),
                ("os.system", "os-system"),
            ] {
                if calls(&code_part, call) {
                    line_findings.push(rule(number, id, "high", false, format!("`{call}` executes text as code or as a shell command; use a safer, explicit API instead.")));
                }
            }
            let compact: String = code_part.split_whitespace().collect();
            if uses_subprocess && compact.contains("shell=True") {
                line_findings.push(rule(number, "subprocess-shell", "high", false, "`shell=True` hands the command line to a shell; pass the arguments as a list instead.".into()));
            }
        }
        if has_secret(raw) {
            line_findings.push(rule(number, "hardcoded-secret", "high", false, "A credential appears to be written into the source; load it from the environment or a vault.".into()));
        }
        findings.extend(line_findings);
    }
    close(&mut open, &mut findings, 0);

    findings.sort_by_key(|f| f.line);
    let penalty: u32 = findings.iter().map(Finding::penalty).sum();
    let (suggestions, vulnerabilities): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.suggestion);
    json!({
        "functions": functions,
        "lines_of_code": loc,
        "max_nesting_depth": max_depth,
        "quality_score": 100u32.saturating_sub(penalty),
        "suggestions": suggestions.iter().map(|f| f.to_json()).collect::<Vec<_>>(),
        "vulnerabilities": vulnerabilities.iter().map(|f| f.to_json()).collect::<Vec<_>>(),
    })
}

/// Ends the open functions whose `def` is indented `indent` or deeper.
fn close(open: &mut Vec<(usize, u32, u32)>, findings: &mut Vec<Finding>, indent: usize) {
    while let Some(&(def_indent, start, last)) = open.last() {
        if def_indent < indent {
            break;
        }
        open.pop();
        let length = last - start + 1;
        if length > MAX_FUNCTION_LINES {
            findings.push(rule(start, "long-function", "warning", true,
                format!("This function spans {length} lines, over the limit of {MAX_FUNCTION_LINES}; split it into smaller ones.")));
        }
    }
}

fn rule(
    line: u32,
    rule: &'static str,
    severity: &'static str,
    suggestion: bool,
    message: String,
) -> Finding {
    Finding {
        line,
        rule,
        severity,
        message,
        suggestion,
    }
}

/// The line's code (string contents blanked) and its comment.
fn split<'a>(raw: &'a str, comment_start: &str) -> (String, &'a str) {
    let mut code = String::with_capacity(raw.len());
    let mut quote = None;
    for (at, c) in raw.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {
                code.push(' ');
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if raw[at..].starts_with(comment_start) => return (code, &raw[at..]),
            None => {}
        }
        code.push(c);
    }
    (code, "")
}

/// `name(` preceded by something that is not part of an identifier.
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].trim_start();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && after.starts_with('(')
    })
}

/// `name = "value"` or `"name": 'value'` with a secret-sounding name.
fn has_secret(raw: &str) -> bool {
    let Some(at) = raw.find(['=', ':']) else {
        return false;
    };
    let name = raw[..at].to_ascii_lowercase();
    let value = raw[at + 1..].trim_start();
    SECRET_NAMES.iter().any(|s| name.contains(s))
        && (value.starts_with('"') || value.starts_with('\''))
        && value.len() > 2
        && !value[1..].starts_with(&value[..1])
}
