//! `speaknode-webhooks`: parse the command line and hand over to the library.

use clap::Parser;
use speaknode_webhooks::cli::{Cli, Command, run};
use speaknode_webhooks::logging::{self, LogFormat};

/// mimalloc instead of the system allocator: the hot path allocates many short-lived buffers
/// (HTTP headers and bodies, rows), and glibc's malloc/free showed high in the profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let format = match LogFormat::from_env() {
        Ok(format) => format,
        Err(e) => {
            // Like every other bad setting: one line naming it, exit 1.
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    // The benchmark makes tens of thousands of attempts; their log lines would drown its report.
    let default_level = match cli.command {
        Command::Bench(_) => "warn",
        _ => "info",
    };
    logging::init(format, default_level);
    std::process::exit(run(cli).await);
}
