//! File tools over the directories the host preopens. Everything goes
//! through `std::fs`, which wasm32-wasip2 maps onto `wasi:filesystem`: the
//! host resolves each path against its preopens and enforces their
//! permissions, so this component needs no sandboxing logic of its own. Its
//! errors quote the OS error text unchanged so the caller can tell a denied
//! access from a missing file.

wit_bindgen::generate!({ path: "wit", world: "fs-tools", generate_all });
corral_guest::package_docs!();

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use corral::mcp::log::{Level, log};
use corral::mcp::progress::report;
use exports::corral::fs_tools::files::{EntryKind, FileEntry, Guest, SearchHit};

/// The largest file `read-file` returns.
const MAX_READ: u64 = 1 << 20;
/// Files larger than this are skipped by `search`.
const MAX_SEARCH_FILE: u64 = 10 << 20;
/// How much of a file's start `search` checks for NUL bytes.
const BINARY_SNIFF: usize = 8192;
const DEFAULT_RESULTS: u32 = 100;
const MAX_RESULTS: u32 = 10_000;
/// Longer lines are cut around the match in a search hit.
const MAX_LINE_CHARS: usize = 500;
/// How many characters before the match a cut line keeps.
const CONTEXT_BEFORE: usize = 200;

struct FsTools;

impl Guest for FsTools {
    fn list_files(path: String) -> Result<Vec<FileEntry>, String> {
        let cannot = |err: std::io::Error| format!("cannot list {path}: {err}");
        let mut entries = Vec::new();
        for entry in fs::read_dir(&path).map_err(cannot)? {
            let entry = entry.map_err(cannot)?;
            let file_type = entry.file_type().ok();
            let kind = match file_type {
                Some(t) if t.is_file() => EntryKind::File,
                Some(t) if t.is_dir() => EntryKind::Directory,
                Some(t) if t.is_symlink() => EntryKind::Symlink,
                _ => EntryKind::Other,
            };
            let size = match kind {
                EntryKind::File => entry.metadata().map_or(0, |m| m.len()),
                _ => 0,
            };
            entries.push(FileEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind,
                size,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn read_file(path: String) -> Result<String, String> {
        let file = File::open(&path).map_err(|err| format!("cannot open {path}: {err}"))?;
        let metadata = file
            .metadata()
            .map_err(|err| format!("cannot read {path}: {err}"))?;
        if metadata.is_dir() {
            return Err(format!(
                "{path} is a directory; use list-files to see its entries"
            ));
        }
        let too_large = |size: u64| {
            format!(
                "{path} is {size} bytes; read-file only reads files of at most 1 MiB \
                 ({MAX_READ} bytes)"
            )
        };
        if metadata.len() > MAX_READ {
            return Err(too_large(metadata.len()));
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        file.take(MAX_READ + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("cannot read {path}: {err}"))?;
        if bytes.len() as u64 > MAX_READ {
            return Err(too_large(bytes.len() as u64));
        }
        String::from_utf8(bytes).map_err(|err| {
            format!(
                "{path} is not UTF-8 text (invalid byte at offset {}); it may be a binary file",
                err.utf8_error().valid_up_to()
            )
        })
    }

    fn search(
        path: String,
        needle: String,
        max_results: Option<u32>,
    ) -> Result<Vec<SearchHit>, String> {
        if needle.is_empty() {
            return Err("needle is empty: give the text to search for".to_string());
        }
        if needle.contains('\n') {
            return Err("needle contains a line break; search matches within one line".to_string());
        }
        let limit = max_results.unwrap_or(DEFAULT_RESULTS).min(MAX_RESULTS) as usize;
        let mut search = Search {
            needle: &needle,
            limit,
            hits: Vec::new(),
            searched: 0,
        };
        let root = Path::new(&path);
        let metadata = fs::metadata(root).map_err(|err| format!("cannot search {path}: {err}"))?;
        if metadata.is_dir() {
            search
                .directory(root)
                .map_err(|err| format!("cannot search {path}: {err}"))?;
        } else {
            search.file(root);
        }
        log(
            Level::Info,
            Some("search"),
            &format!(
                "searched {} files under {path}: {} hits",
                search.searched,
                search.hits.len()
            ),
        );
        Ok(search.hits)
    }

    fn write_file(path: String, contents: String) -> Result<u64, String> {
        fs::write(&path, contents.as_bytes())
            .map_err(|err| format!("cannot write {path}: {err}"))?;
        Ok(contents.len() as u64)
    }
}

struct Search<'a> {
    needle: &'a str,
    limit: usize,
    hits: Vec<SearchHit>,
    /// Files read so far, for the progress reports.
    searched: u32,
}

impl Search<'_> {
    fn full(&self) -> bool {
        self.hits.len() >= self.limit
    }

    /// Searches `dir` recursively in name order. Only an unreadable `dir`
    /// is an error; unreadable entries below it are skipped.
    fn directory(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)?.filter_map(Result::ok).collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            if self.full() {
                break;
            }
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                let _ = self.directory(&path);
            } else if file_type.is_file() || file_type.is_symlink() {
                self.file(&path);
            }
        }
        Ok(())
    }

    /// Adds the hits of one file, unless it is not a readable text file of
    /// reasonable size.
    fn file(&mut self, path: &Path) {
        if self.full() {
            return;
        }
        let shown = path.to_string_lossy();
        let skip = |why: &str| {
            log(
                Level::Debug,
                Some("search"),
                &format!("skipped {shown}: {why}"),
            )
        };
        let Ok(metadata) = fs::metadata(path) else {
            return skip("cannot read its metadata");
        };
        if !metadata.is_file() || metadata.len() > MAX_SEARCH_FILE {
            return skip("not a file of at most 10 MiB");
        }
        let Ok(bytes) = fs::read(path) else {
            return skip("cannot read it");
        };
        self.searched += 1;
        report(f64::from(self.searched), None, Some(&shown));
        if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
            return skip("binary");
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return skip("not UTF-8 text");
        };
        if !text.contains(self.needle) {
            return;
        }
        for (index, line) in text.lines().enumerate() {
            if let Some(at) = line.find(self.needle) {
                self.hits.push(SearchHit {
                    path: shown.clone().into_owned(),
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                    text: excerpt(line, at),
                });
                if self.full() {
                    return;
                }
            }
        }
    }
}

/// `line` cut to at most [`MAX_LINE_CHARS`] characters around the match at
/// byte `at`, with "…" where it was cut.
fn excerpt(line: &str, at: usize) -> String {
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_string();
    }
    let before = line[..at].chars().count();
    let start = before.saturating_sub(CONTEXT_BEFORE);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(line.chars().skip(start).take(MAX_LINE_CHARS));
    if start + MAX_LINE_CHARS < line.chars().count() {
        out.push('…');
    }
    out
}

export!(FsTools);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_kept() {
        assert_eq!(excerpt("a needle here", 2), "a needle here");
    }

    #[test]
    fn long_lines_are_cut_around_the_match() {
        let line = format!("{}needle{}", "a".repeat(1000), "b".repeat(1000));
        let cut = excerpt(&line, 1000);
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert!(cut.contains("needle"));
        assert_eq!(cut.chars().count(), MAX_LINE_CHARS + 2);
    }
}
