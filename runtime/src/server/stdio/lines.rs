//! Reading newline-delimited messages with a bound on each line.
//!
//! A line longer than the bound is never held: its first bytes are kept
//! (to find the request id for the error answer) and the rest is skipped up
//! to its line break.

use std::io::{self, BufRead, BufReader, Read};

/// How much of an oversize line is kept to find its request id.
const HEAD: usize = 4096;

/// One line from the client.
pub(super) enum Line {
    /// A whole line, without its line break.
    Complete(Vec<u8>),
    /// A line longer than the bound: its first bytes.
    Oversize(Vec<u8>),
}

/// Reads lines of at most `max` bytes.
pub(super) struct LineReader<R> {
    reader: BufReader<R>,
    max: usize,
    line: Vec<u8>,
    /// The head of an oversize line whose end is still to be skipped.
    skipping: Option<Vec<u8>>,
}

impl<R: Read> LineReader<R> {
    /// Lines of `reader`, each at most `max` bytes.
    pub(super) fn new(reader: R, max: usize) -> LineReader<R> {
        LineReader {
            reader: BufReader::with_capacity(64 * 1024, reader),
            max,
            line: Vec::new(),
            skipping: None,
        }
    }

    /// The next line; `None` at the end of the input. A last line without
    /// a line break counts as a line.
    pub(super) fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if let Some(head) = self.skipping.take() {
                    return Ok(Some(Line::Oversize(head)));
                }
                if self.line.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(Line::Complete(std::mem::take(&mut self.line))));
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let content = newline.unwrap_or(available.len());
            let consumed = newline.map_or(available.len(), |i| i + 1);
            if let Some(head) = &mut self.skipping {
                let room = HEAD.saturating_sub(head.len()).min(content);
                head.extend_from_slice(&available[..room]);
            } else if self.line.len() + content > self.max {
                let mut head = std::mem::take(&mut self.line);
                head.truncate(HEAD);
                let room = HEAD.saturating_sub(head.len()).min(content);
                head.extend_from_slice(&available[..room]);
                self.line = Vec::new();
                self.skipping = Some(head);
            } else {
                self.line.extend_from_slice(&available[..content]);
            }
            self.reader.consume(consumed);
            if newline.is_some() {
                if let Some(head) = self.skipping.take() {
                    return Ok(Some(Line::Oversize(head)));
                }
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(Line::Complete(line)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, Vec<u8>>> {
        let mut reader = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push(match line {
                Line::Complete(l) => Ok(l),
                Line::Oversize(head) => Err(head),
            });
        }
        out
    }

    #[test]
    fn lines_are_split_and_bounded() {
        let long = format!("{{\"id\":7,\"x\":\"{}\"}}", "a".repeat(10_000));
        let input = format!("one\r\n{long}\ntwo\nlast");
        let got = lines(input.as_bytes(), 100);
        assert_eq!(got[0], Ok(b"one".to_vec()));
        let head = got[1].clone().unwrap_err();
        assert_eq!(head.len(), HEAD);
        assert!(head.starts_with(b"{\"id\":7"));
        assert_eq!(got[2], Ok(b"two".to_vec()));
        assert_eq!(got[3], Ok(b"last".to_vec()));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_line_of_exactly_the_bound_passes() {
        let input = format!("{}\n{}\n", "a".repeat(100), "b".repeat(101));
        let got = lines(input.as_bytes(), 100);
        assert_eq!(got[0], Ok(vec![b'a'; 100]));
        assert!(got[1].is_err());
    }
}
