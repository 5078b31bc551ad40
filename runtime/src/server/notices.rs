//! What a running call sends its client: the guest's log messages and
//! progress reports, forwarded as MCP notifications while the call runs.
//!
//! The level a client wants: the request's own (`io.modelcontextprotocol/
//! logLevel` in `_meta`), else what the session set with
//! `logging/setLevel`, else `info` in a session and nothing for a
//! stateless request (a stateless client that names no level asked for
//! none). Progress goes out only for a request with a progress token, at
//! most one report each [`PROGRESS_INTERVAL`].

#![allow(deprecated)] // Logging is deprecated by SEP-2577, yet still spoken.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use rmcp::RoleServer;
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::service::{Peer, RequestContext};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::capabilities::client::{
    Level, LogMessage, Notices, PROGRESS_INTERVAL, Progress, Wanted,
};

/// The log level a session set with `logging/setLevel` (none: not set).
#[derive(Debug, Default, Clone)]
pub(super) struct SessionLevel(Arc<AtomicU8>);

impl SessionLevel {
    /// Records the level a client set.
    pub(super) fn set(&self, level: LoggingLevel) {
        let index = Level::ALL
            .iter()
            .position(|l| *l == from_protocol(level))
            .unwrap_or(0);
        self.0
            .store(u8::try_from(index + 1).unwrap_or(1), Ordering::Relaxed);
    }

    fn get(&self) -> Option<Level> {
        let stored = usize::from(self.0.load(Ordering::Relaxed));
        stored
            .checked_sub(1)
            .and_then(|i| Level::ALL.get(i).copied())
    }
}

/// What the client of the request `context` wants to hear.
pub(super) fn wanted(context: &RequestContext<RoleServer>, session: &SessionLevel) -> Wanted {
    let stateless = super::talk::stateless(context);
    let log_level = context
        .meta
        .log_level()
        .map(from_protocol)
        .or_else(|| session.get())
        .or((!stateless).then_some(Level::Info));
    Wanted {
        log_level,
        progress: context.meta.get_progress_token().is_some(),
        answers: super::questions::answers(context.client_capabilities().as_ref()),
    }
}

/// Forwards `notices` to `peer` until the call's side of the link is gone,
/// then sends the last progress report held back and, when messages were
/// dropped, one message that says how many.
///
/// Once `answered` is cancelled (the call went on as a task and its request
/// has its answer), what the guest still sends is drained and dropped: the
/// request it would belong to is over.
pub(super) async fn forward(
    mut notices: Notices,
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
    answered: CancellationToken,
) {
    let token = &token;
    let open = || !answered.is_cancelled();
    let mut progress = notices.progress.take();
    let mut logs_open = true;
    let mut pending: Option<Progress> = None;
    let mut next_progress = Instant::now();
    loop {
        let has_pending = pending.is_some();
        tokio::select! {
            message = notices.logs.recv(), if logs_open => match message {
                Some(message) if open() => log(&peer, message).await,
                Some(_) => {}
                None => logs_open = false,
            },
            latest = latest(&mut progress) => match latest {
                Some(report) => pending = report.or(pending),
                None => progress = None,
            },
            () = tokio::time::sleep_until(next_progress), if has_pending => {
                if let (Some(report), Some(token), true) = (pending.take(), token, open()) {
                    report_progress(&peer, token, report).await;
                }
                next_progress = Instant::now() + PROGRESS_INTERVAL;
            }
        }
        if !logs_open && progress.is_none() {
            break;
        }
    }
    if !open() {
        return;
    }
    if let (Some(report), Some(token)) = (pending, token) {
        report_progress(&peer, token, report).await;
    }
    let dropped = notices.dropped();
    // Only messages at the client's level or above are ever counted; the
    // note about them is a warning, or at that level if it is higher.
    if dropped > 0 {
        let level = notices
            .log_level()
            .map_or(Level::Warning, |l| l.max(Level::Warning));
        log(
            &peer,
            LogMessage {
                level,
                logger: Some("corral".into()),
                text: format!(
                    "{dropped} log messages of this call were dropped (over the limit of {} a call, \
                     or sent faster than the client read them)",
                    crate::capabilities::client::MAX_LOGS
                ),
            },
        )
        .await;
    }
}

/// The next progress report (`Some(None)` when the slot was emptied),
/// `None` once the call's side is gone; never resolves without a slot.
async fn latest(
    progress: &mut Option<watch::Receiver<Option<Progress>>>,
) -> Option<Option<Progress>> {
    match progress.as_mut() {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

async fn log(peer: &Peer<RoleServer>, message: LogMessage) {
    let mut param =
        LoggingMessageNotificationParam::new(to_protocol(message.level), message.text.into());
    param.logger = message.logger;
    // A client gone is no failure of the call.
    let _ = peer.notify_logging_message(param).await;
}

async fn report_progress(peer: &Peer<RoleServer>, token: &ProgressToken, report: Progress) {
    let mut param = ProgressNotificationParam::new(token.clone(), report.progress);
    param.total = report.total;
    param.message = report.message;
    let _ = peer.notify_progress(param).await;
}

fn from_protocol(level: LoggingLevel) -> Level {
    match level {
        LoggingLevel::Debug => Level::Debug,
        LoggingLevel::Info => Level::Info,
        LoggingLevel::Notice => Level::Notice,
        LoggingLevel::Warning => Level::Warning,
        LoggingLevel::Error => Level::Error,
        LoggingLevel::Critical => Level::Critical,
        LoggingLevel::Alert => Level::Alert,
        LoggingLevel::Emergency => Level::Emergency,
    }
}

fn to_protocol(level: Level) -> LoggingLevel {
    match level {
        Level::Debug => LoggingLevel::Debug,
        Level::Info => LoggingLevel::Info,
        Level::Notice => LoggingLevel::Notice,
        Level::Warning => LoggingLevel::Warning,
        Level::Error => LoggingLevel::Error,
        Level::Critical => LoggingLevel::Critical,
        Level::Alert => LoggingLevel::Alert,
        Level::Emergency => LoggingLevel::Emergency,
    }
}
