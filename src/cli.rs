//! The command line: `serve`, `migrate`, `bench`, and the receiver tools `verify` and `listen`.

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ServeArgs};

#[derive(Parser)]
#[command(
    name = "speaknode-webhooks",
    version,
    about = "Signed, durable webhook delivery for SpeakNode"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the API and the delivery workers.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(ServeArgs),
    /// Run the end-to-end benchmark on this machine and report the figures.
    Bench(crate::bench::BenchArgs),
    /// Check a captured request's signatures: exit 0 valid, 1 invalid, 2 usage error.
    Verify(crate::tools::verify::VerifyArgs),
    /// A local receiver for development: print each delivery and whether it verifies.
    Listen(crate::tools::listen::ListenArgs),
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Bench(args) => return bench(args).await,
        Command::Verify(args) => return crate::tools::verify::run(&args),
        Command::Listen(args) => crate::tools::listen::run(args).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Exit code 0 when nothing was lost and every checked signature verified, 1 otherwise.
async fn bench(args: crate::bench::BenchArgs) -> i32 {
    let json = args.json;
    match crate::bench::run(args).await {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{}", report.table());
            }
            if !report.ok() {
                eprintln!(
                    "BENCH FAILED: {} deliveries lost, {} bad signatures",
                    report.lost, report.bad_signatures
                );
                return 1;
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn config(args: &ServeArgs) -> anyhow::Result<Config> {
    Ok(Config::from_args(args)?)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = config(&args)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (SPEAKNODE_LISTEN): {e}", config.listen)
        })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    crate::app::serve(config, listener, shutdown).await
}

async fn migrate(args: ServeArgs) -> anyhow::Result<()> {
    let config = config(&args)?;
    crate::app::open_store(&config).await?;
    println!(
        "migrations applied to {}",
        crate::config::redact_url(&config.database_url)
    );
    Ok(())
}

/// Cancels `shutdown` on SIGINT or SIGTERM: stop claiming, finish or release what is in flight.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing deliveries in flight");
    shutdown.cancel();
}
