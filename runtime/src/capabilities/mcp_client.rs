//! `corral:mcp/client`: a guest asks the client of its call questions (a
//! form for the user, a message from the client's model, the client's
//! roots) and waits for the answers. Given to every component that imports
//! it: a question reaches only the caller, and only kinds the caller said
//! it answers. The waiting, its bound and the pause of the call's deadline
//! are the link's ([`client`](super::client)); the protocol is the MCP
//! handler's.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use super::always::Always;
use super::asking::{ClientLacks, MAX_QUESTIONS};
use super::client::ClientLink;
use super::{CallState, Capability, Grant, GrantError, Imports, Interfaces, Section};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package corral:host;
            world client-host {
                import corral:mcp/client@0.1.0;
            }
        ",
        imports: { default: async | trappable },
    });
}

/// The WIT types of `corral:mcp/client`, as the host sees them.
pub mod wit {
    pub use super::bindings::corral::mcp::client::{
        Answer, AskError, Form, FormAction, FormReply, Message, Question, QuestionKind, Role, Root,
        Sampled, Sampling,
    };
}

use bindings::corral::mcp::client as generated;

/// The capability of asking the caller.
pub struct McpClient;

impl Capability for McpClient {
    fn name(&self) -> &'static str {
        "mcp-client"
    }

    fn keys(&self) -> &'static [&'static str] {
        &[]
    }

    fn interfaces(&self) -> &'static [Interfaces] {
        &[Interfaces {
            label: "mcp client",
            names: &["corral:mcp/client"],
        }]
    }

    fn parse(&self, _section: &Section<'_>) -> Result<Arc<dyn Grant>, GrantError> {
        Always {
            link,
            reach,
            talks_to_client: true,
        }
        .grant()
    }
}

/// The call's link, as the generated host functions see it.
struct Asker<'a>(Option<&'a mut ClientLink>);

struct HasAsker;

impl HasData for HasAsker {
    type Data<'a> = Asker<'a>;
}

impl generated::Host for Asker<'_> {
    async fn ask(
        &mut self,
        questions: Vec<(String, wit::Question)>,
    ) -> wasmtime::Result<Vec<Result<wit::Answer, wit::AskError>>> {
        match self.0.as_deref_mut() {
            Some(link) => link.asker().ask(questions).await,
            None => Ok(questions
                .iter()
                .map(|_| Err(wit::AskError::Unsupported))
                .collect()),
        }
    }

    async fn can_answer(&mut self, kind: wit::QuestionKind) -> wasmtime::Result<bool> {
        Ok(self
            .0
            .as_deref_mut()
            .is_some_and(|link| link.asker().can_answer(kind)))
    }

    async fn require(&mut self, kinds: Vec<wit::QuestionKind>) -> wasmtime::Result<()> {
        match self.0.as_deref_mut() {
            Some(link) => link.asker().require(kinds).await,
            None if kinds.is_empty() => Ok(()),
            None => Err(ClientLacks.into()),
        }
    }
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    generated::add_to_linker::<CallState, HasAsker>(linker, |state| Asker(state.client.as_mut()))
}

/// What a component with these imports reaches.
fn reach(imports: &Imports) -> Vec<String> {
    let mut reach = Vec::new();
    if imports.has("mcp client") {
        reach.push(format!(
            "may ask its caller for input: the user (forms), the client's model (messages) and \
             the client's roots; at most {MAX_QUESTIONS} questions a call, each answer awaited at \
             most limits.input_timeout (not counted in limits.timeout)"
        ));
    }
    reach
}
