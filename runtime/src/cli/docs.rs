//! `corral docs embed`: put a WIT package's doc comments into a built
//! component, whatever toolchain built it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use corral::registry::{PackageDocs, WitSource, embed};

/// Arguments of `corral docs`.
#[derive(Debug, clap::Args)]
pub(super) struct DocsArgs {
    #[command(subcommand)]
    command: DocsCommand,
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// Write the doc comments of a WIT folder into a component as its
    /// `package-docs` section, where Corral reads tool descriptions from.
    Embed(EmbedArgs),
}

/// Arguments of `corral docs embed`.
#[derive(Debug, clap::Args)]
struct EmbedArgs {
    /// The WIT folder the component was built from (with its `deps/`).
    #[arg(long, default_value = "wit")]
    wit: PathBuf,
    /// The built component.
    input: PathBuf,
    /// Where to write the component with its docs (may be the input).
    #[arg(long, short)]
    output: PathBuf,
}

impl DocsArgs {
    /// Runs the chosen `docs` subcommand.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        match self.command {
            DocsCommand::Embed(args) => args.execute(),
        }
    }
}

impl EmbedArgs {
    fn execute(self) -> anyhow::Result<()> {
        let wit = WitSource::read(&self.wit).map_err(|message| {
            anyhow::anyhow!(
                "cannot read the WIT package in {}: {message}",
                self.wit.display()
            )
        })?;
        let component = std::fs::read(&self.input)
            .with_context(|| format!("cannot read {}", self.input.display()))?;
        let with_docs = embed(&component, wit.section())
            .map_err(|message| anyhow::anyhow!("{}: {message}", self.input.display()))?;
        // Read back what a server will read, so a mistake shows here.
        let docs = PackageDocs::from_component(&with_docs)
            .map_err(|message| anyhow::anyhow!("the embedded docs do not read back: {message}"))?
            .unwrap_or_default();
        std::fs::write(&self.output, with_docs)
            .with_context(|| format!("cannot write {}", self.output.display()))?;
        eprintln!(
            "embedded the doc comments of {} ({} described functions) into {}",
            wit.name(),
            docs.described(),
            self.output.display()
        );
        Ok(())
    }
}
