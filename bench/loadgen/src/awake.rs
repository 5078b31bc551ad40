//! Keeps the CPUs out of idle states while the benchmark runs, as latency
//! benchmarks usually do, through the kernel's PM QoS interface: while
//! `/dev/cpu_dma_latency` is held open with 0 written to it, an idle CPU
//! polls instead of halting.
//!
//! Why it matters here: on this VM (cpuidle driver `haltpoll`, halt
//! polling off) a vCPU that halts costs a VM exit to wake. A sequential
//! call hands the work back and forth between the client's and the
//! server's threads, so a server whose turn is a few µs longer can make
//! the client's vCPU halt, and pay that wake, where a faster one does not:
//! measured here, an HTTP sequential gap of 24–43 µs showed as 72–97 µs.
//! Both servers run under the same setting; `--idle-states` measures with
//! idle states allowed, and the report says which setting a run used. A
//! kernel with no cpuidle driver (seen on an AMD EPYC VM) halts an idle CPU
//! whatever is asked: the run then says idle states were allowed.

use std::fs::File;
use std::io::Write;

const PM_QOS: &str = "/dev/cpu_dma_latency";

/// The cpuidle driver in use: only a cpuidle driver reads PM QoS requests.
const CPUIDLE_DRIVER: &str = "/sys/devices/system/cpu/cpuidle/current_driver";

/// Whether a PM QoS request can keep CPUs out of idle states under the
/// cpuidle driver `driver` (as read from [`CPUIDLE_DRIVER`]). With none, the
/// kernel's idle loop halts the CPU directly (on a VM, a VM exit to wake
/// it) and no request is asked.
fn can_hold_off(driver: Option<&str>) -> bool {
    driver.is_some_and(|d| !matches!(d.trim(), "" | "none"))
}

/// The held PM QoS request (dropped: idle states are allowed again), or
/// why there is none.
pub struct Awake {
    _request: Option<File>,
    /// The sentence the report prints about idle states.
    pub description: String,
}

impl Awake {
    /// Asks for no idle states until the returned value is dropped; with
    /// `allow_idle`, asks for nothing.
    pub fn hold(allow_idle: bool) -> Awake {
        if allow_idle {
            return Awake {
                _request: None,
                description: "allowed (`--idle-states`)".into(),
            };
        }
        let driver = std::fs::read_to_string(CPUIDLE_DRIVER).ok();
        if !can_hold_off(driver.as_deref()) {
            eprintln!(
                "warning: this kernel has no cpuidle driver, so idle states cannot be held off: \
                 an idle CPU halts whatever {PM_QOS} asks; measuring with idle states allowed"
            );
            return Awake {
                _request: None,
                description: format!(
                    "allowed: they cannot be held off here (no cpuidle driver, so an idle CPU \
                     halts whatever {PM_QOS} asks)"
                ),
            };
        }
        match File::options().write(true).open(PM_QOS).and_then(|mut f| {
            f.write_all(&0i32.to_ne_bytes())?;
            Ok(f)
        }) {
            Ok(file) => Awake {
                _request: Some(file),
                description: format!(
                    "held off for the whole run ({PM_QOS} open with 0 written to it, the PM QoS \
                     request latency benchmarks use: an idle CPU polls instead of halting)"
                ),
            },
            Err(e) => {
                eprintln!(
                    "warning: cannot hold the CPUs awake ({PM_QOS}: {e}); measuring with idle states allowed"
                );
                Awake {
                    _request: None,
                    description: format!("allowed (cannot open {PM_QOS}: {e})"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cpuidle_driver_honours_the_request() {
        assert!(can_hold_off(Some("haltpoll\n")));
        assert!(can_hold_off(Some("intel_idle")));
        assert!(!can_hold_off(Some("none\n")));
        assert!(!can_hold_off(Some("")));
        assert!(!can_hold_off(None));
    }
}
