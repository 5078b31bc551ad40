//! What the benchmark sends: the two tool calls, the Python file given to
//! `analyze_code`, and the call the memory phase holds instances with.

use rmcp::model::CallToolRequestParams;
use serde_json::{Map, Value, json};

/// A tool call the benchmark repeats.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    /// `add(a, b)`: almost no work, so the call is all overhead.
    Add,
    /// `analyze_code` on [`python_file`]: real work in the tool.
    Analyze,
}

impl Call {
    pub const ALL: [Call; 2] = [Call::Add, Call::Analyze];

    pub fn tool(self) -> &'static str {
        match self {
            Call::Add => "add",
            Call::Analyze => "analyze_code",
        }
    }

    /// The request for the `n`th call (the `add` operands vary with `n`,
    /// so each answer can be checked).
    pub fn params(self, n: u64, python: &str) -> CallToolRequestParams {
        let args = match self {
            Call::Add => json!({"a": (n % 1000) as i32, "b": 7}),
            Call::Analyze => json!({"code": python, "language": "python"}),
        };
        let Value::Object(args) = args else {
            unreachable!("arguments are an object")
        };
        CallToolRequestParams::new(self.tool()).with_arguments(args)
    }

    /// Whether `structured` is the right answer to the `n`th call.
    pub fn check(self, n: u64, structured: Option<&Value>) -> bool {
        match self {
            Call::Add => structured == Some(&json!({"result": (n % 1000) as i64 + 7})),
            Call::Analyze => structured
                .and_then(Value::as_object)
                .is_some_and(|o: &Map<String, Value>| o.contains_key("quality_score")),
        }
    }
}

/// The conformance component's tool that holds its instance: it takes no
/// arguments and sleeps 2 × 50 ms inside the guest, so each call keeps a
/// live instance for about 100 ms.
pub const HOLD: &str = "test_tool_with_progress";

/// The request for [`HOLD`].
pub fn hold() -> CallToolRequestParams {
    CallToolRequestParams::new(HOLD)
}

/// A realistic Python module of about 300 lines, the same on every run:
/// imports, constants, a dataclass-like class, helpers with comments and
/// docstrings, nested loops, a long function, and a few of the problems the
/// analyzer looks for (an `eval`, `os.system`, `shell=True`, a hard-coded
/// token, TODOs, a long line, deep nesting).
pub fn python_file() -> String {
    let mut out = String::from(
        "\"\"\"Inventory synchronisation between the warehouse API and the local store.\n\
         \n\
         Run as a script to pull the latest stock levels and push corrections.\n\
         \"\"\"\n\
         import json\n\
         import logging\n\
         import os\n\
         import re\n\
         import subprocess\n\
         from dataclasses import dataclass, field\n\
         from typing import Dict, Iterable, List, Optional\n\
         \n\
         log = logging.getLogger(__name__)\n\
         \n\
         API_TOKEN = \"sk-live-2f9c1b7e4d\"\n\
         BATCH_SIZE = 200\n\
         RETRIES = 3\n\
         SKU_PATTERN = re.compile(r\"^[A-Z]{3}-\\d{5}$\")\n\
         \n\
         \n\
         @dataclass\n\
         class Item:\n\
         \x20   sku: str\n\
         \x20   name: str\n\
         \x20   quantity: int = 0\n\
         \x20   locations: List[str] = field(default_factory=list)\n\
         \n\
         \x20   def is_valid(self) -> bool:\n\
         \x20       return bool(SKU_PATTERN.match(self.sku)) and self.quantity >= 0\n\
         \n\
         \x20   def to_record(self) -> Dict[str, object]:\n\
         \x20       # TODO: include the supplier once the API returns it\n\
         \x20       return {\"sku\": self.sku, \"name\": self.name, \"qty\": self.quantity}\n\
         \n\
         \n",
    );
    let entities = [
        "orders",
        "shipments",
        "returns",
        "suppliers",
        "pallets",
        "invoices",
        "transfers",
        "audits",
    ];
    for (i, entity) in entities.iter().enumerate() {
        out.push_str(&format!(
            "def load_{entity}(path: str, limit: int = {limit}) -> List[dict]:\n\
             \x20   \"\"\"Reads {entity} from a JSON lines file, skipping broken lines.\"\"\"\n\
             \x20   rows = []\n\
             \x20   with open(path, encoding=\"utf-8\") as handle:\n\
             \x20       for number, line in enumerate(handle, start=1):\n\
             \x20           if not line.strip():\n\
             \x20               continue\n\
             \x20           try:\n\
             \x20               rows.append(json.loads(line))\n\
             \x20           except ValueError as error:\n\
             \x20               log.warning(\"%s:%d: %s\", path, number, error)\n\
             \x20           if len(rows) >= limit:\n\
             \x20               break\n\
             \x20   return rows\n\
             \n\
             \n\
             def summarize_{entity}(rows: Iterable[dict]) -> Dict[str, int]:\n\
             \x20   totals: Dict[str, int] = {{}}\n\
             \x20   for row in rows:\n\
             \x20       key = row.get(\"warehouse\", \"unknown\")\n\
             \x20       totals[key] = totals.get(key, 0) + int(row.get(\"quantity\", 0))\n\
             \x20   return totals\n\
             \n\
             \n",
            limit = 100 * (i + 1),
        ));
    }
    out.push_str(
        "def apply_formula(expression: str, values: Dict[str, float]) -> float:\n\
         \x20   # FIXME: replace with a real expression parser\n\
         \x20   return eval(expression, {}, values)\n\
         \n\
         \n\
         def archive(directory: str) -> None:\n\
         \x20   os.system(\"tar czf /tmp/archive.tgz \" + directory)\n\
         \x20   subprocess.run(\"sync && echo done\", shell=True, check=False)\n\
         \n\
         \n\
         def reconcile(items: List[Item], counts: Dict[str, int], strict: bool = False) -> List[str]:\n\
         \x20   \"\"\"Compares the store with a physical count and returns the corrections made.\"\"\"\n\
         \x20   corrections = []\n\
         \x20   seen = set()\n",
    );
    // A long function with deep nesting.
    for step in 0..10 {
        out.push_str(&format!(
            "\x20   for item in items:\n\
             \x20       if item.sku in counts:\n\
             \x20           if counts[item.sku] != item.quantity:\n\
             \x20               if strict or abs(counts[item.sku] - item.quantity) > {step}:\n\
             \x20                   corrections.append(f\"{{item.sku}}: {{item.quantity}} -> {{counts[item.sku]}} (pass {step})\")\n",
        ));
    }
    out.push_str(
        "\x20   for sku in counts:\n\
         \x20       if sku not in seen:\n\
         \x20           seen.add(sku)\n\
         \x20   return corrections\n\
         \n\
         \n\
         def main(argv: Optional[List[str]] = None) -> int:\n\
         \x20   logging.basicConfig(level=logging.INFO)\n\
         \x20   items = [Item(sku=f\"ABC-{n:05d}\", name=f\"item {n}\", quantity=n % 7) for n in range(BATCH_SIZE)]\n\
         \x20   counts = {item.sku: item.quantity + 1 for item in items}\n\
         \x20   for correction in reconcile(items, counts):\n\
         \x20       log.info(\"correction %s\", correction)\n\
         \x20   return 0\n\
         \n\
         \n\
         if __name__ == \"__main__\":\n\
         \x20   raise SystemExit(main())\n",
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_file_has_about_300_lines() {
        let lines = super::python_file().lines().count();
        assert!((280..=330).contains(&lines), "{lines} lines");
    }
}
