//! A deterministic code reviewer for Python, JavaScript and Rust, as a plain
//! library.
//!
//! It is the whole of the `code-analyzer` tool except its WIT glue, kept
//! apart so that it builds for any target: the component wraps it for
//! `wasm32-wasip2`, and the benchmark's native floor (`bench/native-server`)
//! runs the very same code natively, so the two can be compared exactly.
//!
//! The analysis runs in three passes over the text: `source` separates code
//! from comments and strings line by line, `structure` finds functions and
//! block nesting, and `rules` turns both into findings. The score is
//! computed from the findings alone, so it can be explained to the user.
//! The rules are documented for the tool's users in the WIT of
//! `code-analyzer`; change both together.

#![forbid(unsafe_code)]

mod rules;
mod search;
mod source;
mod structure;

/// A programming language the analyzer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Python 3 source (`.py`).
    Python,
    /// JavaScript source (`.js`, `.mjs`); TypeScript mostly works too.
    Javascript,
    /// Rust source (`.rs`).
    Rust,
}

/// How serious a finding is. Each finding lowers the quality score:
/// `Info` by 1 point, `Warning` by 5, `High` by 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// A style or maintainability hint.
    Info,
    /// Something likely to cause bugs or to be hard to maintain.
    Warning,
    /// A likely security problem: fix it before shipping.
    High,
}

/// One problem found in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The 1-based line number the finding points at.
    pub line: u32,
    /// The rule's identifier, such as `long-line` or `hardcoded-secret`.
    pub rule: String,
    /// What was found and how to fix it, in one sentence.
    pub message: String,
    /// How serious the finding is.
    pub severity: Severity,
}

/// The result of analysing one piece of source code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// 0 (worst) to 100 (no findings): 100 minus 1 per `Info`, 5 per
    /// `Warning` and 20 per `High` finding, never below 0.
    pub quality_score: u8,
    /// Lines that are neither blank nor only a comment.
    pub lines_of_code: u32,
    /// How many functions were found: `def` in Python, `function` and arrow
    /// functions in JavaScript, `fn` items with a body in Rust.
    pub functions: u32,
    /// The deepest block nesting: indentation levels in Python, `{}` levels
    /// in JavaScript and Rust; 0 for code with no blocks.
    pub max_nesting_depth: u32,
    /// Maintainability findings (rules `long-function`, `deep-nesting`,
    /// `long-line`, `todo-comment`, `unwrap`), in line order.
    pub suggestions: Vec<Finding>,
    /// Security findings (all other rules), in line order.
    pub vulnerabilities: Vec<Finding>,
}

/// Reviews `code`, written in `language`, and scores it.
///
/// Deterministic: the same input always gives the same [`Analysis`], down to
/// the order and wording of the findings.
pub fn analyze(code: &str, language: Language) -> Analysis {
    let lines = source::lines(code, language);
    let structure = structure::measure(&lines, language);

    let mut findings = rules::Findings::default();
    rules::check_structure(&structure, &mut findings);
    rules::check_lines(&lines, language, &mut findings);
    let (suggestions, vulnerabilities) = findings.into_lists();

    let penalty: u32 = suggestions
        .iter()
        .chain(&vulnerabilities)
        .map(|finding| match finding.severity {
            Severity::Info => 1,
            Severity::Warning => 5,
            Severity::High => 20,
        })
        .sum();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Analysis {
        quality_score: u8::try_from(100u32.saturating_sub(penalty)).unwrap_or(0),
        lines_of_code: count(lines.iter().filter(|line| line.is_code()).count()),
        functions: count(structure.functions.len()),
        max_nesting_depth: structure.max_depth,
        suggestions,
        vulnerabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(findings: &[Finding]) -> Vec<(u32, &str)> {
        findings.iter().map(|f| (f.line, f.rule.as_str())).collect()
    }

    #[test]
    fn python_sample() {
        let code = "import os, subprocess\n\
                    # TODO: remove\n\
                    password = \"hunter2\"\n\
                    def run(cmd):\n\
                    \x20   os.system(cmd)  # eval( in a comment is fine\n\
                    \x20   subprocess.run(cmd, shell = True)\n\
                    \x20   return eval(cmd)\n";
        let analysis = analyze(code, Language::Python);
        assert_eq!(rules(&analysis.suggestions), [(2, "todo-comment")]);
        assert_eq!(
            rules(&analysis.vulnerabilities),
            [
                (3, "hardcoded-secret"),
                (5, "os-system"),
                (6, "subprocess-shell"),
                (7, "eval")
            ]
        );
        assert_eq!(analysis.quality_score, 100 - 1 - 4 * 20);
        assert_eq!(analysis.lines_of_code, 6);
        assert_eq!(analysis.functions, 1);
        assert_eq!(analysis.max_nesting_depth, 1);
    }

    #[test]
    fn javascript_sample() {
        let code = "function show(html) {\n\
                    \x20 el.innerHTML = html;\n\
                    \x20 document.write('<p>');\n\
                    \x20 const f = new Function('return 1');\n\
                    \x20 return el.innerHTML === '';\n\
                    }\n\
                    const key = 'AKIAIOSFODNN7EXAMPLE';\n";
        let analysis = analyze(code, Language::Javascript);
        assert!(analysis.suggestions.is_empty());
        assert_eq!(
            rules(&analysis.vulnerabilities),
            [
                (2, "inner-html"),
                (3, "document-write"),
                (4, "new-function"),
                (7, "aws-access-key-id")
            ]
        );
        assert_eq!(analysis.quality_score, 100 - 5 - 5 - 20 - 20);
    }

    #[test]
    fn rust_sample() {
        let body: String = (0..55).map(|i| format!("    let x{i} = {i};\n")).collect();
        let code = format!(
            "fn long() {{\n{body}}}\n\
             fn risky(p: *const u8) -> u8 {{\n    \"unsafe\".len();\n    unsafe {{ *p }}\n}}\n\
             fn main() {{ risky(std::ptr::null()).checked_add(1).unwrap(); }}\n"
        );
        let analysis = analyze(&code, Language::Rust);
        assert_eq!(
            rules(&analysis.suggestions),
            [(1, "long-function"), (62, "unwrap")]
        );
        assert_eq!(rules(&analysis.vulnerabilities), [(60, "unsafe-code")]);
        assert_eq!(analysis.functions, 3);
        assert_eq!(analysis.max_nesting_depth, 2);
        assert_eq!(analysis.quality_score, 100 - 5 - 1 - 5);
    }

    #[test]
    fn score_never_goes_below_zero() {
        let code = "eval(x)\n".repeat(10);
        let analysis = analyze(&code, Language::Python);
        assert_eq!(analysis.vulnerabilities.len(), 10);
        assert_eq!(analysis.quality_score, 0);
    }

    #[test]
    fn empty_code_is_perfect() {
        let analysis = analyze("", Language::Rust);
        assert_eq!(analysis.quality_score, 100);
        assert_eq!(analysis.lines_of_code, 0);
    }
}
