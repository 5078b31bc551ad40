//! Collecting samples run by run and turning them into the table (medians,
//! and Corral/native ratios computed within each run), plus the notes the
//! report gives beside it. A row may have Corral samples only (what the
//! native floor has no counterpart for): its native columns show "–".

use std::fmt::Write as _;

/// Which server a sample is from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Corral = 0,
    Native = 1,
}

impl Side {
    /// The server's name in error notes.
    pub fn name(self) -> &'static str {
        match self {
            Side::Corral => "corral",
            Side::Native => "native",
        }
    }
}

/// Whether a larger value is better (throughput) or worse (time, memory).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One measurement of one server in one run.
#[derive(Clone, Copy, Default)]
pub struct Sample {
    pub value: f64,
    /// Share of the whole machine the load generator used meanwhile.
    pub client_share: Option<f64>,
    /// Share of the whole machine the server used meanwhile.
    pub server_share: Option<f64>,
    /// Server CPU time per completed call, in µs.
    pub server_us_per_call: Option<f64>,
    pub errors: u64,
}

/// The unit of a count of calls, shown without decimals when whole.
pub const CALLS: &str = "calls";

/// `x` as the table shows it in `unit`.
fn shown(x: f64, unit: &str) -> String {
    if unit == CALLS && x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        number(x)
    }
}

/// One line of the table.
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub better: Better,
    samples: [Vec<Sample>; 2],
}

/// Everything measured, in the order it was first measured.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Failed calls, with where they happened.
    pub errors: Vec<String>,
}

/// What the report says beside the table.
#[derive(Default)]
pub struct Notes {
    /// How the two servers' `analyze_code` answers compare.
    pub analysis: String,
    /// Tools Corral listed with twenty components.
    pub tool_count_20: usize,
    /// Corral's own view of a sequential call (from /metrics), per run:
    /// (tool, µs inside the sandbox per call, fuel per call).
    pub sandbox: Vec<(&'static str, f64, f64)>,
    /// The memory phase, per run.
    pub bounded: Vec<Bounded>,
    /// Instructions per call (bench/instructions.py's table), or why there
    /// are none.
    pub instructions: String,
}

/// What one run of the memory phase found about the bound on concurrent
/// calls.
#[derive(Clone, Copy)]
pub struct Bounded {
    /// RSS per in-flight call when no call waits, in MiB.
    pub per_call: f64,
    /// Peak RSS growth of the burst with few slots and a patient queue, in
    /// MiB.
    pub patient_growth: f64,
    /// Calls of that burst answered without error.
    pub patient_answered: u64,
    /// Calls of the burst with an impatient queue answered without error.
    pub impatient_answered: u64,
    /// Calls of that burst refused as "server busy".
    pub impatient_busy: u64,
}

impl Report {
    /// Adds `sample` to the row `name` (created on first use) for `side`.
    pub fn add(
        &mut self,
        name: &str,
        unit: &'static str,
        better: Better,
        side: Side,
        sample: Sample,
    ) {
        let row = match self.rows.iter().position(|r| r.name == name) {
            Some(i) => &mut self.rows[i],
            None => {
                self.rows.push(Row {
                    name: name.to_owned(),
                    unit,
                    better,
                    samples: [Vec::new(), Vec::new()],
                });
                self.rows.last_mut().unwrap()
            }
        };
        row.samples[side as usize].push(sample);
    }

    /// The table, as Markdown.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| measurement | Corral | native | Corral/native (min–max) | Corral − native | \
             loadgen CPU, C / N | server CPU, C / N | server CPU per call, C / N |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in &self.rows {
            let [corral, native] = &row.samples;
            let ratios: Vec<f64> = corral
                .iter()
                .zip(native)
                .map(|(c, n)| c.value / n.value)
                .collect();
            let (c, n) = (
                median_of(corral, |s| Some(s.value)),
                median_of(native, |s| Some(s.value)),
            );
            let differences: Vec<f64> = corral
                .iter()
                .zip(native)
                .map(|(c, n)| c.value - n.value)
                .collect();
            let difference = if row.better == Better::Lower {
                median(&differences).map_or("–".into(), |d| format!("{} {}", number(d), row.unit))
            } else {
                "–".into()
            };
            let errors: u64 = corral.iter().chain(native).map(|s| s.errors).sum();
            let ratio = match (
                median(&ratios),
                ratios.iter().copied().reduce(f64::min),
                ratios.iter().copied().reduce(f64::max),
            ) {
                (Some(r), Some(min), Some(max)) => format!("**{r:.2}** ({min:.2}–{max:.2})"),
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {ratio} | {difference} | {} | {} | {} |",
                row.name,
                if errors > 0 {
                    format!(" ⚠ {errors} failed calls")
                } else {
                    String::new()
                },
                c.map_or("–".into(), |v| format!(
                    "{} {}",
                    shown(v, row.unit),
                    row.unit
                )),
                n.map_or("–".into(), |v| format!(
                    "{} {}",
                    shown(v, row.unit),
                    row.unit
                )),
                pair(corral, native, |s| s.client_share.map(|x| x * 100.0), "%"),
                pair(corral, native, |s| s.server_share.map(|x| x * 100.0), "%"),
                pair(corral, native, |s| s.server_us_per_call, " µs"),
            );
        }
        out
    }

    /// The headline: server CPU time per call (the unit that idle states
    /// and the client's speed bend least), Corral against native, from the
    /// one-caller throughput rows, then the size sweep's CPU per MiB. The
    /// ratios are taken within each run.
    pub fn headline(&self) -> String {
        let mut out = String::from(
            "| server CPU | Corral | native | Corral/native (min–max) |\n|---|---:|---:|---:|\n",
        );
        let mut any = false;
        for row in &self.rows {
            let per_call = row.name.ends_with(" 1 caller");
            let sweep = row.name.starts_with("size sweep: ");
            if !per_call && !sweep {
                continue;
            }
            let [corral, native] = &row.samples;
            let value = |s: &Sample| {
                if per_call {
                    s.server_us_per_call
                } else {
                    Some(s.value)
                }
            };
            let ratios: Vec<f64> = corral
                .iter()
                .zip(native)
                .filter_map(|(c, n)| Some(value(c)? / value(n)?))
                .collect();
            let (Some(c), Some(n), Some(r)) = (
                median_of(corral, value),
                median_of(native, value),
                median(&ratios),
            ) else {
                continue;
            };
            let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let max = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (name, unit) = if per_call {
                (format!("{}, per call", row.name), "µs")
            } else {
                (row.name["size sweep: ".len()..].to_owned(), row.unit)
            };
            let _ = writeln!(
                out,
                "| {name} | {} {unit} | {} {unit} | **{r:.2}** ({min:.2}–{max:.2}) |",
                number(c),
                number(n)
            );
            any = true;
        }
        if any { out } else { String::new() }
    }

    /// Every run's values, for judging the noise.
    pub fn per_run(&self) -> String {
        let mut out =
            String::from("| measurement | Corral, per run | native, per run |\n|---|---|---|\n");
        for row in &self.rows {
            let list = |samples: &[Sample]| {
                if samples.is_empty() {
                    return "–".to_owned();
                }
                samples
                    .iter()
                    .map(|s| shown(s.value, row.unit))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "| {} ({}) | {} | {} |",
                row.name,
                row.unit,
                list(&row.samples[0]),
                list(&row.samples[1])
            );
        }
        out
    }
}

fn pair(
    corral: &[Sample],
    native: &[Sample],
    f: impl Fn(&Sample) -> Option<f64> + Copy,
    unit: &str,
) -> String {
    match (median_of(corral, f), median_of(native, f)) {
        (Some(c), Some(n)) => format!("{} / {}{unit}", number(c), number(n)),
        _ => "–".into(),
    }
}

fn median_of(samples: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = samples.iter().filter_map(f).collect();
    median(&values)
}

/// The median (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Three significant digits, no exponent.
fn number(x: f64) -> String {
    let magnitude = x.abs();
    if magnitude >= 100.0 {
        format!("{x:.0}")
    } else if magnitude >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratios_are_taken_within_each_run() {
        let mut report = Report::default();
        for (c, n) in [(2.0, 1.0), (30.0, 10.0), (4.0, 1.0)] {
            let sample = |value| Sample {
                value,
                ..Sample::default()
            };
            report.add("x", "µs", Better::Lower, Side::Corral, sample(c));
            report.add("x", "µs", Better::Lower, Side::Native, sample(n));
        }
        // Ratios 2, 3, 4: the median is 3, not median(c) / median(n) = 4 / 1.
        assert!(
            report.table().contains("**3.00** (2.00–4.00)"),
            "{}",
            report.table()
        );
    }

    #[test]
    fn corral_only_rows_show_dashes_for_native() {
        let mut report = Report::default();
        let sample = Sample {
            value: 64.0,
            ..Sample::default()
        };
        report.add("answered", CALLS, Better::Higher, Side::Corral, sample);
        let table = report.table();
        assert!(
            table.contains("| answered | 64 calls | – | – | – | – | – | – |"),
            "{table}"
        );
        assert!(report.per_run().contains("| answered (calls) | 64 | – |"));
    }
}
