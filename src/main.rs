//! `speaknode-webhooks`: parse the command line and hand over to the library.

use clap::Parser;
use speaknode_webhooks::cli::{Cli, run};
use tracing_subscriber::EnvFilter;

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
