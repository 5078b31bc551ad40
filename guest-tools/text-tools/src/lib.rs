//! Pure text utilities. Besides being useful, the interface is the project's
//! reference for WIT types: between them the functions use every one (bool,
//! all integer widths, f32, f64, char, string, list, record, tuple, variant,
//! enum, option, result and flags), so the host's schema and conversion code
//! meets each type in a real tool.

wit_bindgen::generate!({ path: "wit", world: "text-tools" });
corral_guest::package_docs!();

use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use exports::corral::text_tools::text::{
    Guest, HashAlgorithm, MatchOptions, Stats, Step, TextMatch,
};
use sha2::{Digest, Sha256};

/// Standard base64 that decodes with or without `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The FNV-1a 64-bit offset basis.
const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// A compiled pattern may use at most this much memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// `f32` has about 7 significant decimal digits.
const MAX_ROUND_PLACES: u8 = 7;

struct TextTools;

impl Guest for TextTools {
    fn statistics(text: String) -> Stats {
        let words = words(&text);
        let word_chars: usize = words.iter().map(|w| w.chars().count()).sum();
        let longest = words
            .iter()
            .copied()
            .reduce(|best, w| {
                if w.chars().count() > best.chars().count() {
                    w
                } else {
                    best
                }
            })
            .map(str::to_string);
        Stats {
            characters: count(text.chars().count()),
            words: count(words.len()),
            lines: count(text.lines().count()),
            sentences: sentences(&text),
            average_word_length: if words.is_empty() {
                0.0
            } else {
                word_chars as f64 / words.len() as f64
            },
            longest_word: longest,
        }
    }

    fn slugify(text: String, max_length: Option<u32>) -> String {
        let mut slug = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_alphanumeric() {
                slug.extend(c.to_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        if let Some(max) = max_length {
            slug = slug.chars().take(max as usize).collect();
        }
        slug.trim_end_matches('-').to_string()
    }

    fn base64_encode(data: String) -> String {
        BASE64.encode(data)
    }

    fn base64_decode(encoded: String) -> Result<String, String> {
        let bytes = BASE64
            .decode(encoded.trim())
            .map_err(|err| format!("not valid base64: {err}"))?;
        String::from_utf8(bytes)
            .map_err(|err| format!("the decoded bytes are not UTF-8 text: {err}"))
    }

    fn regex_find(
        pattern: String,
        text: String,
        options: MatchOptions,
    ) -> Result<Option<TextMatch>, String> {
        let regex = regex::RegexBuilder::new(&pattern)
            .case_insensitive(options.contains(MatchOptions::IGNORE_CASE))
            .multi_line(options.contains(MatchOptions::MULTI_LINE))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|err| format!("invalid regular expression: {err}"))?;
        Ok(regex.find(&text).map(|m| {
            let start = text[..m.start()].chars().count();
            let len = m.as_str().chars().count();
            TextMatch {
                start: count(start),
                end: count(start + len),
                matched: m.as_str().to_string(),
            }
        }))
    }

    fn hash(text: String, algorithm: HashAlgorithm) -> String {
        match algorithm {
            HashAlgorithm::Sha256 => hex(&Sha256::digest(text.as_bytes())),
            HashAlgorithm::Fnv1a64 => {
                format!("{:016x}", fnv1a64(text.as_bytes(), FNV_OFFSET_BASIS))
            }
            HashAlgorithm::Crc32 => format!("{:08x}", crc32fast::hash(text.as_bytes())),
        }
    }

    fn transform(text: String, steps: Vec<Step>) -> String {
        steps.into_iter().fold(text, |text, step| match step {
            Step::Upper => text.to_uppercase(),
            Step::Lower => text.to_lowercase(),
            Step::Reverse => text.chars().rev().collect(),
            Step::Replace((from, _)) if from.is_empty() => text,
            Step::Replace((from, to)) => text.replace(&from, &to),
            Step::Truncate(n) => text.chars().take(n as usize).collect(),
        })
    }

    fn char_info(c: char) -> (u32, bool, String) {
        (u32::from(c), c.is_alphabetic(), category(c).to_string())
    }

    fn is_palindrome(text: String) -> bool {
        let folded: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        folded.iter().eq(folded.iter().rev())
    }

    fn word_frequencies(text: String, top: u8) -> Vec<(String, u32)> {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for word in words(&text) {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
        let mut pairs: Vec<(String, u32)> = counts.into_iter().collect();
        // Stable sort: the BTreeMap order keeps ties alphabetical.
        pairs.sort_by_key(|&(_, count)| Reverse(count));
        if top > 0 {
            pairs.truncate(usize::from(top));
        }
        pairs
    }

    fn caesar(text: String, shift: i8) -> String {
        let shift = i32::from(shift).rem_euclid(26) as u8;
        text.chars()
            .map(|c| {
                let base = match c {
                    'a'..='z' => b'a',
                    'A'..='Z' => b'A',
                    _ => return c,
                };
                char::from(base + (c as u8 - base + shift) % 26)
            })
            .collect()
    }

    fn checksum16(text: String) -> u16 {
        let (mut low, mut high) = (0u16, 0u16);
        for &byte in text.as_bytes() {
            low = (low + u16::from(byte)) % 255;
            high = (high + low) % 255;
        }
        (high << 8) | low
    }

    fn clamp_number(value: i64, min: i64, max: i64) -> i64 {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        value.clamp(min, max)
    }

    fn round_to(value: f32, places: u8) -> f32 {
        let scale = 10f64.powi(i32::from(places.min(MAX_ROUND_PLACES)));
        ((f64::from(value) * scale).round() / scale) as f32
    }

    fn rotate_words(text: String, by: i16) -> String {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        if !words.is_empty() {
            let len = words.len() as i64;
            words.rotate_left(i64::from(by).rem_euclid(len) as usize);
        }
        words.join(" ")
    }

    fn compare(a: String, b: String, ignore_case: bool) -> i32 {
        let order = if ignore_case {
            a.to_lowercase().cmp(&b.to_lowercase())
        } else {
            a.cmp(&b)
        };
        match order {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    fn hash_seeded(text: String, seed: u64) -> u64 {
        fnv1a64(text.as_bytes(), seed)
    }
}

export!(TextTools);

/// Runs of letters, digits, `'` and `-`, with `'` and `-` trimmed from the
/// ends.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '’' | '-')))
        .map(|w| w.trim_matches(|c| matches!(c, '\'' | '’' | '-')))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Sentence endings after a word and before whitespace or the end, plus a
/// final unterminated sentence.
fn sentences(text: &str) -> u32 {
    let mut sentences = 0;
    let mut in_sentence = false;
    let mut ending = false;
    for c in text.chars() {
        if matches!(c, '.' | '!' | '?' | '…') {
            ending |= in_sentence;
        } else if ending && c.is_whitespace() {
            sentences += 1;
            in_sentence = false;
            ending = false;
        } else if ending && matches!(c, '"' | '\'' | ')' | '”' | '’') {
            // A closing quote or bracket after the full stop.
        } else if c.is_alphanumeric() {
            in_sentence = true;
            ending = false;
        }
    }
    sentences + u32::from(in_sentence)
}

fn category(c: char) -> &'static str {
    if c.is_uppercase() {
        "uppercase-letter"
    } else if c.is_lowercase() {
        "lowercase-letter"
    } else if c.is_alphabetic() {
        "other-letter"
    } else if c.is_numeric() {
        "number"
    } else if c.is_whitespace() {
        "whitespace"
    } else if c.is_control() {
        "control"
    } else if c.is_ascii_punctuation() || ('\u{2010}'..='\u{205e}').contains(&c) {
        "punctuation"
    } else {
        "other"
    }
}

fn fnv1a64(bytes: &[u8], basis: u64) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(basis, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_counts_words_lines_and_sentences() {
        let stats = TextTools::statistics(
            "Hello, world! It's a well-known test.\nPi is 3.14 (roughly)\n".to_string(),
        );
        assert_eq!(stats.words, 11); // "3.14" is two words
        assert_eq!(stats.lines, 2);
        assert_eq!(stats.sentences, 3);
        assert_eq!(stats.longest_word.as_deref(), Some("well-known"));
        assert_eq!(TextTools::statistics(String::new()).longest_word, None);
    }

    #[test]
    fn slugify_joins_words_with_dashes() {
        assert_eq!(
            TextTools::slugify("  Hello, World! ".into(), None),
            "hello-world"
        );
        assert_eq!(
            TextTools::slugify("Crème brûlée".into(), None),
            "crème-brûlée"
        );
        assert_eq!(TextTools::slugify("ab cd ef".into(), Some(3)), "ab");
    }

    #[test]
    fn base64_round_trips_and_names_errors() {
        let encoded = TextTools::base64_encode("héllo".into());
        assert_eq!(TextTools::base64_decode(encoded), Ok("héllo".into()));
        assert_eq!(TextTools::base64_decode("aGk".into()), Ok("hi".into()));
        assert!(
            TextTools::base64_decode("a$b=".into())
                .unwrap_err()
                .starts_with("not valid base64")
        );
        assert!(
            TextTools::base64_decode("/w==".into())
                .unwrap_err()
                .contains("UTF-8")
        );
    }

    #[test]
    fn regex_find_reports_character_positions() {
        let found = TextTools::regex_find(
            "W\\w+".into(),
            "héllo world".into(),
            MatchOptions::IGNORE_CASE,
        );
        let found = found.unwrap().unwrap();
        assert_eq!(
            (found.start, found.end, found.matched.as_str()),
            (6, 11, "world")
        );
        let missing = TextTools::regex_find("x".into(), "abc".into(), MatchOptions::empty());
        assert!(matches!(missing, Ok(None)));
        assert!(TextTools::regex_find("(".into(), "".into(), MatchOptions::empty()).is_err());
    }

    #[test]
    fn hashes_match_known_values() {
        assert_eq!(
            TextTools::hash("abc".into(), HashAlgorithm::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            TextTools::hash("a".into(), HashAlgorithm::Fnv1a64),
            "af63dc4c8601ec8c"
        );
        assert_eq!(
            TextTools::hash("123456789".into(), HashAlgorithm::Crc32),
            "cbf43926"
        );
        assert_eq!(
            TextTools::hash_seeded("a".into(), FNV_OFFSET_BASIS),
            0xaf63dc4c8601ec8c
        );
    }

    #[test]
    fn transform_applies_steps_in_order() {
        let steps = vec![
            Step::Upper,
            Step::Replace(("L".into(), "_".into())),
            Step::Reverse,
            Step::Truncate(3),
        ];
        assert_eq!(TextTools::transform("hello".into(), steps), "O__");
    }

    #[test]
    fn small_functions() {
        assert_eq!(
            TextTools::char_info('é'),
            (233, true, "lowercase-letter".into())
        );
        assert!(TextTools::is_palindrome(
            "A man, a plan, a canal: Panama!".into()
        ));
        assert_eq!(
            TextTools::word_frequencies("b a B c a b".into(), 2),
            [("b".to_string(), 3), ("a".to_string(), 2)]
        );
        assert_eq!(TextTools::caesar("Zz, ok".into(), 1), "Aa, pl");
        assert_eq!(
            TextTools::caesar(TextTools::caesar("Hi".into(), -100), 100),
            "Hi"
        );
        assert_eq!(TextTools::checksum16("abcde".into()), 0xC8F0);
        assert_eq!(TextTools::clamp_number(5, 10, 0), 5);
        assert_eq!(TextTools::clamp_number(-5, 0, 10), 0);
        assert_eq!(TextTools::round_to(2.345, 2), 2.35);
        assert_eq!(TextTools::rotate_words("a b  c".into(), -1), "c a b");
        assert_eq!(TextTools::compare("B".into(), "a".into(), true), 1);
        assert_eq!(TextTools::compare("B".into(), "a".into(), false), -1);
    }
}
