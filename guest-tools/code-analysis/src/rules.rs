//! The rules: each turns a measure or a pattern into a [`Finding`].
//!
//! The rule identifiers, severities and thresholds here are the ones the WIT
//! documentation of `analyze-code` promises
//! (`code-analyzer/wit/code-analyzer.wit`); change both together.

use std::collections::BTreeSet;

use crate::search::{contains, find_all};
use crate::source::{Line, is_identifier_char};
use crate::structure::{MAX_NESTING, Structure};
use crate::{Finding, Language, Severity};

/// Functions longer than this many lines are reported.
const MAX_FUNCTION_LINES: u32 = 50;
/// Lines longer than this many characters are reported.
const MAX_LINE_CHARS: usize = 100;

/// Which list of the analysis a rule's findings go to.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Suggestion,
    Vulnerability,
}

struct Rule {
    id: &'static str,
    severity: Severity,
    kind: Kind,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $severity:ident, $kind:ident;)*) => {
        $(const $name: Rule = Rule { id: $id, severity: Severity::$severity, kind: Kind::$kind };)*
    };
}

rules! {
    LONG_FUNCTION = "long-function", Warning, Suggestion;
    DEEP_NESTING = "deep-nesting", Warning, Suggestion;
    LONG_LINE = "long-line", Info, Suggestion;
    TODO_COMMENT = "todo-comment", Info, Suggestion;
    UNWRAP = "unwrap", Info, Suggestion;
    EVAL = "eval", High, Vulnerability;
    EXEC = "exec", High, Vulnerability;
    OS_SYSTEM = "os-system", High, Vulnerability;
    SUBPROCESS_SHELL = "subprocess-shell", High, Vulnerability;
    NEW_FUNCTION = "new-function", High, Vulnerability;
    INNER_HTML = "inner-html", Warning, Vulnerability;
    DOCUMENT_WRITE = "document-write", Warning, Vulnerability;
    UNSAFE_CODE = "unsafe-code", Warning, Vulnerability;
    HARDCODED_SECRET = "hardcoded-secret", High, Vulnerability;
    AWS_ACCESS_KEY_ID = "aws-access-key-id", High, Vulnerability;
    PRIVATE_KEY = "private-key", High, Vulnerability;
}

/// Findings collected so far; at most one per rule and line.
#[derive(Default)]
pub struct Findings {
    seen: BTreeSet<(u32, &'static str)>,
    suggestions: Vec<Finding>,
    vulnerabilities: Vec<Finding>,
}

impl Findings {
    fn add(&mut self, rule: &Rule, line: u32, message: String) {
        if !self.seen.insert((line, rule.id)) {
            return;
        }
        let finding = Finding {
            line,
            rule: rule.id.to_string(),
            message,
            severity: rule.severity,
        };
        match rule.kind {
            Kind::Suggestion => self.suggestions.push(finding),
            Kind::Vulnerability => self.vulnerabilities.push(finding),
        }
    }

    /// The suggestions and the vulnerabilities, each sorted by line, then rule.
    pub fn into_lists(mut self) -> (Vec<Finding>, Vec<Finding>) {
        for list in [&mut self.suggestions, &mut self.vulnerabilities] {
            list.sort_by(|a, b| (a.line, &a.rule).cmp(&(b.line, &b.rule)));
        }
        (self.suggestions, self.vulnerabilities)
    }
}

/// `long-function` and `deep-nesting`.
pub fn check_structure(structure: &Structure, findings: &mut Findings) {
    for function in &structure.functions {
        if let Some(length) = function.length.filter(|&l| l > MAX_FUNCTION_LINES) {
            findings.add(
                &LONG_FUNCTION,
                function.start,
                format!(
                    "Function `{}` is {length} lines long (more than {MAX_FUNCTION_LINES}); \
                     split it into smaller functions.",
                    function.name
                ),
            );
        }
    }
    for &line in &structure.deep_lines {
        findings.add(
            &DEEP_NESTING,
            line,
            format!(
                "Blocks are nested more than {MAX_NESTING} levels deep here; \
                 return early or extract a function."
            ),
        );
    }
}

/// Every rule that looks at one line at a time.
pub fn check_lines(lines: &[Line<'_>], language: Language, findings: &mut Findings) {
    let uses_subprocess =
        language == Language::Python && lines.iter().any(|line| has_word(&line.code, "subprocess"));
    for line in lines {
        check_style(line, language, findings);
        match language {
            Language::Python => check_python(line, uses_subprocess, findings),
            Language::Javascript => check_javascript(line, findings),
            Language::Rust => check_rust(line, findings),
        }
        check_secrets(line, findings);
    }
}

fn check_style(line: &Line<'_>, language: Language, findings: &mut Findings) {
    let chars = line.raw.chars().count();
    if chars > MAX_LINE_CHARS {
        findings.add(
            &LONG_LINE,
            line.number,
            format!("Line is {chars} characters long (more than {MAX_LINE_CHARS}); wrap it."),
        );
    }
    if let Some(marker) = ["TODO", "FIXME"]
        .into_iter()
        .find(|m| contains(&line.comment, m))
    {
        findings.add(
            &TODO_COMMENT,
            line.number,
            format!("Unresolved {marker} comment; finish the work or track it in an issue."),
        );
    }
    if language == Language::Rust && contains(&line.code, ".unwrap()") {
        findings.add(
            &UNWRAP,
            line.number,
            "`.unwrap()` panics on `None` or `Err`; handle the error, use `?`, or \
             `expect` with the reason it cannot fail."
                .to_string(),
        );
    }
}

fn check_python(line: &Line<'_>, uses_subprocess: bool, findings: &mut Findings) {
    let code = line.code.as_str();
    if calls(code, "eval") {
        findings.add(
            &EVAL,
            line.number,
            "`eval` runs arbitrary code from a string; parse data with `json.loads` or \
             `ast.literal_eval` instead."
                .to_string(),
        );
    }
    if calls(code, "exec") {
        findings.add(
            &EXEC,
            line.number,
            "`exec` runs arbitrary code from a string; call the intended function directly."
                .to_string(),
        );
    }
    if calls(code, "os.system") {
        findings.add(
            &OS_SYSTEM,
            line.number,
            "`os.system` passes its argument to a shell; use `subprocess.run` with a list \
             of arguments."
                .to_string(),
        );
    }
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if uses_subprocess && contains(&compact, "shell=True") {
        findings.add(
            &SUBPROCESS_SHELL,
            line.number,
            "`shell=True` lets shell metacharacters in arguments run commands; pass a list \
             of arguments without a shell."
                .to_string(),
        );
    }
}

fn check_javascript(line: &Line<'_>, findings: &mut Findings) {
    let code = line.code.as_str();
    if calls(code, "eval") {
        findings.add(
            &EVAL,
            line.number,
            "`eval` runs arbitrary code from a string; parse data with `JSON.parse` instead."
                .to_string(),
        );
    }
    if find_all(code, "Function").any(|at| {
        let before = code[..at].trim_end();
        before.strip_suffix("new").is_some_and(ends_at_boundary)
            && code[at + "Function".len()..].trim_start().starts_with('(')
    }) {
        findings.add(
            &NEW_FUNCTION,
            line.number,
            "`new Function` compiles a string into code, like `eval`; do not build code \
             from strings."
                .to_string(),
        );
    }
    if let Some(property) = [".innerHTML", ".outerHTML"]
        .into_iter()
        .find(|p| assigns(code, p))
    {
        findings.add(
            &INNER_HTML,
            line.number,
            format!(
                "Assigning to `{}` can inject scripts (XSS); set `textContent` or build \
                 elements with the DOM API.",
                &property[1..]
            ),
        );
    }
    if calls(code, "document.write") || calls(code, "document.writeln") {
        findings.add(
            &DOCUMENT_WRITE,
            line.number,
            "`document.write` can inject scripts and blocks page parsing; insert elements \
             with the DOM API."
                .to_string(),
        );
    }
}

fn check_rust(line: &Line<'_>, findings: &mut Findings) {
    if has_word(&line.code, "unsafe") {
        findings.add(
            &UNSAFE_CODE,
            line.number,
            "`unsafe` code skips Rust's memory-safety checks; prefer a safe API or \
             document why this is sound."
                .to_string(),
        );
    }
}

/// The secret rules read the raw line: a key in a comment or a string has
/// leaked all the same.
fn check_secrets(line: &Line<'_>, findings: &mut Findings) {
    let raw = line.raw;
    if let Some(name) = secret_assignment(raw) {
        findings.add(
            &HARDCODED_SECRET,
            line.number,
            format!(
                "`{name}` is set to a hard-coded secret; load it from the environment or a \
                 secret store."
            ),
        );
    }
    if has_aws_access_key_id(raw) {
        findings.add(
            &AWS_ACCESS_KEY_ID,
            line.number,
            "An AWS access key id is hard-coded; revoke it and load credentials from the \
             environment."
                .to_string(),
        );
    }
    if contains(raw, "-----BEGIN ") && contains(raw, "PRIVATE KEY-----") {
        findings.add(
            &PRIVATE_KEY,
            line.number,
            "A private key is embedded in the source; remove it, rotate the key, and load \
             it from a file or secret store."
                .to_string(),
        );
    }
}

/// Whether `code` calls `name` (a word or a dotted path such as
/// `os.system`): `name` not preceded by an identifier character or `.`,
/// followed by optional spaces and `(`. `model.eval()` is not `eval(`.
fn calls(code: &str, name: &str) -> bool {
    find_all(code, name).any(|at| {
        ends_at_boundary(&code[..at]) && code[at + name.len()..].trim_start().starts_with('(')
    })
}

/// Whether `code` assigns (`=` or `+=`) to `property`.
fn assigns(code: &str, property: &str) -> bool {
    find_all(code, property).any(|at| {
        let after = code[at + property.len()..].trim_start();
        after.starts_with("+=") || (after.starts_with('=') && !after.starts_with("=="))
    })
}

/// Whether `word` appears in `code` as a whole identifier.
fn has_word(code: &str, word: &str) -> bool {
    find_all(code, word).any(|at| {
        ends_at_boundary(&code[..at])
            && !code[at + word.len()..]
                .chars()
                .next()
                .is_some_and(is_identifier_char)
    })
}

/// Whether the text before a match ends outside an identifier or path.
fn ends_at_boundary(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_none_or(|c| !is_identifier_char(c) && c != '.')
}

/// The name in `password = "…"`, `"api_key": '…'`, `apiToken: "…"` or
/// `const SECRET: &str = "…"`, when the value is a non-empty literal.
fn secret_assignment(raw: &str) -> Option<&str> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut rest = raw;
    let mut offset = 0;
    while let Some(start) = rest.find(is_name_char) {
        let len = rest[start..]
            .find(|c: char| !is_name_char(c))
            .unwrap_or(rest.len() - start);
        let name = &rest[start..start + len];
        let after = &rest[start + len..];
        if is_secret_name(name) && assigned_literal(after).is_some_and(|v| !v.trim().is_empty()) {
            return Some(&raw[offset + start..offset + start + len]);
        }
        offset += start + len;
        rest = after;
    }
    None
}

/// The string literal assigned by the text after a name, if any.
fn assigned_literal(after: &str) -> Option<&str> {
    // A quoted key: `"password": "…"`.
    let after = after
        .strip_prefix(['"', '\''])
        .unwrap_or(after)
        .trim_start();
    let value = if let Some(value) = after.strip_prefix(':') {
        let value = value.trim_start();
        if starts_with_quote(value) {
            value
        } else {
            // A type annotation: `password: &str = "…"`.
            let (annotation, value) = value.split_once('=')?;
            if annotation.contains([',', ';', '(', ')']) || value.starts_with('=') {
                return None;
            }
            value
        }
    } else {
        let value = after.strip_prefix('=')?;
        if value.starts_with(['=', '>']) {
            return None;
        }
        value
    };
    let value = value.trim_start();
    // String prefixes: Python r"", b"", f"", u"".
    let value = value
        .strip_prefix(['r', 'b', 'f', 'u', 'R', 'B', 'F', 'U'])
        .filter(|v| starts_with_quote(v))
        .unwrap_or(value);
    let quote = value
        .chars()
        .next()
        .filter(|&q| matches!(q, '"' | '\'' | '`'))?;
    let body = &value[1..];
    body.find(quote).map(|end| &body[..end])
}

fn starts_with_quote(text: &str) -> bool {
    text.starts_with(['"', '\'', '`'])
}

/// Names that hold secrets: `password`, `db_passwd`, `clientSecret`,
/// `API-KEY`, `githubToken`. `token` counts only as the last word, so
/// `token_type` does not.
fn is_secret_name(name: &str) -> bool {
    let mut snake = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            snake.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        snake.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_lowercase()
        });
    }
    const PARTS: [&str; 7] = [
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
    ];
    // One pass over the (short) name rather than a search per part: this
    // runs for every word of every line.
    let bytes = snake.as_bytes();
    let has_part = (0..bytes.len()).any(|at| {
        PARTS.iter().any(|part| {
            let part = part.as_bytes();
            bytes[at] == part[0] && bytes[at..].starts_with(part)
        })
    });
    has_part || snake.rsplit('_').next().is_some_and(|last| last == "token")
}

/// `AKIA` followed by 16 upper-case letters or digits, as a whole word.
fn has_aws_access_key_id(raw: &str) -> bool {
    let key_char = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let bytes = raw.as_bytes();
    find_all(raw, "AKIA").any(|at| {
        let end = at + 20;
        end <= bytes.len()
            && bytes[at + 4..end].iter().all(key_char)
            && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric())
            && bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_assignments_are_recognised() {
        for line in [
            "password = \"hunter2\"",
            "DB_PASSWD='x'",
            "  \"api_key\": \"abc\",",
            "const githubToken = `ghp_123`;",
            "const SECRET: &str = \"s3cr3t\";",
            "client-secret: 'abc'",
            "api_key = f\"abc\"",
        ] {
            assert!(secret_assignment(line).is_some(), "{line}");
        }
        for line in [
            "password = \"\"",
            "if password == \"x\":",
            "token_type = \"bearer\"",
            "password = os.environ[\"PASSWORD\"]",
            "fn check(password: &str) -> bool {",
        ] {
            assert_eq!(secret_assignment(line), None, "{line}");
        }
    }

    #[test]
    fn aws_key_ids_must_be_whole_words() {
        assert!(has_aws_access_key_id("key = 'AKIAIOSFODNN7EXAMPLE'"));
        assert!(!has_aws_access_key_id("AKIAIOSFODNN7EXAMPLEX"));
        assert!(!has_aws_access_key_id("AKIAshort"));
    }

    #[test]
    fn calls_ignore_methods_and_longer_names() {
        assert!(calls("x = eval (s)", "eval"));
        assert!(!calls("model.eval()", "eval"));
        assert!(!calls("evaluate(s)", "eval"));
        assert!(calls("os.system('ls')", "os.system"));
    }
}
