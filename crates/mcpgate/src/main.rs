//! mcpgate: an MCP gateway. Thin `main`: parse the command line, load the
//! configuration, set up telemetry, hand over to the command.

mod commands;
mod config;

use clap::{Parser, Subcommand};

use crate::config::SettingsArgs;

/// mcpgate sits between AI agents and MCP servers: nothing reaches a server
/// without passing the tenant's policy.
///
/// Every setting can be given as a flag, as its MCPGATE_* environment variable,
/// or in a TOML file (--config); flags win over variables, variables over the file.
#[derive(Debug, Parser)]
#[command(name = "mcpgate", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole product on this machine: a private PostgreSQL and Redis,
    /// the API, the dashboard and the proxy. Ctrl-C stops everything it started.
    Up(commands::up::UpArgs),
    /// Serve the control plane: REST API and dashboard (needs MCPGATE_DATABASE_URL, MCPGATE_REDIS_URL).
    Api,
    /// Serve the data plane: the enforcing MCP proxy (needs MCPGATE_DATABASE_URL, MCPGATE_REDIS_URL).
    Proxy,
    /// Apply the database migrations and exit (needs MCPGATE_DATABASE_URL).
    Migrate,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("mcpgate: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    mcpgate_service::init_telemetry(config.log_format, &config.log);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mcpgate: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => commands::up::run(config, args).await,
            Command::Api => commands::serve::api(config).await,
            Command::Proxy => commands::serve::proxy(config).await,
            Command::Migrate => commands::serve::migrate(config).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpgate: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
