//! The questions a guest asks the client of its call (`corral:mcp/client`),
//! on the guest's side: which may be asked at all (the kinds the client
//! declared, each key once, at most [`MAX_QUESTIONS`] a call), and the wait
//! for the answers, with the call's deadline paused, bounded by the
//! component's `input_timeout` and by a server-wide count of waiting calls.
//! The server's side answers each [`Asking`] in the protocol the client
//! speaks. A guest may also ask that the rest of its call go on in the
//! background, as a task the client polls (`corral:mcp/task`): a
//! [`Backgrounding`] on the same way to the server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::client::MAX_NAME_BYTES;
use super::mcp_client::wit::{Answer, AskError, Question, QuestionKind};
use crate::budget::Deadline;

/// Questions one call may ask in all (a guest that asks in a loop gets
/// `invalid` beyond).
pub const MAX_QUESTIONS: usize = 16;

/// The kinds of question a client answers (its declared capabilities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// Forms (elicitation).
    pub elicit: bool,
    /// Sampling.
    pub sample: bool,
    /// Roots.
    pub roots: bool,
    /// Tasks (the client declared the tasks extension).
    pub tasks: bool,
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

/// What a call's guest asks of the server about its client.
#[derive(Debug)]
pub enum Turn {
    /// Questions for the client.
    Ask(Asking),
    /// Going on in the background, as a task.
    Background(Backgrounding),
}

/// Something a call requires of its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// Answers to questions of this kind.
    Answers(QuestionKind),
    /// The tasks extension: the call goes on as a task.
    Tasks,
}

/// Questions a call asks its client at once, and where the answers go.
#[derive(Debug)]
pub struct Asking {
    /// Each question with the guest's key for it.
    pub questions: Vec<(String, Question)>,
    /// What the call requires and the client lacks (`require`, or a task
    /// the client cannot take): when not empty, there are no questions, and
    /// the call ends with an error naming them.
    pub lacking: Vec<Needed>,
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

/// A call's request to go on in the background: the client gets a task at
/// once and polls it for the result.
#[derive(Debug)]
pub struct Backgrounding {
    /// Takes whether the call is now a task (`false`: it goes on as an
    /// ordinary call, its client waiting for the answer).
    pub reply: oneshot::Sender<bool>,
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

/// The guest's questions to the client of one call.
#[derive(Debug)]
pub struct Asker {
    answers: Answers,
    questions: mpsc::Sender<Turn>,
    /// Keys asked so far (each at most once a call).
    keys: HashSet<String>,
    /// How the call waits for answers (set by the sandbox).
    wait: Option<Waiting>,
    /// Whether the call went on in the background, as a task.
    is_task: bool,
}

impl Asker {
    /// An asker for a client that answers `answers`, and the server's end
    /// of its questions.
    pub(super) fn new(answers: Answers) -> (Asker, mpsc::Receiver<Turn>) {
        // A guest waits for each round's answers: one round is in flight.
        let (questions, questions_rx) = mpsc::channel(1);
        let asker = Asker {
            answers,
            questions,
            keys: HashSet::new(),
            wait: None,
            is_task: false,
        };
        (asker, questions_rx)
    }

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
        let mut lacking: Vec<Needed> = kinds
            .into_iter()
            .filter(|kind| !self.answers.covers(*kind))
            .map(Needed::Answers)
            .collect();
        lacking.dedup();
        if lacking.is_empty() {
            return Ok(());
        }
        self.lacks(lacking).await
    }

    /// Asks that the rest of the call go on in the background, as a task;
    /// returns whether it does. A client that did not declare tasks gets
    /// none: the call goes on as an ordinary one, or, when `required`, ends
    /// telling the client to declare them ([`ClientLacks`]).
    pub async fn background(&mut self, required: bool) -> wasmtime::Result<bool> {
        if self.is_task {
            return Ok(true);
        }
        if !self.answers.tasks {
            if required {
                return self.lacks(vec![Needed::Tasks]).await.map(|()| false);
            }
            return Ok(false);
        }
        let (reply, replied) = oneshot::channel();
        let turn = Turn::Background(Backgrounding { reply });
        if self.questions.send(turn).await.is_err() {
            return Ok(false);
        }
        self.is_task = replied.await.unwrap_or(false);
        Ok(self.is_task)
    }

    /// Tells the server what the call requires and its client lacks, and
    /// ends the call ([`ClientLacks`]).
    async fn lacks(&mut self, lacking: Vec<Needed>) -> wasmtime::Result<()> {
        let (reply, replied) = oneshot::channel();
        let asking = Asking {
            questions: Vec::new(),
            lacking,
            reply,
        };
        if self.questions.send(Turn::Ask(asking)).await.is_ok() {
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
        if self.questions.send(Turn::Ask(asking)).await.is_err() {
            return Ok(Err(gone()));
        }
        Ok(match tokio::time::timeout(timeout, replied).await {
            Err(_) => Err(AskError::TimedOut),
            Ok(Err(_)) => Err(gone()),
            Ok(Ok(Reply::Answers(answers))) => Ok(answers),
            Ok(Ok(Reply::Retry)) => return Err(AnswersComeWithRetry.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking_link(answers: Answers, permits: usize) -> (Asker, mpsc::Receiver<Turn>, Deadline) {
        let (mut link, notices) = Asker::new(answers);
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
        let (mut link, mut asked, deadline) = asking_link(only_roots, 1);
        let server = tokio::spawn(async move {
            let mut rounds = 0;
            while let Some(Turn::Ask(asking)) = asked.recv().await {
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
        let form = Question::Elicit(crate::capabilities::mcp_client::wit::Form {
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
            tasks: false,
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

    #[tokio::test]
    async fn a_client_without_tasks_gets_no_task() {
        let (mut link, mut turns, _) = asking_link(Answers::default(), 1);
        // Optional: the call goes on in the foreground, nothing is sent.
        assert_eq!(link.background(false).await.ok(), Some(false));
        // Required: the server hears what the client lacks; the call ends.
        let server = tokio::spawn(async move {
            match turns.recv().await {
                Some(Turn::Ask(asking)) => {
                    let lacking = asking.lacking.clone();
                    let _ = asking.reply.send(Reply::Retry);
                    lacking
                }
                _ => Vec::new(),
            }
        });
        assert!(link.background(true).await.is_err());
        assert_eq!(server.await.ok(), Some(vec![Needed::Tasks]));
    }
}
