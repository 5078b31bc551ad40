//! RFC 6570 level-1 URI templates, as resources are served under them.

/// Whether `uri` fits the RFC 6570 level-1 `template`: each `{name}`
/// stands for a non-empty run of characters without `/`, which ends where
/// the literal after it first appears (a variable right before another
/// takes one character). One pass without backtracking, so a component's
/// template cannot make a client's URI cost more than its length.
pub(super) fn fits(template: &str, uri: &str) -> bool {
    let mut rest = uri;
    let mut parts = template;
    while !parts.is_empty() {
        let Some(open) = parts.find('{') else {
            return rest == parts;
        };
        let Some(after) = rest.strip_prefix(&parts[..open]) else {
            return false;
        };
        let Some(close) = parts[open..].find('}') else {
            return false;
        };
        parts = &parts[open + close + 1..];
        // The variable's value: up to the next literal, or one character
        // before another variable, or the rest (never across a `/`).
        let segment = &after[..after.find('/').unwrap_or(after.len())];
        let next = parts.find('{').map_or(parts, |i| &parts[..i]);
        let taken = if parts.starts_with('{') {
            segment.chars().next().map_or(0, char::len_utf8)
        } else if next.is_empty() {
            segment.len()
        } else {
            let first = after.chars().next().map_or(1, char::len_utf8);
            match after.get(first..).and_then(|tail| tail.find(next)) {
                Some(i) if i + first <= segment.len() => i + first,
                _ => return false,
            }
        };
        if taken == 0 {
            return false;
        }
        rest = &after[taken..];
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_fit_level_one_templates() {
        assert!(fits(
            "test://template/{id}/data",
            "test://template/123/data"
        ));
        assert!(!fits("test://template/{id}/data", "test://template//data"));
        assert!(!fits(
            "test://template/{id}/data",
            "test://template/1/2/data"
        ));
        assert!(fits("docs://{a}-{b}", "docs://x-y"));
        assert!(fits("plain://x", "plain://x"));
        assert!(!fits("plain://x", "plain://y"));
        assert!(!fits("broken://{x", "broken://{x"));
        assert!(fits("a/{x}{y}", "a/12"));
        assert!(fits("a/{x}.json", "a/é.json"));
        assert!(fits("a/{x}.json", "a/b.json"));
        assert!(!fits("a/{x}", "a/b/c"));
    }

    #[test]
    fn a_template_cannot_make_matching_costly() {
        // Ten variables in a row against a long URI: one pass, no
        // backtracking over the ways to split it.
        let template = "x://{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}!";
        let uri = format!("x://{}", "y".repeat(100_000));
        assert!(!fits(template, &uri));
    }
}
