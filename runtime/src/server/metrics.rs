//! Per-tool call metrics in Prometheus format, served at `/metrics`.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    tool: String,
    outcome: String,
}

/// The metrics of one server.
pub struct Metrics {
    registry: Mutex<Registry>,
    calls: Family<OutcomeLabels, Counter>,
    duration: Family<ToolLabels, Histogram>,
    fuel: Family<ToolLabels, Counter>,
    memory: Family<ToolLabels, Histogram>,
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
        Metrics {
            registry: Mutex::new(registry),
            calls,
            duration,
            fuel,
            memory,
        }
    }
}

impl Metrics {
    /// Records one call.
    pub fn record(&self, tool: &str, outcome: &str, seconds: f64, fuel: u64, memory: u64) {
        let labels = ToolLabels {
            tool: tool.to_owned(),
        };
        self.calls
            .get_or_create(&OutcomeLabels {
                tool: tool.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.duration.get_or_create(&labels).observe(seconds);
        self.fuel.get_or_create(&labels).inc_by(fuel);
        self.memory.get_or_create(&labels).observe(memory as f64);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_tool_and_outcome() {
        let metrics = Metrics::default();
        metrics.record("add", "ok", 0.001, 100, 1 << 20);
        metrics.record("add", "ok", 0.002, 100, 1 << 20);
        metrics.record("spin", "out_of_fuel", 1.0, 1000, 1 << 20);
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
}
