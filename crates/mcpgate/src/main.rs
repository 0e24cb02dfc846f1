//! mcpgate: an MCP gateway. Thin `main`: parse the command line, load the
//! configuration, set up telemetry, hand over to the command.

mod commands;
mod config;
#[cfg(test)]
mod deployment_check;

use std::process::ExitCode;

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
    /// Serve the demo MCP server: the tools of a catalogue file (by default 57
    /// Kubernetes tools), answered deterministically, to try mcpgate without an MCP
    /// server of your own.
    Demo(commands::demo::DemoArgs),
    /// Print a new set of keys (grant signing key, its verify key, secret key) as
    /// environment variables, for running `api` and `proxy` yourself.
    Keygen,
    /// Classify the tools of a catalogue file (an object with a `tools` array, or a
    /// `tools/list` result) and print the table, with the agreement with its
    /// labels when the file carries them.
    Classify {
        /// The catalogue file (JSON).
        file: std::path::PathBuf,
        /// One JSON object per line per tool: {"name", "category", "risk", "evidence", "confidence"}.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("mcpgate: {error}");
            return ExitCode::from(2);
        }
    };
    let service = match cli.command {
        // Offline commands: no runtime, no logs on stdout.
        Command::Classify { file, json } => return commands::classify::run(&file, json),
        Command::Keygen => return commands::keygen::run(),
        Command::Up(args) => Service::Up(args),
        Command::Api => Service::Api,
        Command::Proxy => Service::Proxy,
        Command::Migrate => Service::Migrate,
        Command::Demo(args) => Service::Demo(args),
    };
    let telemetry = match mcpgate_service::init_telemetry_exporting(
        config.log_format,
        &config.log,
        config.otlp.as_ref(),
    ) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("mcpgate: cannot start exporting traces: {error}");
            return ExitCode::FAILURE;
        }
    };

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = config.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = match runtime.build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mcpgate: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match service {
            Service::Up(args) => commands::up::run(config, args).await,
            Service::Api => commands::serve::api(config).await,
            Service::Proxy => commands::serve::proxy(config).await,
            Service::Migrate => commands::serve::migrate(config).await,
            Service::Demo(args) => commands::demo::run(args).await,
        }
    });
    // The spans still waiting are sent before the process ends.
    drop(telemetry);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcpgate: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The commands that run on the async runtime.
enum Service {
    Up(commands::up::UpArgs),
    Api,
    Proxy,
    Migrate,
    Demo(commands::demo::DemoArgs),
}
