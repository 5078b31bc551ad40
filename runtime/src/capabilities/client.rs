//! The per-call link from a guest to the client that called it: the log
//! messages and progress reports the `corral:mcp` imports send while the
//! call runs, the questions a guest asks, and the caps that keep a guest
//! from flooding the client.
//!
//! The guest's side ([`ClientLink`], in the call's store) never blocks on
//! a message and never fails: a message over a cap is dropped and counted.
//! Asking waits for the answers, with the call's deadline paused and the
//! wait bounded by the component's `input_timeout`. The server's side
//! ([`Notices`]) drains the messages and answers the questions while the
//! call runs and ends when the call's store is gone; it knows nothing of
//! the protocol, which the MCP handler speaks.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::mcp_client::wit::{Answer, AskError, Question, QuestionKind};
use crate::budget::Deadline;

/// Log messages one call may send; more are dropped and counted.
pub const MAX_LOGS: u32 = 100;
/// Bytes of one log message; a longer one is cut at a character boundary.
pub const MAX_LOG_BYTES: usize = 8 * 1024;
/// Bytes of a logger's name or a progress message.
pub const MAX_NAME_BYTES: usize = 256;
/// The least time between two progress reports sent to the client; the
/// latest report in between wins.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// Questions one call may ask in all (a guest that asks in a loop gets
/// `invalid` beyond).
pub const MAX_QUESTIONS: usize = 16;
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

/// The kinds of question a client answers (its declared capabilities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// Forms (elicitation).
    pub elicit: bool,
    /// Sampling.
    pub sample: bool,
    /// Roots.
    pub roots: bool,
}

impl Answers {
    /// Whether the client answers questions of `kind`.
    pub fn covers(self, kind: QuestionKind) -> bool {
        match kind {
            QuestionKind::Elicit => self.elicit,
            QuestionKind::Sample => self.sample,
            QuestionKind::ListRoots => self.roots,
        }
    }
}

/// The kind of `question`.
pub fn kind(question: &Question) -> QuestionKind {
    match question {
        Question::Elicit(_) => QuestionKind::Elicit,
        Question::Sample(_) => QuestionKind::Sample,
        Question::ListRoots => QuestionKind::ListRoots,
    }
}

/// Questions a call asks its client at once, and where the answers go.
#[derive(Debug)]
pub struct Asking {
    /// Each question with the guest's key for it.
    pub questions: Vec<(String, Question)>,
    /// Kinds of question the call requires and the client does not answer
    /// (`require`): when not empty, there are no questions, and the call
    /// ends with an error naming them.
    pub lacking: Vec<QuestionKind>,
    /// Takes the reply.
    pub reply: oneshot::Sender<Reply>,
}

/// The server's reply to an [`Asking`].
#[derive(Debug)]
pub enum Reply {
    /// One answer per question, in their order.
    Answers(Vec<Result<Answer, AskError>>),
    /// The client answers with its next request (the 2026 protocol's
    /// input-required result): the call ends here, and runs again then.
    Retry,
}

/// The trap that ends a call that requires kinds of question its client
/// does not answer.
#[derive(Debug, thiserror::Error)]
#[error("the call requires answers its client does not give")]
pub struct ClientLacks;

/// The trap that ends a call whose answers come with the client's next
/// request.
#[derive(Debug, thiserror::Error)]
#[error("the call waits for its client's answers, which come with the retried request")]
pub struct AnswersComeWithRetry;

/// The guest's side of the link, owned by the call's store.
#[derive(Debug)]
pub struct ClientLink {
    log_level: Option<Level>,
    logs: mpsc::Sender<LogMessage>,
    logs_sent: u32,
    dropped: Arc<AtomicU32>,
    progress: Option<watch::Sender<Option<Progress>>>,
    last_progress: Option<f64>,
    answers: Answers,
    questions: mpsc::Sender<Asking>,
    /// Keys asked so far (each at most once a call).
    keys: HashSet<String>,
    /// How the call waits for answers (set by the sandbox).
    wait: Option<Waiting>,
}

/// How a call waits for its client's answers.
#[derive(Debug)]
pub struct Waiting {
    /// The call's deadline, paused while it waits.
    pub deadline: Deadline,
    /// The longest one wait may last (`limits.input_timeout`).
    pub timeout: Duration,
    /// Taken while waiting: shared by every call of the server, so that
    /// calls whose clients never answer cannot hold every call slot.
    pub permits: Arc<Semaphore>,
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
    pub questions: Option<mpsc::Receiver<Asking>>,
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
    // A guest waits for each round's answers: one round is in flight.
    let (questions, questions_rx) = mpsc::channel(1);
    (
        ClientLink {
            log_level: wanted.log_level,
            logs,
            logs_sent: 0,
            dropped: dropped.clone(),
            progress,
            last_progress: None,
            answers: wanted.answers,
            questions,
            keys: HashSet::new(),
            wait: None,
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
    /// Ties the link to its call: how it waits for answers.
    pub fn bind(&mut self, waiting: Waiting) {
        self.wait = Some(waiting);
    }

    /// Whether the client answers questions of `kind`.
    pub fn can_answer(&self, kind: QuestionKind) -> bool {
        self.answers.covers(kind)
    }

    /// Asks the client `questions` at once and waits for the answers, one
    /// per question in order. A question the client does not answer, a key
    /// used before and a question beyond [`MAX_QUESTIONS`] get their error
    /// at once, without asking. Fails (a trap) only when the answers come
    /// with the client's next request ([`AnswersComeWithRetry`]).
    pub async fn ask(
        &mut self,
        questions: Vec<(String, Question)>,
    ) -> wasmtime::Result<Vec<Result<Answer, AskError>>> {
        let mut answers: Vec<Option<Result<Answer, AskError>>> = Vec::new();
        let mut asked = Vec::new();
        let mut places = Vec::new();
        for (key, question) in questions {
            let refusal = if self.keys.len() >= MAX_QUESTIONS {
                Some(AskError::Invalid(format!(
                    "a call may ask at most {MAX_QUESTIONS} questions"
                )))
            } else if key.is_empty() || key.len() > MAX_NAME_BYTES {
                Some(AskError::Invalid(format!(
                    "a question's key must have 1 to {MAX_NAME_BYTES} bytes"
                )))
            } else if self.keys.contains(&key) {
                Some(AskError::Invalid(format!(
                    "the key {key:?} was already asked in this call: each question needs a key \
                     of its own"
                )))
            } else if !self.answers.covers(kind(&question)) {
                Some(AskError::Unsupported)
            } else {
                None
            };
            if refusal.is_none() {
                self.keys.insert(key.clone());
                places.push(answers.len());
                asked.push((key, question));
            }
            answers.push(refusal.map(Err));
        }
        if !asked.is_empty() {
            let count = asked.len();
            let replies = match self.round(asked).await? {
                Ok(replies) if replies.len() == count => replies,
                Ok(_) => vec![
                    Err(AskError::Failed(
                        "the server lost the answers (a bug)".into()
                    ));
                    count
                ],
                Err(error) => vec![Err(error); count],
            };
            for (place, reply) in places.into_iter().zip(replies) {
                if let Some(slot) = answers.get_mut(place) {
                    *slot = Some(reply);
                }
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or(Err(AskError::Failed("not asked".into()))))
            .collect())
    }

    /// Returns when the client answers every kind in `kinds`; otherwise
    /// tells the server which it lacks and ends the call ([`ClientLacks`]).
    pub async fn require(&mut self, kinds: Vec<QuestionKind>) -> wasmtime::Result<()> {
        let mut lacking: Vec<QuestionKind> = kinds
            .into_iter()
            .filter(|kind| !self.answers.covers(*kind))
            .collect();
        lacking.dedup();
        if lacking.is_empty() {
            return Ok(());
        }
        let (reply, replied) = oneshot::channel();
        let asking = Asking {
            questions: Vec::new(),
            lacking,
            reply,
        };
        if self.questions.send(asking).await.is_ok() {
            // The server has recorded what is lacking once it replies.
            let _ = replied.await;
        }
        Err(ClientLacks.into())
    }

    /// One round: sends the questions and waits, with the deadline paused,
    /// at most the input timeout.
    async fn round(
        &mut self,
        questions: Vec<(String, Question)>,
    ) -> wasmtime::Result<Result<Vec<Result<Answer, AskError>>, AskError>> {
        let gone = || AskError::Failed("the client of this call is gone".into());
        let Some(waiting) = &self.wait else {
            return Ok(Err(AskError::Failed(
                "this call cannot wait for answers (a bug)".into(),
            )));
        };
        let Ok(_permit) = waiting.permits.clone().try_acquire_owned() else {
            return Ok(Err(AskError::Failed(
                "too many calls are waiting for their clients' answers (at most half of \
                 server.max_concurrent_calls may): ask again later"
                    .into(),
            )));
        };
        let timeout = waiting.timeout;
        let _paused = waiting.deadline.pause();
        let (reply, replied) = oneshot::channel();
        let asking = Asking {
            questions,
            lacking: Vec::new(),
            reply,
        };
        if self.questions.send(asking).await.is_err() {
            return Ok(Err(gone()));
        }
        Ok(match tokio::time::timeout(timeout, replied).await {
            Err(_) => Err(AskError::TimedOut),
            Ok(Err(_)) => Err(gone()),
            Ok(Ok(Reply::Answers(answers))) => Ok(answers),
            Ok(Ok(Reply::Retry)) => return Err(AnswersComeWithRetry.into()),
        })
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

    fn asking_link(answers: Answers, permits: usize) -> (ClientLink, Notices, Deadline) {
        let (mut link, notices) = link(Wanted {
            answers,
            ..Wanted::default()
        });
        let deadline = Deadline::at(std::time::Instant::now() + Duration::from_millis(1));
        link.bind(Waiting {
            deadline: deadline.clone(),
            timeout: Duration::from_millis(200),
            permits: Arc::new(Semaphore::new(permits)),
        });
        (link, notices, deadline)
    }

    #[tokio::test]
    async fn questions_the_client_cannot_answer_or_asked_twice_are_not_sent() {
        let only_roots = Answers {
            roots: true,
            ..Answers::default()
        };
        let (mut link, mut notices, deadline) = asking_link(only_roots, 1);
        let mut asked = notices.questions.take().expect("the questions' receiver");
        let server = tokio::spawn(async move {
            let mut rounds = 0;
            while let Some(asking) = asked.recv().await {
                rounds += 1;
                // While the guest waits, its deadline does not pass.
                assert!(!deadline.passed(std::time::Instant::now()));
                let answers = asking
                    .questions
                    .iter()
                    .map(|_| Ok(Answer::Roots(Vec::new())));
                let _ = asking.reply.send(Reply::Answers(answers.collect()));
            }
            rounds
        });
        let form = Question::Elicit(super::super::mcp_client::wit::Form {
            message: "name?".into(),
            schema: "{}".into(),
        });
        let first = link
            .ask(vec![("a".into(), Question::ListRoots), ("b".into(), form)])
            .await
            .ok();
        assert!(matches!(
            first.as_deref(),
            Some([Ok(Answer::Roots(_)), Err(AskError::Unsupported)])
        ));
        let again = link.ask(vec![("a".into(), Question::ListRoots)]).await.ok();
        assert!(matches!(
            again.as_deref(),
            Some([Err(AskError::Invalid(_))])
        ));
        // Sixteen questions a call in all: one was asked, fifteen more may be.
        let many: Vec<_> = (0..20)
            .map(|i| (format!("k{i}"), Question::ListRoots))
            .collect();
        let answers = link.ask(many).await.ok().unwrap_or_default();
        let invalid = answers
            .iter()
            .filter(|a| matches!(a, Err(AskError::Invalid(_))))
            .count();
        assert_eq!(invalid, 20 - (MAX_QUESTIONS - 1));
        drop(link);
        assert_eq!(server.await.ok(), Some(2));
    }

    #[tokio::test]
    async fn an_unanswered_question_times_out_and_waiters_are_bounded() {
        let all = Answers {
            elicit: true,
            sample: true,
            roots: true,
        };
        // No waiting permit left: refused at once.
        let (mut link, _notices, _) = asking_link(all, 0);
        let answers = link.ask(vec![("a".into(), Question::ListRoots)]).await.ok();
        assert!(
            matches!(answers.as_deref(), Some([Err(AskError::Failed(why))]) if why.contains("too many")),
            "{answers:?}"
        );
        // Asked, never answered: timed out at the bound.
        let (mut link, _notices, _) = asking_link(all, 1);
        let answers = link.ask(vec![("a".into(), Question::ListRoots)]).await.ok();
        assert!(matches!(
            answers.as_deref(),
            Some([Err(AskError::TimedOut)])
        ));
    }

    #[test]
    fn progress_without_a_token_does_nothing() {
        let (mut link, notices) = link(Wanted::default());
        link.progress(1.0, None, None);
        assert!(notices.progress.is_none());
    }
}
