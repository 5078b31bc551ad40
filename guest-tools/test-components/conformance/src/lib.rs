//! The fixture tools of the MCP conformance suites that a component can
//! provide. Names and texts follow the suites' scenario descriptions; the
//! host turns `test-simple-text` into the tool `test_simple_text`.
//!
//! The tools that ask the client (`corral:mcp/client`) use the question keys
//! the suites name. With a 2026-07-28 client a tool runs again from the
//! start after each round of answers, so every tool asks the same questions
//! under the same keys on every run and acts only on answers.

use std::thread::sleep;
use std::time::Duration;

wit_bindgen::generate!({ path: "wit", world: "conformance", generate_all });
corral_guest::package_docs!();

use corral::mcp::client::{
    self, Answer, AskError, Form, FormAction, FormReply, Question, QuestionKind, Root, Sampled,
    Sampling, can_answer, require,
};
use corral::mcp::log::{Level, log};
use corral::mcp::progress::report;
use corral::mcp::task::background;
use corral::mcp::types::{Audio, BlobResource, Image, ResourceContents, TextResource};
use exports::corral::mcp::completion::Reference;
use exports::corral::mcp::prompts::{Argument, Message, Prompt, PromptMessages, Role};
use exports::corral::mcp::resources::{ReadError, Resource, ResourceTemplate};

/// The pause between the steps of the "slow" tools, as the suites describe.
const STEP: Duration = Duration::from_millis(50);

struct Conformance;

impl Guest for Conformance {
    fn test_simple_text() -> String {
        "This is a simple text response for testing.".to_string()
    }

    fn test_error_handling() -> Result<String, String> {
        Err("This tool intentionally returns an error for testing".to_string())
    }

    fn test_tool_with_progress() -> String {
        report(0.0, Some(100.0), None);
        sleep(STEP);
        report(50.0, Some(100.0), None);
        sleep(STEP);
        report(100.0, Some(100.0), None);
        "Tool with progress completed".to_string()
    }

    fn test_tool_with_logging() -> String {
        log(Level::Info, None, "Tool execution started");
        sleep(STEP);
        log(Level::Info, None, "Tool processing data");
        sleep(STEP);
        log(Level::Info, None, "Tool execution completed");
        "Tool with logging completed".to_string()
    }

    fn test_image_content() -> Vec<Content> {
        vec![red_pixel()]
    }

    fn test_audio_content() -> Vec<Content> {
        vec![Content::Audio(Audio {
            data: silent_wav(),
            mime_type: "audio/wav".into(),
        })]
    }

    fn test_embedded_resource() -> Vec<Content> {
        vec![Content::Resource(ResourceContents::Text(TextResource {
            uri: "test://embedded-resource".into(),
            mime_type: Some("text/plain".into()),
            text: "This is an embedded resource content.".into(),
        }))]
    }

    fn test_multiple_content_types() -> Vec<Content> {
        vec![
            Content::Text("Multiple content types test:".into()),
            red_pixel(),
            Content::Resource(ResourceContents::Text(TextResource {
                uri: "test://mixed-content-resource".into(),
                mime_type: Some("application/json".into()),
                text: r#"{"test":"data","value":123}"#.into(),
            })),
        ]
    }

    fn test_logging_tool() -> String {
        "Logging tool completed without logging".to_string()
    }

    fn test_sampling(prompt: String) -> Result<String, String> {
        let text = ask_sample("llm_response", &prompt, 100)?;
        Ok(format!("LLM response: {text}"))
    }

    fn test_elicitation(message: String) -> Result<String, String> {
        let reply = ask_form("user_info", &message, USER_INFO_SCHEMA)?;
        Ok(format!("User response: {}", summary(&reply)))
    }

    fn test_elicitation_sep1034_defaults() -> Result<String, String> {
        let message = "Please review and update the form fields with defaults";
        let reply = ask_form("defaults_form", message, SEP1034_SCHEMA)?;
        Ok(format!("Elicitation completed: {}", summary(&reply)))
    }

    fn test_elicitation_sep1330_enums() -> Result<String, String> {
        let message = "Please select options from the enum fields";
        let reply = ask_form("enums_form", message, SEP1330_SCHEMA)?;
        Ok(format!("Elicitation completed: {}", summary(&reply)))
    }

    fn test_input_required_result_elicitation() -> Result<String, String> {
        let name = ask_text("user_name", "What is your name?", NAME_SCHEMA, "name")?;
        Ok(format!("Hello, {name}!"))
    }

    fn test_input_required_result_sampling() -> Result<String, String> {
        ask_sample("capital_question", "What is the capital of France?", 100)
    }

    fn test_input_required_result_list_roots() -> Result<String, String> {
        let key = "client_roots";
        let roots = roots_of(key, ask_one(key, Question::ListRoots)?)?;
        Ok(format!("The client's roots: {}", roots_list(&roots)))
    }

    fn test_input_required_result_request_state() -> Result<String, String> {
        let ok = ask_confirmation("confirm")?;
        Ok(format!("state-ok: confirmed (ok={ok})"))
    }

    fn test_input_required_result_multiple_inputs() -> Result<String, String> {
        ask_and_describe(vec![
            ("user_name", form("What is your name?", NAME_SCHEMA)),
            ("greeting", sample("Generate a greeting", 50)),
            ("client_roots", Question::ListRoots),
        ])
    }

    fn test_input_required_result_multi_round() -> Result<String, String> {
        // The second question depends on the first answer: with a
        // 2026-07-28 client, each is a round of its own.
        let name = ask_text("step1", "Step 1: What is your name?", NAME_SCHEMA, "name")?;
        let color = ask_text(
            "step2",
            "Step 2: What is your favorite color?",
            COLOR_SCHEMA,
            "color",
        )?;
        Ok(format!("{name}'s favorite color is {color}."))
    }

    fn test_input_required_result_tampered_state() -> Result<String, String> {
        let ok = ask_confirmation("confirm")?;
        Ok(format!("Confirmed (ok={ok})"))
    }

    fn test_input_required_result_capabilities() -> Result<String, String> {
        let mut questions = Vec::new();
        if can_answer(QuestionKind::Elicit) {
            questions.push(("user_name", form("What is your name?", NAME_SCHEMA)));
        }
        if can_answer(QuestionKind::Sample) {
            questions.push(("model_reply", sample("Reply with a short greeting.", 50)));
        }
        if can_answer(QuestionKind::ListRoots) {
            questions.push(("client_roots", Question::ListRoots));
        }
        if questions.is_empty() {
            return Ok(NO_QUESTIONS.to_string());
        }
        ask_and_describe(questions)
    }

    fn test_streaming_elicitation() -> Result<String, String> {
        let name = ask_text("user_name", "What is your name?", NAME_SCHEMA, "name")?;
        Ok(format!("Streaming elicitation completed (name: {name})."))
    }

    fn test_header_param(region: String, query: String) -> String {
        format!("{query} in {region}")
    }

    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }

    fn slow_compute(seconds: u32, label: String) -> String {
        if seconds > 0 {
            background(false);
        }
        sleep(Duration::from_secs(seconds.into()));
        format!("Computed {label} in {seconds} s")
    }

    fn failing_job() -> Result<String, String> {
        background(true);
        Err("The job failed, as this fixture always does".to_string())
    }

    fn protocol_error_job() -> String {
        background(false);
        panic!("this fixture always traps")
    }

    fn confirm_delete(filename: String) -> Result<String, String> {
        background(false);
        let message = format!("Delete {filename}?");
        let reply = ask_form("confirm_delete", &message, CONFIRM_DELETE_SCHEMA)?;
        let content = accepted("confirm_delete", &reply)?;
        Ok(match json_field(content, "confirm") {
            Some("true") => format!("Deleted {filename}"),
            _ => format!("Kept {filename}"),
        })
    }

    fn multi_input() -> Result<String, String> {
        background(false);
        let answers = ask(vec![
            ("first", form("First: your name?", NAMED_CONFIRM_SCHEMA)),
            ("second", form("Second: your name?", NAMED_CONFIRM_SCHEMA)),
        ])?;
        let mut names = Vec::new();
        for (key, answer) in ["first", "second"].into_iter().zip(answers) {
            let reply = form_reply(key, answer)?;
            let content = accepted(key, &reply)?;
            names.push(string_field(content, "name").unwrap_or_default());
        }
        Ok(format!("Got {}", names.join(" and ")))
    }

    fn test_tool_with_task() -> Result<String, String> {
        let name = ask_text("user_name", "What is your name?", NAME_SCHEMA, "name")?;
        background(true);
        Ok(format!("Hello, {name}, from a task!"))
    }

    fn test_missing_capability() -> Result<String, String> {
        // Ends the call here, with the host's error naming `sampling`,
        // when the client cannot sample.
        require(&[QuestionKind::Sample]);
        let text = ask_sample("needs_sampling", "Reply with one word.", 10)?;
        Ok(format!("The client samples; its model replied: {text}"))
    }
}

/// What `test_input_required_result_capabilities` says to a client that
/// answers no kind of question.
const NO_QUESTIONS: &str = "The client answers no questions (it declared none of elicitation, \
                            sampling and roots), so nothing was asked.";

/// The form of `test_elicitation`: a username and an email address.
const USER_INFO_SCHEMA: &str = r#"{
    "type": "object",
    "properties": {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"}
    },
    "required": ["username", "email"]
}"#;

/// A form whose fields all have defaults (SEP-1034).
const SEP1034_SCHEMA: &str = r#"{
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active"
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": true}
    },
    "required": []
}"#;

/// A form with the five enum forms of SEP-1330.
const SEP1330_SCHEMA: &str = r#"{
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"]
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}
            ]
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"]
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]}
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"}
                ]
            }
        }
    },
    "required": []
}"#;

/// A form with one required text, `name`.
const NAME_SCHEMA: &str =
    r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;

/// A form with one required text, `color`.
const COLOR_SCHEMA: &str =
    r#"{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}"#;

/// A form with one required yes-or-no, `ok`.
const CONFIRM_SCHEMA: &str =
    r#"{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}"#;

/// A form with one required yes-or-no, `confirm`.
const CONFIRM_DELETE_SCHEMA: &str =
    r#"{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}"#;

/// A form with a text `name` and a yes-or-no `confirm`.
const NAMED_CONFIRM_SCHEMA: &str = r#"{"type":"object","properties":{"name":{"type":"string"},"confirm":{"type":"boolean"}},"required":["confirm"]}"#;

/// A form with one required text, `context`.
const CONTEXT_SCHEMA: &str =
    r#"{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}"#;

/// A form for the user to fill in.
fn form(message: &str, schema: &str) -> Question {
    Question::Elicit(Form {
        message: message.into(),
        schema: schema.into(),
    })
}

/// A conversation of one user message for the client's model to continue.
fn sample(text: &str, max_tokens: u32) -> Question {
    Question::Sample(Sampling {
        messages: vec![client::Message {
            role: client::Role::User,
            text: text.into(),
        }],
        system_prompt: None,
        max_tokens,
        temperature: None,
    })
}

/// Asks `questions` (key, question) at once: their answers in the same
/// order, or why the first one without an answer got none.
fn ask(questions: Vec<(&str, Question)>) -> Result<Vec<Answer>, String> {
    let asked: Vec<(String, Question)> = questions
        .into_iter()
        .map(|(key, question)| (key.to_owned(), question))
        .collect();
    let answers = client::ask(&asked);
    if answers.len() != asked.len() {
        return Err(format!(
            "asked {} questions but got {} answers",
            asked.len(),
            answers.len()
        ));
    }
    asked
        .iter()
        .zip(answers)
        .map(|((key, question), answer)| answer.map_err(|e| unanswered(key, question, e)))
        .collect()
}

/// Asks one question under `key`.
fn ask_one(key: &str, question: Question) -> Result<Answer, String> {
    ask(vec![(key, question)])?
        .pop()
        .ok_or_else(|| format!("no answer to question {key:?}"))
}

/// Asks the user to fill in a form.
fn ask_form(key: &str, message: &str, schema: &str) -> Result<FormReply, String> {
    form_reply(key, ask_one(key, form(message, schema))?)
}

/// Asks the user for the text `field` of a form; declining is an error.
fn ask_text(key: &str, message: &str, schema: &str, field: &str) -> Result<String, String> {
    let reply = ask_form(key, message, schema)?;
    let content = accepted(key, &reply)?;
    string_field(content, field).ok_or_else(|| {
        format!("the user's answer to question {key:?} has no text {field:?}: {content}")
    })
}

/// Asks the user to confirm ("Please confirm", a required boolean `ok`);
/// declining is an error.
fn ask_confirmation(key: &str) -> Result<bool, String> {
    let reply = ask_form(key, "Please confirm", CONFIRM_SCHEMA)?;
    let content = accepted(key, &reply)?;
    match json_field(content, "ok") {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(format!(
            "the user's answer to question {key:?} has no yes-or-no \"ok\": {content}"
        )),
    }
}

/// Asks the client's model to answer `text`: the text of its answer.
fn ask_sample(key: &str, text: &str, max_tokens: u32) -> Result<String, String> {
    sampled_text(key, ask_one(key, sample(text, max_tokens))?)
}

/// Asks `questions` at once and describes each answer on a line of its own
/// ("<key>: <answer>").
fn ask_and_describe(questions: Vec<(&str, Question)>) -> Result<String, String> {
    let keys: Vec<&str> = questions.iter().map(|(key, _)| *key).collect();
    let answers = ask(questions)?;
    let lines = keys
        .iter()
        .zip(answers)
        .map(|(key, answer)| {
            Ok(match answer {
                Answer::Form(reply) => format!("{key}: {}", summary(&reply)),
                Answer::Sampled(_) => format!("{key}: {}", sampled_text(key, answer)?),
                Answer::Roots(roots) => format!("{key}: {}", roots_list(&roots)),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(lines.join("\n"))
}

/// Why question `key` got no answer, for the tool's error.
fn unanswered(key: &str, question: &Question, error: AskError) -> String {
    let what = match question {
        Question::Elicit(_) => "a form (elicitation)",
        Question::Sample(_) => "a message from its model (sampling)",
        Question::ListRoots => "its roots (roots/list)",
    };
    match error {
        AskError::Unsupported => format!(
            "cannot ask the client for {what} (question {key:?}): it did not declare that it \
             answers such questions"
        ),
        AskError::TimedOut => {
            format!("the client did not answer question {key:?} ({what}) in time")
        }
        AskError::Invalid(why) => format!("question {key:?} ({what}) cannot be asked: {why}"),
        AskError::Failed(why) => {
            format!("the client gave no usable answer to question {key:?} ({what}): {why}")
        }
    }
}

/// The error for an answer of another kind than its question's.
fn wrong_kind(key: &str) -> String {
    format!("the answer to question {key:?} is not of the question's kind")
}

/// The user's reply to the form `key`.
fn form_reply(key: &str, answer: Answer) -> Result<FormReply, String> {
    match answer {
        Answer::Form(reply) => Ok(reply),
        _ => Err(wrong_kind(key)),
    }
}

/// The text the client's model answered to `key`; an answer without text
/// (an image, say) is an error.
fn sampled_text(key: &str, answer: Answer) -> Result<String, String> {
    match answer {
        Answer::Sampled(Sampled { text, model, .. }) if text.is_empty() => Err(format!(
            "the answer of the client's model ({model}) to question {key:?} has no text"
        )),
        Answer::Sampled(sampled) => Ok(sampled.text),
        _ => Err(wrong_kind(key)),
    }
}

/// The roots the client gave for `key`.
fn roots_of(key: &str, answer: Answer) -> Result<Vec<Root>, String> {
    match answer {
        Answer::Roots(roots) => Ok(roots),
        _ => Err(wrong_kind(key)),
    }
}

/// The values of an accepted form (a JSON object); declining or closing
/// the form is an error.
fn accepted<'a>(key: &str, reply: &'a FormReply) -> Result<&'a str, String> {
    match reply.action {
        FormAction::Accept => Ok(reply.content.as_deref().unwrap_or("{}")),
        FormAction::Decline => Err(format!("the user declined the form (question {key:?})")),
        FormAction::Cancel => Err(format!(
            "the user closed the form without answering (question {key:?})"
        )),
    }
}

/// "action=<accept|decline|cancel>, content=<the values as JSON>", as the
/// suites' elicitation tools report a reply.
fn summary(reply: &FormReply) -> String {
    let action = match reply.action {
        FormAction::Accept => "accept",
        FormAction::Decline => "decline",
        FormAction::Cancel => "cancel",
    };
    let content = reply.content.as_deref().unwrap_or("{}");
    format!("action={action}, content={content}")
}

/// Roots as "uri (name)", separated by "; ".
fn roots_list(roots: &[Root]) -> String {
    if roots.is_empty() {
        return "none".to_string();
    }
    roots
        .iter()
        .map(|root| match &root.name {
            Some(name) => format!("{} ({name})", root.uri),
            None => root.uri.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The raw JSON text of the value of `key` in the JSON object `json` (a
/// form's values, as the host writes them), if the object has that key.
fn json_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let mut scan = Scan { text: json, at: 0 };
    if !scan.eat(b'{') || scan.eat(b'}') {
        return None;
    }
    loop {
        let name = scan.value()?;
        if !scan.eat(b':') {
            return None;
        }
        let value = scan.value()?;
        if unquote(name).as_deref() == Some(key) {
            return Some(value);
        }
        if !scan.eat(b',') {
            return None;
        }
    }
}

/// The text of the string value of `key` in the JSON object `json`.
fn string_field(json: &str, key: &str) -> Option<String> {
    json_field(json, key).and_then(unquote)
}

/// A cursor over JSON text, enough to find an object's fields.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Moves past `byte` (after any space) if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let next = self.peek() == Some(byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// Moves past the string that starts here.
    fn skip_string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }

    /// Moves past the value that starts here (after any space): its raw
    /// text.
    fn value(&mut self) -> Option<&'a str> {
        self.skip_space();
        let start = self.at;
        match self.peek()? {
            b'"' => self.skip_string()?,
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while self.peek().is_some_and(|b| {
                    !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.at += 1;
                }
                if self.at == start {
                    return None;
                }
            }
        }
        self.text.get(start..self.at)
    }
}

/// The text of the JSON string `raw` (quotes included).
fn unquote(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        text.push(match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let first = hex4(&mut chars)?;
                let units = if (0xD800..0xDC00).contains(&first) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    vec![first, hex4(&mut chars)?]
                } else {
                    vec![first]
                };
                char::decode_utf16(units).next()?.ok()?
            }
            _ => return None,
        });
    }
    Some(text)
}

/// The UTF-16 unit of the next four hex digits.
fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u16> {
    let digits: String = chars.by_ref().take(4).collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(&digits, 16).ok()
}

/// A 1×1 red PNG.
fn red_pixel() -> Content {
    const PNG: [u8; 69] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
        0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00,
        0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    Content::Image(Image {
        data: PNG.to_vec(),
        mime_type: "image/png".into(),
    })
}

/// 10 ms of silence: a mono 8 kHz 8-bit PCM WAV file.
fn silent_wav() -> Vec<u8> {
    const SAMPLES: u32 = 80;
    let mut wav = Vec::with_capacity(44 + SAMPLES as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + SAMPLES).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // format chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    wav.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&1u16.to_le_bytes()); // block align
    wav.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&SAMPLES.to_le_bytes());
    wav.extend(std::iter::repeat_n(0x80u8, SAMPLES as usize));
    wav
}

impl exports::corral::mcp::resources::Guest for Conformance {
    fn list() -> Vec<Resource> {
        let resource = |uri: &str, name: &str, description: &str, mime: &str| Resource {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: Some(description.into()),
            mime_type: Some(mime.into()),
            size: None,
        };
        vec![
            resource(
                "test://static-text",
                "static-text",
                "A static text resource for testing",
                "text/plain",
            ),
            resource(
                "test://static-binary",
                "static-binary",
                "A static binary resource (a 1×1 PNG) for testing",
                "image/png",
            ),
            resource(
                "test://watched-resource",
                "watched-resource",
                "A resource clients subscribe to",
                "text/plain",
            ),
        ]
    }

    fn templates() -> Vec<ResourceTemplate> {
        vec![ResourceTemplate {
            uri_template: "test://template/{id}/data".into(),
            name: "template-data".into(),
            title: None,
            description: Some("Data for an id, as JSON".into()),
            mime_type: Some("application/json".into()),
        }]
    }

    fn read(uri: String) -> Result<Vec<ResourceContents>, ReadError> {
        let text = |text: String, mime: &str| {
            Ok(vec![ResourceContents::Text(TextResource {
                uri: uri.clone(),
                mime_type: Some(mime.into()),
                text,
            })])
        };
        match uri.as_str() {
            "test://static-text" => text(
                "This is the content of the static text resource.".into(),
                "text/plain",
            ),
            "test://watched-resource" => text("Watched resource content.".into(), "text/plain"),
            "test://static-binary" => {
                let Content::Image(image) = red_pixel() else {
                    return Err(ReadError::Failed("no image".into()));
                };
                Ok(vec![ResourceContents::Blob(BlobResource {
                    uri: uri.clone(),
                    mime_type: Some("image/png".into()),
                    blob: image.data,
                })])
            }
            other => match other
                .strip_prefix("test://template/")
                .and_then(|rest| rest.strip_suffix("/data"))
            {
                Some(id) if !id.is_empty() && !id.contains('/') => text(
                    format!(r#"{{"id":"{id}","templateTest":true,"data":"Data for ID: {id}"}}"#),
                    "application/json",
                ),
                _ => Err(ReadError::NotFound),
            },
        }
    }
}

impl exports::corral::mcp::prompts::Guest for Conformance {
    fn list() -> Vec<Prompt> {
        let argument = |name: &str, description: &str| Argument {
            name: name.into(),
            description: Some(description.into()),
            required: true,
        };
        let prompt = |name: &str, description: &str, arguments| Prompt {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            arguments,
        };
        vec![
            prompt(
                "test_simple_prompt",
                "A simple prompt without arguments",
                vec![],
            ),
            prompt(
                "test_prompt_with_arguments",
                "A prompt with two required arguments",
                vec![
                    argument("arg1", "First test argument"),
                    argument("arg2", "Second test argument"),
                ],
            ),
            prompt(
                "test_prompt_with_embedded_resource",
                "A prompt that embeds a resource",
                vec![argument("resourceUri", "URI of the resource to embed")],
            ),
            prompt("test_prompt_with_image", "A prompt with an image", vec![]),
            prompt(
                "test_input_required_result_prompt",
                "A prompt that first asks the user what context to use (a form with the \
                 text `context`, question key `user_context`)",
                vec![],
            ),
        ]
    }

    fn get(name: String, arguments: Vec<(String, String)>) -> Result<PromptMessages, String> {
        let arg = |key: &str| {
            arguments
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let user = |content| Message {
            role: Role::User,
            content,
        };
        let messages = match name.as_str() {
            "test_simple_prompt" => vec![user(Content::Text(
                "This is a simple prompt for testing.".into(),
            ))],
            "test_prompt_with_arguments" => vec![user(Content::Text(format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1"),
                arg("arg2")
            )))],
            "test_prompt_with_embedded_resource" => vec![
                user(Content::Resource(ResourceContents::Text(TextResource {
                    uri: arg("resourceUri"),
                    mime_type: Some("text/plain".into()),
                    text: "Embedded resource content for testing.".into(),
                }))),
                user(Content::Text(
                    "Please process the embedded resource above.".into(),
                )),
            ],
            "test_prompt_with_image" => vec![
                user(red_pixel()),
                user(Content::Text("Please analyze the image above.".into())),
            ],
            "test_input_required_result_prompt" => {
                let message = "What context should the prompt use?";
                let context = ask_text("user_context", message, CONTEXT_SCHEMA, "context")?;
                vec![user(Content::Text(format!(
                    "Answer with this context in mind: {context}"
                )))]
            }
            other => return Err(format!("no prompt is named {other:?}")),
        };
        Ok(PromptMessages {
            description: None,
            messages,
        })
    }
}

impl exports::corral::mcp::completion::Guest for Conformance {
    fn complete(
        target: Reference,
        argument: String,
        value: String,
        _context: Vec<(String, String)>,
    ) -> Vec<String> {
        match (target, argument.as_str()) {
            (Reference::Prompt(name), "arg1") if name == "test_prompt_with_arguments" => {
                ["paris", "park", "party"]
                    .iter()
                    .filter(|v| v.starts_with(&value))
                    .map(|v| (*v).to_owned())
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

export!(Conformance);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_finds_a_top_level_field() {
        let json = r#"{ "a": {"name": "inner", "list": [1, "]", {"x": "}"}]}, "name" : "Ada \"L\"", "ok":true }"#;
        assert_eq!(string_field(json, "name").as_deref(), Some("Ada \"L\""));
        assert_eq!(json_field(json, "ok"), Some("true"));
        assert_eq!(json_field(json, "list"), None);
        assert_eq!(json_field("{}", "ok"), None);
        assert_eq!(json_field("[]", "ok"), None);
        assert_eq!(json_field(r#"{"ok":"#, "ok"), None);
    }

    #[test]
    fn unquote_decodes_escapes() {
        assert_eq!(
            unquote(r#""a\n\t\\\/\u00e9\ud83d\ude00""#).as_deref(),
            Some("a\n\t\\/é😀")
        );
        assert_eq!(unquote(r#""\ud83d""#), None);
        assert_eq!(unquote(r#""\q""#), None);
        assert_eq!(unquote("plain"), None);
    }
}
