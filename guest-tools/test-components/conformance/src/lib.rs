//! The fixture tools of the MCP conformance suites that a component can
//! provide. Names and texts follow the suites' scenario descriptions; the
//! host turns `test-simple-text` into the tool `test_simple_text`.

use std::thread::sleep;
use std::time::Duration;

wit_bindgen::generate!({ path: "wit", world: "conformance", generate_all });
corral_guest::package_docs!();

use corral::mcp::log::{Level, log};
use corral::mcp::progress::report;
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
