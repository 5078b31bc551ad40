//! Whether both servers' `analyze_code` give the same answer on the
//! benchmark file. The heavy-tool ratios only compare like with like if
//! they do, so the report says how the answers differ, if at all.

use serde_json::Value;

use crate::server::{StdioServer, Target};
use crate::workload::Call;

/// Calls `analyze_code` once on each server and says how the answers differ.
pub async fn compare_analyses(
    corral: &Target,
    native: &Target,
    python: &str,
) -> anyhow::Result<String> {
    let mut answers = Vec::new();
    for target in [corral, native] {
        let server = StdioServer::start(target).await?;
        let result = server
            .session
            .call_tool(Call::Analyze.params(0, python))
            .await?;
        server.stop().await;
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.clone())
            .unwrap_or_default();
        answers.push((result.structured_content.unwrap_or(Value::Null), text));
    }
    let summary = |v: &Value| {
        let findings = |key: &str| -> Vec<String> {
            let mut list: Vec<String> = v[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("{}:{}", f["line"], f["rule"].as_str().unwrap_or("?")))
                .collect();
            list.sort();
            list
        };
        (
            [
                "quality_score",
                "lines_of_code",
                "functions",
                "max_nesting_depth",
            ]
            .map(|k| v[k].to_string())
            .join(" / "),
            findings("suggestions"),
            findings("vulnerabilities"),
        )
    };
    let (c, n) = (summary(&answers[0].0), summary(&answers[1].0));
    let mut out = format!(
        "score / lines of code / functions / max nesting: Corral {}, native {}. \
         Findings (line:rule): Corral {} suggestions and {} vulnerabilities, native {} and {}; \
         the lists are {}. Text block: Corral {} bytes, native {} bytes. \
         The answers (structuredContent and text) are {}.",
        c.0,
        n.0,
        c.1.len(),
        c.2.len(),
        n.1.len(),
        n.2.len(),
        if c.1 == n.1 && c.2 == n.2 {
            "the same".to_owned()
        } else {
            "different".to_owned()
        },
        answers[0].1.len(),
        answers[1].1.len(),
        if answers[0] == answers[1] {
            "byte-identical"
        } else {
            "different"
        },
    );
    if c.1 != n.1 || c.2 != n.2 {
        let only = |a: &[String], b: &[String]| {
            a.iter()
                .filter(|x| !b.contains(x))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (a, b) = (
            [c.1.clone(), c.2.clone()].concat(),
            [n.1.clone(), n.2.clone()].concat(),
        );
        out.push_str(&format!(
            " Only Corral: {}. Only native: {}.",
            only(&a, &b),
            only(&b, &a)
        ));
    }
    Ok(out)
}
