//! The truyxuat binary: parse the command line, set up logging, call the library.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use truyxuat::cli::{self, Cli};

// A page is many small allocations freed together; mimalloc serves them with less work than
// the system allocator (measured by `make bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // The reader stopped reading (`truyxuat labels 7 | head`): nothing more to say.
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::terminal::safe_lines(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
