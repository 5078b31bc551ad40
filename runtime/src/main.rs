//! The `corral` binary: parses the command line and hands over to the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use corral::budget::CountingAllocator;

/// Counts the host memory each tool call makes the server allocate, so that
/// a call's `host_memory` budget holds (see `corral::budget`).
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(&args.log);
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
