//! `speaknode-webhooks`: parse the command line and hand over to the library.

use clap::Parser;
use speaknode_webhooks::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: the hot path allocates many short-lived buffers
/// (HTTP headers and bodies, rows), and glibc's malloc/free showed high in the profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SPEAKNODE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(run(cli).await);
}
