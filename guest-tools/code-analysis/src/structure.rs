//! Functions and block nesting: the structural measures of a file.
//!
//! Python blocks are measured by indentation, JavaScript and Rust blocks by
//! `{}`. Both work on the code part of each [`Line`], so braces and keywords
//! inside strings and comments are never counted.

use crate::Language;
use crate::source::{Line, is_identifier_char};

/// Nesting deeper than this is reported as `deep-nesting`.
pub const MAX_NESTING: u32 = 4;

/// What [`measure`] found.
#[derive(Default)]
pub struct Structure {
    pub functions: Vec<Function>,
    pub max_depth: u32,
    /// Lines where the nesting goes from [`MAX_NESTING`] to one deeper.
    pub deep_lines: Vec<u32>,
}

/// One function.
pub struct Function {
    pub name: String,
    /// Line of the `def`, `function`, `=>` or `fn`.
    pub start: u32,
    /// Lines from `start` to the end of the body; `None` for arrow functions
    /// with an expression body.
    pub length: Option<u32>,
}

/// Finds the functions and the nesting of `lines`.
pub fn measure(lines: &[Line<'_>], language: Language) -> Structure {
    match language {
        Language::Python => python(lines),
        Language::Javascript | Language::Rust => braces(lines, language),
    }
}

impl Structure {
    fn enter(&mut self, depth: u32, line: u32) {
        self.max_depth = self.max_depth.max(depth);
        if depth == MAX_NESTING + 1 {
            self.deep_lines.push(line);
        }
    }
}

fn python(lines: &[Line<'_>]) -> Structure {
    // Logical lines: the first physical line of each statement with code.
    let logical: Vec<(usize, usize)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.continuation && !line.code.trim().is_empty())
        .map(|(index, line)| (index, indent_width(&line.code)))
        .collect();
    let base = logical.iter().map(|&(_, indent)| indent).min().unwrap_or(0);

    let mut structure = Structure::default();
    let mut stack = vec![base];
    let mut previous_depth = 0;
    for (k, &(index, indent)) in logical.iter().enumerate() {
        while stack.len() > 1 && indent < stack[stack.len() - 1] {
            stack.pop();
        }
        if indent > stack[stack.len() - 1] {
            stack.push(indent);
        }
        let depth = u32::try_from(stack.len() - 1).unwrap_or(u32::MAX);
        if depth > previous_depth {
            structure.enter(depth, lines[index].number);
        }
        previous_depth = depth;

        let Some(name) = python_def_name(&lines[index].code) else {
            continue;
        };
        // The body ends before the next statement indented no deeper than
        // the `def`; trailing blank and comment lines are not part of it.
        let next = logical[k + 1..]
            .iter()
            .find(|&&(_, other)| other <= indent)
            .map_or(lines.len(), |&(next, _)| next);
        let last = lines[index..next]
            .iter()
            .rev()
            .find(|line| line.is_code())
            .map_or(lines[index].number, |line| line.number);
        structure.functions.push(Function {
            name,
            start: lines[index].number,
            length: Some(last - lines[index].number + 1),
        });
    }
    structure
}

/// The name in `def name(` or `async def name(`.
fn python_def_name(code: &str) -> Option<String> {
    let mut words = code.split_whitespace();
    let mut first = words.next()?;
    if first == "async" {
        first = words.next()?;
    }
    if first != "def" {
        return None;
    }
    let rest = words.next()?;
    let name: String = rest
        .chars()
        .take_while(|&c| is_identifier_char(c))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Leading whitespace width, with tabs to the next multiple of 8.
fn indent_width(code: &str) -> usize {
    let mut width = 0;
    for c in code.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width = (width / 8 + 1) * 8,
            _ => break,
        }
    }
    width
}

/// A `function` or `fn` whose body has not opened yet.
struct Pending {
    name: String,
    start: u32,
    /// Bracket depth at the keyword: the body's `{` is at the same depth.
    brackets: u32,
    /// The next identifier is the function's name.
    expects_name: bool,
}

/// A function whose body is open.
struct Open {
    name: String,
    start: u32,
    depth: u32,
}

fn braces(lines: &[Line<'_>], language: Language) -> Structure {
    let mut structure = Structure::default();
    let mut depth = 0u32;
    let mut brackets = 0u32;
    let mut pending: Option<Pending> = None;
    let mut arrow: Option<u32> = None;
    let mut open: Vec<Open> = Vec::new();

    for line in lines {
        let number = line.number;
        for token in tokens(&line.code) {
            // An arrow's body is whatever token follows `=>`.
            if let Some(start) = arrow.take() {
                if token == "{" {
                    pending = Some(Pending {
                        name: "arrow function".to_string(),
                        start,
                        brackets,
                        expects_name: false,
                    });
                } else {
                    structure.functions.push(Function {
                        name: "arrow function".to_string(),
                        start,
                        length: None,
                    });
                }
            }
            if let Some(p) = pending.as_mut().filter(|p| p.expects_name) {
                p.expects_name = false;
                if token.starts_with(is_identifier_char) {
                    p.name = token.to_string();
                    continue;
                }
                if language == Language::Rust {
                    // `fn(u32) -> u32` is a type, not a function.
                    pending = None;
                }
            }
            // A keyword inside a pending signature's brackets is part of a
            // type or a default value, not a new function.
            let in_signature = pending.as_ref().is_some_and(|p| p.brackets < brackets);
            match token {
                "function" | "fn" if in_signature => {}
                "function" if language == Language::Javascript => {
                    pending = Some(Pending {
                        name: "anonymous function".to_string(),
                        start: number,
                        brackets,
                        expects_name: true,
                    });
                }
                "fn" if language == Language::Rust => {
                    pending = Some(Pending {
                        name: String::new(),
                        start: number,
                        brackets,
                        expects_name: true,
                    });
                }
                "=>" if language == Language::Javascript => arrow = Some(number),
                "(" | "[" => brackets += 1,
                ")" | "]" => brackets = brackets.saturating_sub(1),
                // A `fn` without a body: a trait or extern declaration.
                ";" if pending.as_ref().is_some_and(|p| p.brackets == brackets) => {
                    pending = None;
                }
                "{" => {
                    depth += 1;
                    structure.enter(depth, number);
                    if let Some(p) = pending.take_if(|p| p.brackets == brackets) {
                        open.push(Open {
                            name: p.name,
                            start: p.start,
                            depth,
                        });
                    }
                }
                "}" => {
                    if let Some(f) = open.pop_if(|f| f.depth == depth) {
                        structure.functions.push(Function {
                            name: f.name,
                            start: f.start,
                            length: Some(number - f.start + 1),
                        });
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
        }
    }
    structure.functions.sort_by_key(|f| f.start);
    structure
}

/// Identifiers, `=>`, and single punctuation characters of one line of code.
fn tokens(code: &str) -> impl Iterator<Item = &str> {
    let mut rest = code;
    std::iter::from_fn(move || {
        rest = rest.trim_start();
        let first = rest.chars().next()?;
        let len = if is_identifier_char(first) || first == '$' {
            rest.find(|c: char| !(is_identifier_char(c) || c == '$'))
                .unwrap_or(rest.len())
        } else if rest.starts_with("=>") {
            2
        } else {
            first.len_utf8()
        };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        Some(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lines;

    fn run(text: &str, language: Language) -> Structure {
        measure(&lines(text, language), language)
    }

    fn summary(structure: &Structure) -> Vec<(String, u32, Option<u32>)> {
        structure
            .functions
            .iter()
            .map(|f| (f.name.clone(), f.start, f.length))
            .collect()
    }

    #[test]
    fn python_functions_end_at_dedent() {
        let text = "def a(x):\n    if x:\n        return 1\n\n    # done\n\nclass C:\n    async def b(self):\n        pass\n";
        let structure = run(text, Language::Python);
        assert_eq!(
            summary(&structure),
            [("a".into(), 1, Some(3)), ("b".into(), 8, Some(2))]
        );
        assert_eq!(structure.max_depth, 2);
    }

    #[test]
    fn javascript_counts_functions_and_arrows() {
        let text = "function f(a = {}) {\n  return [1].map(x => x * 2);\n}\nconst g = () => {\n  return 1;\n};";
        let structure = run(text, Language::Javascript);
        assert_eq!(
            summary(&structure),
            [
                ("f".into(), 1, Some(3)),
                ("arrow function".into(), 2, None),
                ("arrow function".into(), 4, Some(3)),
            ]
        );
        assert_eq!(structure.max_depth, 1);
    }

    #[test]
    fn rust_skips_declarations_and_fn_types() {
        let text = "trait T {\n    fn d(&self) -> [u8; 4];\n}\nfn f(g: fn(u32) -> u32) -> [u8; 2] {\n    if true {\n        loop {}\n    }\n    [0; 2]\n}";
        let structure = run(text, Language::Rust);
        assert_eq!(summary(&structure), [("f".into(), 4, Some(6))]);
        assert_eq!(structure.max_depth, 3);
    }

    #[test]
    fn deep_nesting_is_reported_once_per_descent() {
        let text = "a {\n b {\n  c {\n   d {\n    e {\n     f {\n     }\n    }\n    g {\n    }\n   }\n  }\n }\n}";
        let structure = run(text, Language::Javascript);
        assert_eq!(structure.max_depth, 6);
        assert_eq!(structure.deep_lines, [5, 9]);
    }
}
