//! The `code-analyzer` component: the WIT glue around the `code-analysis`
//! crate, which does all the work.
//!
//! The analysis lives in a plain library so that the benchmark's native
//! floor runs exactly the same code; this crate only exports it through the
//! `corral:code-analyzer/analyzer` interface, converting between the
//! library's types and the ones `wit_bindgen::generate!` produces. The WIT
//! file's doc comments are the tool's documentation.

wit_bindgen::generate!({ path: "wit", world: "code-analyzer" });
corral_guest::package_docs!();

use exports::corral::code_analyzer::analyzer::{Analysis, Finding, Guest, Language, Severity};

struct CodeAnalyzer;

impl Guest for CodeAnalyzer {
    fn analyze_code(code: String, language: Language) -> Analysis {
        code_analysis::analyze(&code, language.into()).into()
    }

    fn supported_languages() -> Vec<Language> {
        vec![Language::Python, Language::Javascript, Language::Rust]
    }
}

export!(CodeAnalyzer);

impl From<Language> for code_analysis::Language {
    fn from(language: Language) -> Self {
        match language {
            Language::Python => code_analysis::Language::Python,
            Language::Javascript => code_analysis::Language::Javascript,
            Language::Rust => code_analysis::Language::Rust,
        }
    }
}

impl From<code_analysis::Severity> for Severity {
    fn from(severity: code_analysis::Severity) -> Self {
        match severity {
            code_analysis::Severity::Info => Severity::Info,
            code_analysis::Severity::Warning => Severity::Warning,
            code_analysis::Severity::High => Severity::High,
        }
    }
}

impl From<code_analysis::Finding> for Finding {
    fn from(finding: code_analysis::Finding) -> Self {
        Finding {
            line: finding.line,
            rule: finding.rule,
            message: finding.message,
            severity: finding.severity.into(),
        }
    }
}

impl From<code_analysis::Analysis> for Analysis {
    fn from(analysis: code_analysis::Analysis) -> Self {
        let list = |findings: Vec<code_analysis::Finding>| {
            findings.into_iter().map(Finding::from).collect()
        };
        Analysis {
            quality_score: analysis.quality_score,
            lines_of_code: analysis.lines_of_code,
            functions: analysis.functions,
            max_nesting_depth: analysis.max_nesting_depth,
            suggestions: list(analysis.suggestions),
            vulnerabilities: list(analysis.vulnerabilities),
        }
    }
}
