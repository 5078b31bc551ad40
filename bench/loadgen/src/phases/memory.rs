//! Corral's memory under concurrent calls, and the bound that holds it
//! (issue 4): the RSS one in-flight call costs, and what
//! `max_concurrent_calls` with `queue_timeout` does to a burst of calls
//! beyond it — they wait and all get answered, with the growth of a few
//! calls rather than of all of them; or, with a queue timeout shorter than
//! a call, they are refused as "server busy". The native floor has no
//! sandbox and no bound, so these rows have Corral samples only.

use std::time::Duration;

use super::note_errors;
use crate::configs::{BURST, CONFORMANCE, IMPATIENT, PATIENT, SLOTS};
use crate::measure::{self, Burst};
use crate::report::{Better, Bounded, CALLS, Notes, Report, Sample, Side};
use crate::server::{StdioServer, Target};
use crate::workload::{self, HOLD};

/// Rest between the `tools/list` answer and reading the idle RSS.
pub const SETTLE: Duration = Duration::from_millis(300);

/// Sends a burst of [`BURST`] calls of [`HOLD`] to each of `bounded`
/// (from `configs::Configs::bounded`: [`BURST`] slots; [`SLOTS`] slots
/// with a [`PATIENT`] queue; [`SLOTS`] slots with an [`IMPATIENT`] queue).
pub async fn phase(
    bounded: &[Target; 3],
    report: &mut Report,
    notes: &mut Notes,
) -> anyhow::Result<()> {
    let [wide, patient, impatient] = bounded;
    // A server that compiled the component holds the compiler's memory at
    // idle: have it in the compiled-component cache first.
    StdioServer::start(wide).await?.stop().await;
    let wide = burst(wide).await?;
    let patient = burst(patient).await?;
    let impatient = burst(impatient).await?;
    let per_call = wide.growth() / f64::from(BURST);
    let calls = format!("{BURST} concurrent `{HOLD}`");
    let (wide_bound, patient_bound, impatient_bound) = (
        format!("{BURST} slots"),
        format!("{SLOTS} slots, queue_timeout {PATIENT}"),
        format!("{SLOTS} slots, queue_timeout {IMPATIENT}"),
    );
    // (name, unit, better, value, failed calls): with enough slots or a
    // patient queue every call should be answered; with an impatient queue
    // "server busy" is the expected answer, not a failure.
    let rows = [
        (
            format!("idle RSS (VmRSS), `{CONFORMANCE}` component alone, {wide_bound}"),
            "MiB",
            Better::Lower,
            wide.idle,
            0,
        ),
        (
            format!("RSS per in-flight call: peak growth ÷ {BURST}, {calls}, {wide_bound}"),
            "MiB",
            Better::Lower,
            per_call,
            wide.unanswered(),
        ),
        (
            format!("peak RSS growth, {calls}, {wide_bound}"),
            "MiB",
            Better::Lower,
            wide.growth(),
            wide.unanswered(),
        ),
        (
            format!("peak RSS growth, {calls}, {patient_bound}"),
            "MiB",
            Better::Lower,
            patient.growth(),
            patient.unanswered(),
        ),
        (
            format!("of {calls}: answered, {patient_bound}"),
            CALLS,
            Better::Higher,
            patient.answered as f64,
            patient.unanswered(),
        ),
        (
            format!("of {calls}: answered, {impatient_bound}"),
            CALLS,
            Better::Higher,
            impatient.answered as f64,
            impatient.errors.count,
        ),
        (
            format!("of {calls}: refused \"server busy\", {impatient_bound}"),
            CALLS,
            Better::Lower,
            impatient.busy as f64,
            impatient.errors.count,
        ),
    ];
    for (name, unit, better, value, errors) in rows {
        let s = Sample {
            value,
            errors,
            ..Sample::default()
        };
        report.add(&name, unit, better, Side::Corral, s);
    }

    let mut errors = Vec::new();
    for (burst, bound, busy_expected) in [
        (&wide, wide_bound, false),
        (&patient, patient_bound, false),
        (&impatient, impatient_bound, true),
    ] {
        let context = format!("memory burst, {bound}");
        if burst.busy > 0 && !busy_expected {
            errors.push(format!(
                "{context}: {} calls refused as server busy, though every call should have had a slot",
                burst.busy
            ));
        }
        note_errors(&mut errors, &context, &burst.errors);
    }
    report.errors.append(&mut errors);
    notes.bounded.push(Bounded {
        per_call,
        patient_growth: patient.growth(),
        patient_answered: patient.answered,
        impatient_answered: impatient.answered,
        impatient_busy: impatient.busy,
    });
    Ok(())
}

/// Starts `target` over stdio, lets it settle after `tools/list`, sends
/// the burst and stops it.
async fn burst(target: &Target) -> anyhow::Result<Burst> {
    let server = StdioServer::start(target).await?;
    let tools = server.tools().await?;
    anyhow::ensure!(
        tools.iter().any(|t| t.name == HOLD),
        "corral does not list `{HOLD}`: is conformance.wasm the conformance test component?"
    );
    tokio::time::sleep(SETTLE).await;
    let burst = measure::burst(server.session.peer(), server.pid, &workload::hold(), BURST).await;
    server.stop().await;
    Ok(burst)
}
