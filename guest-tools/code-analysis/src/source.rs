//! Splits source text into lines and separates code from comments and string
//! literals, so the rules about code never fire on prose or data.
//!
//! This is a lexer only as far as the rules need: it knows each language's
//! comment and string syntax (Python triple quotes, JavaScript template
//! literals, Rust raw strings, nested block comments and lifetimes) and
//! nothing else.

use crate::Language;

/// One physical line of the source, split three ways.
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u32,
    /// The line as written, without its line terminator.
    pub raw: &'a str,
    /// The line with comments removed and string literal contents replaced by
    /// spaces; quotes, brackets and code are kept in place.
    pub code: String,
    /// The text of the comments on this line.
    pub comment: String,
    /// Whether any part of the line is a comment (including its delimiters).
    pub has_comment: bool,
    /// Python only: the line continues a statement begun earlier (inside open
    /// brackets, a triple-quoted string, or after a trailing backslash).
    pub continuation: bool,
}

impl Line<'_> {
    /// A line that is neither blank nor only a comment.
    pub fn is_code(&self) -> bool {
        let blank = self.raw.trim().is_empty();
        let comment_only = self.has_comment && self.code.trim().is_empty();
        !blank && !comment_only
    }
}

/// Where the lexer is at the end of a line.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Code,
    /// Inside `/* */`; Rust nests them.
    BlockComment {
        depth: u32,
    },
    /// Inside a string literal.
    Str(Quote),
}

#[derive(Clone, Copy, PartialEq)]
struct Quote {
    /// The quote character that closes the literal.
    close: char,
    /// Python `"""` / `'''`.
    triple: bool,
    /// Rust raw string: the number of `#` after the closing quote.
    raw_hashes: Option<usize>,
    /// The literal may continue on the next line.
    multiline: bool,
}

/// Splits `text` into [`Line`]s for `language`.
pub fn lines(text: &str, language: Language) -> Vec<Line<'_>> {
    let mut lexer = Lexer {
        language,
        state: State::Code,
        brackets: 0,
    };
    let mut previous_backslash = false;
    let mut out = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let continuation = language == Language::Python
            && (lexer.state != State::Code || lexer.brackets > 0 || previous_backslash);
        let mut line = Line {
            number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            raw,
            code: String::with_capacity(raw.len()),
            comment: String::new(),
            has_comment: false,
            continuation,
        };
        lexer.line(&mut line);
        previous_backslash = line.code.trim_end().ends_with('\\');
        out.push(line);
    }
    // `split` yields one empty line after a final newline: it is not a line.
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

struct Lexer {
    language: Language,
    state: State,
    /// Python: open `(`, `[` and `{`, for continuation lines.
    brackets: u32,
}

impl Lexer {
    fn line(&mut self, line: &mut Line<'_>) {
        let chars: Vec<char> = line.raw.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            i = match self.state {
                State::Code => self.code(&chars, i, line),
                State::BlockComment { depth } => self.block_comment(&chars, i, depth, line),
                State::Str(quote) => self.string(&chars, i, quote, line),
            };
        }
        if let State::Str(quote) = self.state
            && !quote.multiline
        {
            // An unterminated single-line string ends with its line.
            self.state = State::Code;
        }
    }

    /// Consumes code starting at `i`; returns the next index.
    fn code(&mut self, chars: &[char], i: usize, line: &mut Line<'_>) -> usize {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let python = self.language == Language::Python;
        if (python && c == '#') || (!python && c == '/' && next == Some('/')) {
            line.has_comment = true;
            line.comment.extend(&chars[i..]);
            return chars.len();
        }
        if !python && c == '/' && next == Some('*') {
            line.has_comment = true;
            line.code.push_str("  ");
            self.state = State::BlockComment { depth: 1 };
            return i + 2;
        }
        match self.language {
            Language::Python => self.python_code(chars, i, line),
            Language::Javascript => self.javascript_code(chars, i, line),
            Language::Rust => self.rust_code(chars, i, line),
        }
    }

    fn python_code(&mut self, chars: &[char], i: usize, line: &mut Line<'_>) -> usize {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                let width = if triple { 3 } else { 1 };
                line.code.extend(&chars[i..i + width]);
                self.state = State::Str(Quote {
                    close: c,
                    triple,
                    raw_hashes: None,
                    multiline: triple,
                });
                i + width
            }
            '(' | '[' | '{' => {
                self.brackets += 1;
                line.code.push(c);
                i + 1
            }
            ')' | ']' | '}' => {
                self.brackets = self.brackets.saturating_sub(1);
                line.code.push(c);
                i + 1
            }
            _ => {
                line.code.push(c);
                i + 1
            }
        }
    }

    fn javascript_code(&mut self, chars: &[char], i: usize, line: &mut Line<'_>) -> usize {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            self.state = State::Str(Quote {
                close: c,
                triple: false,
                raw_hashes: None,
                multiline: c == '`',
            });
        }
        line.code.push(c);
        i + 1
    }

    fn rust_code(&mut self, chars: &[char], i: usize, line: &mut Line<'_>) -> usize {
        let c = chars[i];
        let after_identifier = i > 0 && is_identifier_char(chars[i - 1]);
        if c == '"' {
            line.code.push(c);
            self.state = State::Str(Quote {
                close: '"',
                triple: false,
                raw_hashes: None,
                multiline: true,
            });
            return i + 1;
        }
        if (c == 'r' || (c == 'b' && chars.get(i + 1) == Some(&'r'))) && !after_identifier {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|&&h| h == '#').count();
            if chars.get(start + hashes) == Some(&'"') {
                line.code.extend(&chars[i..=start + hashes]);
                self.state = State::Str(Quote {
                    close: '"',
                    triple: false,
                    raw_hashes: Some(hashes),
                    multiline: true,
                });
                return start + hashes + 1;
            }
        }
        if c == '\'' {
            // 'x' and '\n' are char literals; 'a without a closing quote is a
            // lifetime or a loop label, which is code.
            let closing = if chars.get(i + 1) == Some(&'\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&q| q == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = closing {
                line.code.push('\'');
                line.code.extend(std::iter::repeat_n(' ', end - i - 1));
                line.code.push('\'');
                return end + 1;
            }
        }
        line.code.push(c);
        i + 1
    }

    fn block_comment(
        &mut self,
        chars: &[char],
        i: usize,
        depth: u32,
        line: &mut Line<'_>,
    ) -> usize {
        line.has_comment = true;
        let pair = (chars[i], chars.get(i + 1).copied());
        if pair == ('*', Some('/')) {
            self.state = match depth {
                1 => State::Code,
                _ => State::BlockComment { depth: depth - 1 },
            };
            line.code.push_str("  ");
            return i + 2;
        }
        if pair == ('/', Some('*')) && self.language == Language::Rust {
            self.state = State::BlockComment { depth: depth + 1 };
            line.code.push_str("  ");
            return i + 2;
        }
        line.comment.push(chars[i]);
        line.code.push(' ');
        i + 1
    }

    fn string(&mut self, chars: &[char], i: usize, quote: Quote, line: &mut Line<'_>) -> usize {
        let c = chars[i];
        if c == '\\' && quote.raw_hashes.is_none() {
            line.code.push(' ');
            if i + 1 < chars.len() {
                line.code.push(' ');
            }
            return i + 2;
        }
        if c == quote.close {
            let tail = if quote.triple {
                2
            } else {
                quote.raw_hashes.unwrap_or(0)
            };
            let closing = if quote.triple { quote.close } else { '#' };
            let closes = (1..=tail).all(|k| chars.get(i + k) == Some(&closing));
            if closes {
                line.code.extend(&chars[i..=i + tail]);
                self.state = State::Code;
                return i + tail + 1;
            }
        }
        line.code.push(' ');
        i + 1
    }
}

/// Letters, digits and `_`: the characters of an identifier.
pub fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str, language: Language) -> Vec<String> {
        lines(text, language).into_iter().map(|l| l.code).collect()
    }

    #[test]
    fn python_comments_and_strings_are_blanked() {
        let code = code_of(
            "x = 'eval(' # eval(\ny = \"\"\"\neval(\n\"\"\"",
            Language::Python,
        );
        assert_eq!(code, ["x = '     ' ", "y = \"\"\"", "     ", "\"\"\""]);
    }

    #[test]
    fn python_lines_inside_brackets_are_continuations() {
        let lines = lines("f(\n  1,\n)\ng = 2 + \\\n  3\nh = 4\n", Language::Python);
        let flags: Vec<bool> = lines.iter().map(|l| l.continuation).collect();
        assert_eq!(flags, [false, true, true, false, true, false]);
    }

    #[test]
    fn rust_lifetimes_stay_code_and_char_literals_are_blanked() {
        let code = code_of("fn f<'a>(x: &'a str) -> char { '{' }", Language::Rust);
        assert_eq!(code, ["fn f<'a>(x: &'a str) -> char { ' ' }"]);
    }

    #[test]
    fn rust_raw_strings_and_nested_comments_are_blanked() {
        let code = code_of(
            "let s = r#\"a\"b\"#; /* x /* y */ z */ unsafe",
            Language::Rust,
        );
        let words: Vec<&str> = code[0].split_whitespace().collect();
        assert_eq!(words, ["let", "s", "=", "r#\"", "\"#;", "unsafe"]);
    }

    #[test]
    fn javascript_template_literals_span_lines() {
        let lines = lines(
            "const s = `\neval(\n`;\n// TODO later",
            Language::Javascript,
        );
        assert_eq!(lines[1].code.trim(), "");
        assert!(!lines[1].has_comment);
        assert_eq!(lines[3].comment, "// TODO later");
        assert!(!lines[3].is_code());
    }
}
