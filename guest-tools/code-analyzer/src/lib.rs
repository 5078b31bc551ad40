//! A deterministic code reviewer for Python, JavaScript and Rust.
//!
//! The analysis runs in three passes over the text: [`source`] separates code
//! from comments and strings line by line, [`structure`] finds functions and
//! block nesting, and [`rules`] turns both into findings. The score is
//! computed from the findings alone, so it can be explained to the user.

wit_bindgen::generate!({ path: "wit", world: "code-analyzer" });
corral_guest::package_docs!();

mod rules;
mod source;
mod structure;

use exports::corral::code_analyzer::analyzer::{Analysis, Finding, Guest, Language, Severity};

struct CodeAnalyzer;

impl Guest for CodeAnalyzer {
    fn analyze_code(code: String, language: Language) -> Analysis {
        analyze(&code, language)
    }

    fn supported_languages() -> Vec<Language> {
        vec![Language::Python, Language::Javascript, Language::Rust]
    }
}

export!(CodeAnalyzer);

fn analyze(code: &str, language: Language) -> Analysis {
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
