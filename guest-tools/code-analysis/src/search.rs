//! Substring search for the rules: short ASCII needles in short lines.

/// Where the ASCII `needle` starts in `text`, every place (matches may
/// overlap; the rules reject a match that starts inside another one, as
/// its text before is then part of an identifier or path).
///
/// The rules search short needles in short lines, thousands of times a
/// file: `str::match_indices` and `str::contains` build a two-way searcher
/// for every search (on x86-64 `contains` takes a SIMD path instead, which
/// no other target has). Here the first byte is found with the `memchr`
/// crate, vectorised on every target that has vectors (WebAssembly with
/// `simd128` included), and the rest compared in place.
pub fn find_all<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    debug_assert!(needle.is_ascii() && !needle.is_empty());
    let (bytes, wanted) = (text.as_bytes(), needle.as_bytes());
    let first = wanted.first().copied().unwrap_or(0);
    memchr::memchr_iter(first, bytes).filter(move |&at| bytes[at..].starts_with(wanted))
}

/// Whether `text` contains the ASCII `needle`.
pub fn contains(text: &str, needle: &str) -> bool {
    find_all(text, needle).next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_start_is_found_in_any_text() {
        assert_eq!(
            find_all("eval(x) + eval(y)", "eval").collect::<Vec<_>>(),
            [0, 10]
        );
        // Overlapping starts are all reported.
        assert_eq!(find_all("AKIAKIA", "AKIA").collect::<Vec<_>>(), [0, 3]);
        // Multi-byte text around the needle: every start is a char boundary.
        let text = "é = eval(ü)";
        let starts: Vec<_> = find_all(text, "eval").collect();
        assert_eq!(starts, [text.find("eval").unwrap()]);
        assert!(contains("# TODO: later", "TODO"));
        assert!(!contains("TOD", "TODO"));
        assert!(!contains("", "x"));
    }
}
