//! {{name}}: a Corral tool. The world in `wit/world.wit` declares what it
//! exports; wit-bindgen generates the `Guest` trait from it.

wit_bindgen::generate!({ path: "wit", world: "{{name}}", generate_all });

use corral::mcp::log::{Level, log};

struct Tool;

impl Guest for Tool {
    fn count_words(text: String) -> Result<TextStats, String> {
        if text.is_empty() {
            return Err("the text is empty: give the text to count".into());
        }
        let stats = TextStats {
            words: count(text.split_whitespace().count()),
            lines: count(text.lines().count()),
            characters: count(text.chars().count()),
        };
        log(Level::Debug, Some("{{name}}"), &format!("counted {} words", stats.words));
        Ok(stats)
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

export!(Tool);
