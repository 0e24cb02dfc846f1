//! Private PostgreSQL and Redis servers on loopback, for `mcpgate up`, the test
//! suite and local development.
//!
//! Each server is a child process that this crate owns: it is started in its own
//! process group (so a terminal's Ctrl-C reaches only `mcpgate`, which then stops
//! its children in order) and stopped gracefully on [`LocalPostgres::stop`] /
//! [`LocalRedis::stop`] or, as a last resort, when dropped.

mod binaries;
mod postgres;
mod process;
mod redis;

use std::path::PathBuf;

pub use binaries::{find_on_path, find_postgres_bin_dir};
pub use postgres::{LocalPostgres, PostgresOptions};
pub use redis::{LocalRedis, RedisOptions};

/// Everything that can go wrong while starting or stopping a local server.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A program we need is not installed; the message says how to install it.
    #[error("{program} not found. {hint}")]
    MissingProgram {
        /// The program we looked for.
        program: &'static str,
        /// What to install, for a Debian machine.
        hint: &'static str,
    },
    /// The `postgres` system user is needed (PostgreSQL refuses to run as root) but absent.
    #[error(
        "running as root, so PostgreSQL must run as the `postgres` system user, which does not \
         exist. Install the server with `apt-get install postgresql` (it creates the user), or \
         run mcpgate as an ordinary user"
    )]
    NoPostgresUser,
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A server did not become ready; the tail of its log says why.
    #[error("{server} did not start: {reason}\n--- last lines of {log} ---\n{log_tail}")]
    Startup {
        /// Which server.
        server: &'static str,
        /// Our reading of what happened.
        reason: String,
        /// The log file we read.
        log: PathBuf,
        /// Its last lines.
        log_tail: String,
    },
}

impl LocalError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalError {
        let context = context.into();
        move |source| LocalError::Io { context, source }
    }
}

/// Asks the kernel for a free TCP port on 127.0.0.1.
///
/// The port is free when this returns; another process could take it before the
/// caller binds it, which is acceptable for local servers and tests.
pub fn free_port() -> Result<u16, LocalError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(LocalError::io("asking for a free port on 127.0.0.1"))?;
    let port = listener
        .local_addr()
        .map_err(LocalError::io("reading the free port"))?
        .port();
    Ok(port)
}
