//! The per-call link from a guest to the client that called it: the log
//! messages and progress reports the `corral:mcp` imports send while the
//! call runs, the questions a guest asks, and the caps that keep a guest
//! from flooding the client.
//!
//! The guest's side ([`ClientLink`], in the call's store) never blocks on
//! a message and never fails: a message over a cap is dropped and counted.
//! Asking waits for the answers ([`asking`](super::asking)). The server's side
//! ([`Notices`]) drains the messages and answers the questions while the
//! call runs and ends when the call's store is gone; it knows nothing of
//! the protocol, which the MCP handler speaks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

pub use super::asking::{Answers, Asker, Asking, Turn};

/// Log messages one call may send; more are dropped and counted.
pub const MAX_LOGS: u32 = 100;
/// Bytes of one log message; a longer one is cut at a character boundary.
pub const MAX_LOG_BYTES: usize = 8 * 1024;
/// Bytes of a logger's name or a progress message.
pub const MAX_NAME_BYTES: usize = 256;
/// The least time between two progress reports sent to the client; the
/// latest report in between wins.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// Log messages waiting to be written to the client: all a call may send,
/// so a burst within the cap arrives whole (at most 100 × 8 KiB held).
const QUEUE: usize = MAX_LOGS as usize;

/// How severe a log message is, least first (MCP's syslog levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Details for debugging.
    Debug,
    /// Normal progress.
    Info,
    /// Normal but significant.
    Notice,
    /// Worked around.
    Warning,
    /// Failed.
    Error,
    /// Critical.
    Critical,
    /// Act at once.
    Alert,
    /// Unusable.
    Emergency,
}

impl Level {
    /// Every level, least severe first; the WIT enum's order.
    pub const ALL: [Level; 8] = [
        Level::Debug,
        Level::Info,
        Level::Notice,
        Level::Warning,
        Level::Error,
        Level::Critical,
        Level::Alert,
        Level::Emergency,
    ];

    /// Its name in WIT and in MCP, e.g. `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Alert => "alert",
            Level::Emergency => "emergency",
        }
    }

    /// The level named `name`, if any.
    pub fn named(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// One log message of a guest.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    /// Its level.
    pub level: Level,
    /// The part of the tool that speaks, if named.
    pub logger: Option<String>,
    /// The message, at most [`MAX_LOG_BYTES`].
    pub text: String,
}

/// One progress report of a guest.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Work done; greater than any earlier report's.
    pub progress: f64,
    /// The whole work, if known.
    pub total: Option<f64>,
    /// A message for the user.
    pub message: Option<String>,
}

/// What the client of one call asked to hear, and what it answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    /// The least severe level to send; `None` sends no log message.
    pub log_level: Option<Level>,
    /// Whether the request carried a progress token.
    pub progress: bool,
    /// The kinds of question the client declared it answers.
    pub answers: Answers,
}

/// The guest's side of the link, owned by the call's store.
#[derive(Debug)]
pub struct ClientLink {
    log_level: Option<Level>,
    logs: mpsc::Sender<LogMessage>,
    logs_sent: u32,
    dropped: Arc<AtomicU32>,
    progress: Option<watch::Sender<Option<Progress>>>,
    last_progress: Option<f64>,
    /// The questions the guest asks.
    asker: Asker,
}

/// The server's side of the link: what to forward to the client.
#[derive(Debug)]
pub struct Notices {
    /// Log messages in the order the guest sent them.
    pub logs: mpsc::Receiver<LogMessage>,
    /// The latest progress report, when the client asked for progress.
    pub progress: Option<watch::Receiver<Option<Progress>>>,
    /// Questions to answer, one round at a time (taken by the server's
    /// side that answers them).
    pub questions: Option<mpsc::Receiver<Turn>>,
    dropped: Arc<AtomicU32>,
    log_level: Option<Level>,
}

impl Notices {
    /// The least severe level the client asked for (`None`: no log).
    pub fn log_level(&self) -> Option<Level> {
        self.log_level
    }

    /// Log messages the call dropped (over a cap, or while the client was
    /// slow to take them); read once the call has ended.
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A link for one call whose client wants `wanted`.
pub fn link(wanted: Wanted) -> (ClientLink, Notices) {
    let (logs, logs_rx) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU32::new(0));
    let (progress, progress_rx) = if wanted.progress {
        let (tx, rx) = watch::channel(None);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let (asker, questions_rx) = Asker::new(wanted.answers);
    (
        ClientLink {
            log_level: wanted.log_level,
            logs,
            logs_sent: 0,
            dropped: dropped.clone(),
            progress,
            last_progress: None,
            asker,
        },
        Notices {
            logs: logs_rx,
            progress: progress_rx,
            questions: Some(questions_rx),
            dropped,
            log_level: wanted.log_level,
        },
    )
}

impl ClientLink {
    /// The guest's questions to its client.
    pub fn asker(&mut self) -> &mut Asker {
        &mut self.asker
    }

    /// Sends a log message if the client wants its level and the call is
    /// within its caps; otherwise drops it (counted when over a cap).
    pub fn log(&mut self, level: Level, logger: Option<&str>, text: &str) {
        if self.log_level.is_none_or(|least| level < least) {
            return;
        }
        if self.logs_sent >= MAX_LOGS {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let message = LogMessage {
            level,
            logger: logger.map(|l| cut(l, MAX_NAME_BYTES)),
            text: cut(text, MAX_LOG_BYTES),
        };
        match self.logs.try_send(message) {
            Ok(()) => self.logs_sent += 1,
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records a progress report if the client asked for progress and it
    /// goes forward (a finite value above the last one); otherwise drops it.
    pub fn progress(&mut self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(sender) = &self.progress else {
            return;
        };
        let forward = progress.is_finite() && self.last_progress.is_none_or(|last| progress > last);
        if !forward {
            return;
        }
        self.last_progress = Some(progress);
        sender.send_replace(Some(Progress {
            progress,
            total: total.filter(|t| t.is_finite()),
            message: message.map(|m| cut(m, MAX_NAME_BYTES)),
        }));
    }
}

/// `text` cut to at most `max` bytes at a character boundary, with `…`
/// when something was cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(level: Level) -> Wanted {
        Wanted {
            log_level: Some(level),
            progress: true,
            answers: Answers::default(),
        }
    }

    #[test]
    fn levels_below_the_clients_are_not_sent() {
        let (mut link, mut notices) = link(wanted(Level::Warning));
        link.log(Level::Info, None, "quiet");
        link.log(Level::Error, Some("db"), "loud");
        drop(link);
        let sent = notices.logs.try_recv().ok();
        assert_eq!(sent.map(|m| m.text), Some("loud".to_owned()));
        assert!(notices.logs.try_recv().is_err());
        assert_eq!(notices.dropped(), 0);
    }

    #[test]
    fn a_client_that_asked_for_no_level_gets_no_log() {
        let (mut link, mut notices) = link(Wanted::default());
        link.log(Level::Emergency, None, "x");
        assert!(notices.logs.try_recv().is_err());
    }

    #[test]
    fn a_flood_is_capped_and_counted() {
        let (mut link, mut notices) = link(wanted(Level::Debug));
        for i in 0..10_000 {
            link.log(Level::Info, None, &format!("{i}"));
            // The server drains as it goes.
            while notices.logs.try_recv().is_ok() {}
        }
        assert_eq!(notices.dropped(), 10_000 - MAX_LOGS);
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let (mut link, mut notices) = link(wanted(Level::Debug));
        link.log(
            Level::Info,
            Some(&"n".repeat(1000)),
            &"é".repeat(MAX_LOG_BYTES),
        );
        let message = notices.logs.try_recv().ok();
        let message = message.as_ref();
        assert!(message.is_some_and(|m| m.text.len() <= MAX_LOG_BYTES && m.text.ends_with('…')));
        assert!(
            message.is_some_and(|m| m.logger.as_ref().is_some_and(|l| l.len() <= MAX_NAME_BYTES))
        );
    }

    #[test]
    fn progress_only_goes_forward_and_the_latest_wins() {
        let (mut link, notices) = link(wanted(Level::Debug));
        link.progress(1.0, Some(10.0), None);
        link.progress(0.5, None, None);
        link.progress(f64::NAN, None, None);
        link.progress(3.0, Some(f64::INFINITY), Some("three"));
        let latest = notices.progress.as_ref().and_then(|p| p.borrow().clone());
        assert_eq!(
            latest,
            Some(Progress {
                progress: 3.0,
                total: None,
                message: Some("three".into())
            })
        );
    }

    #[test]
    fn progress_without_a_token_does_nothing() {
        let (mut link, notices) = link(Wanted::default());
        link.progress(1.0, None, None);
        assert!(notices.progress.is_none());
    }
}
