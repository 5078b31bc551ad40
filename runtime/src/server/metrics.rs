//! Call and transport metrics in Prometheus format, served at `/metrics`.
//!
//! Per tool: calls by outcome, duration, fuel, peak memory. For the front
//! door: requests, connections and sessions open, calls running and waiting
//! for a slot, and refusals by reason. A principal limited to some tools
//! sees only those tools' series.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::Principal;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    tool: String,
    outcome: &'static str,
}

/// One tool's series, created once at start: a successful call records
/// through these handles without building a label or taking a lock.
#[derive(Clone)]
pub struct ToolSeries {
    tool: String,
    ok: Counter,
    duration: Histogram,
    fuel: Counter,
    memory: Histogram,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The metrics of one server.
pub struct Metrics {
    registry: Mutex<Registry>,
    calls: Family<OutcomeLabels, Counter>,
    duration: Family<ToolLabels, Histogram>,
    fuel: Family<ToolLabels, Counter>,
    memory: Family<ToolLabels, Histogram>,
    /// Gauges of what the front door holds open.
    pub(crate) open: OpenGauges,
    refused: Family<ReasonLabels, Counter>,
}

/// What the server holds open right now; each gauge is a cheap handle.
#[derive(Clone, Default)]
pub(crate) struct OpenGauges {
    /// Requests being served (HTTP `/mcp` requests until their answer ends,
    /// stdio requests until their answer is written).
    pub(crate) requests: Gauge,
    /// Open HTTP connections.
    pub(crate) connections: Gauge,
    /// Open HTTP sessions.
    pub(crate) sessions: Gauge,
    /// Tool calls holding a call slot.
    pub(crate) calls_running: Gauge,
    /// Tool calls waiting for a call slot.
    pub(crate) calls_waiting: Gauge,
}

/// Holds one unit of a gauge: counted on creation, released on drop.
pub(crate) struct Held(Gauge);

impl Held {
    /// Adds one to `gauge` until the returned value is dropped.
    pub(crate) fn new(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let calls = Family::<OutcomeLabels, Counter>::default();
        let duration = Family::<ToolLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0,
            ])
        });
        let fuel = Family::<ToolLabels, Counter>::default();
        let memory = Family::<ToolLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(
                (0..12)
                    .map(|i| f64::from(1u32 << (20 + i.min(11))))
                    .collect::<Vec<_>>(),
            )
        });
        let mut registry = Registry::with_prefix("corral");
        registry.register(
            "tool_calls",
            "Tool calls by outcome (ok, tool_error, invalid_arguments, out_of_fuel, memory_limit, host_memory, handles, descriptors, result_too_large, deadline, cancelled, panic, stack_overflow, trap, denied, …)",
            calls.clone(),
        );
        registry.register(
            "tool_call_duration_seconds",
            "Wall-clock time of tool calls",
            duration.clone(),
        );
        registry.register(
            "tool_fuel_used",
            "Fuel consumed by tool calls",
            fuel.clone(),
        );
        registry.register(
            "tool_peak_memory_bytes",
            "Peak guest linear memory per call",
            memory.clone(),
        );
        let open = OpenGauges::default();
        registry.register(
            "tool_calls_running",
            "Tool calls holding a call slot (server.max_concurrent_calls)",
            open.calls_running.clone(),
        );
        registry.register(
            "tool_calls_waiting",
            "Tool calls waiting for a call slot",
            open.calls_waiting.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests being served, until their answer ends",
            open.requests.clone(),
        );
        registry.register(
            "http_connections",
            "Open HTTP connections (server.http.max_connections)",
            open.connections.clone(),
        );
        registry.register(
            "http_sessions",
            "Open HTTP sessions (server.http.max_sessions)",
            open.sessions.clone(),
        );
        let refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "refused",
            "Requests and connections refused or closed under pressure, by reason",
            refused.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            calls,
            duration,
            fuel,
            memory,
            open,
            refused,
        }
    }
}

impl Metrics {
    /// The series of `tool`, to record its calls with.
    pub fn tool(&self, tool: &str) -> ToolSeries {
        let labels = ToolLabels {
            tool: tool.to_owned(),
        };
        ToolSeries {
            tool: tool.to_owned(),
            ok: self
                .calls
                .get_or_create(&OutcomeLabels {
                    tool: tool.to_owned(),
                    outcome: "ok",
                })
                .clone(),
            duration: self.duration.get_or_create(&labels).clone(),
            fuel: self.fuel.get_or_create(&labels).clone(),
            memory: self.memory.get_or_create(&labels).clone(),
        }
    }

    /// Records one call of `series`'s tool.
    pub fn record(
        &self,
        series: &ToolSeries,
        outcome: &'static str,
        seconds: f64,
        fuel: u64,
        memory: u64,
    ) {
        if outcome == "ok" {
            series.ok.inc();
        } else {
            self.calls
                .get_or_create(&OutcomeLabels {
                    tool: series.tool.clone(),
                    outcome,
                })
                .inc();
        }
        series.duration.observe(seconds);
        series.fuel.inc_by(fuel);
        series.memory.observe(memory as f64);
    }

    /// Counts one refusal (`busy`, `draining`, `sessions`, …).
    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }

    /// The exposition as `principal` may see it: the series of the tools it
    /// may use, and every series that names no tool.
    pub fn render_for(&self, principal: &Principal) -> String {
        let text = self.render();
        if principal.tools.is_none() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let tool = line
                .split_once("tool=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(tool, _)| tool);
            if line.starts_with('#') || tool.is_none_or(|t| principal.allows(t)) {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_tool_and_outcome() {
        let metrics = Metrics::default();
        let (add, spin) = (metrics.tool("add"), metrics.tool("spin"));
        metrics.record(&add, "ok", 0.001, 100, 1 << 20);
        metrics.record(&add, "ok", 0.002, 100, 1 << 20);
        metrics.record(&spin, "out_of_fuel", 1.0, 1000, 1 << 20);
        let text = metrics.render();
        assert!(
            text.contains("corral_tool_calls_total{tool=\"add\",outcome=\"ok\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("corral_tool_calls_total{tool=\"spin\",outcome=\"out_of_fuel\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("corral_tool_call_duration_seconds_count{tool=\"add\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn a_limited_principal_sees_only_its_tools() {
        let metrics = Metrics::default();
        metrics.record(&metrics.tool("add"), "ok", 0.001, 100, 1 << 20);
        metrics.record(&metrics.tool("secret"), "ok", 0.001, 100, 1 << 20);
        metrics.refused("busy");
        let limited = Principal::limited(["add"]);
        let text = metrics.render_for(&limited);
        assert!(text.contains("tool=\"add\""), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            text.contains("corral_refused_total{reason=\"busy\"} 1"),
            "{text}"
        );
        assert!(metrics.render_for(&Principal::default()).contains("secret"));
    }
}
