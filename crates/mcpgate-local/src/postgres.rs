//! A private PostgreSQL cluster: `initdb` on first use, then `postgres` on a
//! loopback port, with TCP only (no Unix socket, so no clash with a system server).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::{Uid, User};
use tokio::process::Command;

use crate::process::{tail, ServerProcess};
use crate::{binaries, LocalError};

/// The role `initdb` creates; it owns every database of the private cluster.
pub const SUPERUSER: &str = "mcpgate";

/// Where and how to run the private cluster.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// The cluster's directory (created and initialised when empty).
    pub data_dir: PathBuf,
    /// The loopback TCP port to listen on.
    pub port: u16,
    /// How long to wait for the server to accept connections.
    pub startup_timeout: Duration,
}

/// A running private PostgreSQL server.
#[derive(Debug)]
pub struct LocalPostgres {
    process: ServerProcess,
    port: u16,
    data_dir: PathBuf,
}

impl LocalPostgres {
    /// Initialises the cluster if needed and starts the server; returns once it
    /// accepts connections.
    pub async fn start(options: PostgresOptions) -> Result<Self, LocalError> {
        let bin = binaries::find_postgres_bin_dir()?;
        let run_as = RunAs::detect()?;
        let data_dir = cluster_dir(&options.data_dir, &run_as).await?;

        if !data_dir.join("PG_VERSION").exists() {
            initdb(&bin, &data_dir, &run_as).await?;
        }

        let log = data_dir.join("mcpgate-server.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(LocalError::io(format!("opening {}", log.display())))?;
        let log_start = log_file.metadata().map(|m| m.len()).unwrap_or(0);
        let stderr = log_file
            .try_clone()
            .map_err(LocalError::io("duplicating the log handle"))?;

        let mut command = Command::new(bin.join("postgres"));
        command
            .arg("-D")
            .arg(&data_dir)
            .arg("-p")
            .arg(options.port.to_string())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "max_connections=400"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(stderr))
            .process_group(0);
        run_as.apply(&mut command);
        let child = command
            .spawn()
            .map_err(LocalError::io("starting postgres"))?;
        // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions and
        // stop cleanly, without waiting for clients to leave (SIGTERM would wait).
        let mut process = ServerProcess::new(child, Signal::SIGINT, log.clone());

        let deadline = Instant::now() + options.startup_timeout;
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let new = text
                .get(usize::try_from(log_start).unwrap_or(0)..)
                .unwrap_or("");
            if new.contains("database system is ready to accept connections") {
                break;
            }
            if let Some(status) = process.exited() {
                return Err(startup_error(&log, format!("postgres exited ({status})")));
            }
            if Instant::now() > deadline {
                let error = startup_error(
                    &log,
                    "timed out waiting for it to accept connections".into(),
                );
                process.stop(Duration::from_secs(5)).await;
                return Err(error);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::info!(port = options.port, dir = %data_dir.display(), "postgres is ready");
        Ok(Self {
            process,
            port: options.port,
            data_dir,
        })
    }

    /// The connection URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (may differ from the one asked for; see [`cluster_dir`]).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    pub async fn stop(self) {
        self.process.stop(Duration::from_secs(30)).await;
    }
}

fn startup_error(log: &Path, reason: String) -> LocalError {
    LocalError::Startup {
        server: "PostgreSQL",
        reason,
        log: log.to_path_buf(),
        log_tail: tail(log, 15),
    }
}

/// Who the server runs as: PostgreSQL refuses to run as root, so as root we
/// switch to the `postgres` system user the Debian package creates.
#[derive(Debug)]
struct RunAs(Option<User>);

impl RunAs {
    fn detect() -> Result<Self, LocalError> {
        if !Uid::effective().is_root() {
            return Ok(Self(None));
        }
        match User::from_name("postgres") {
            Ok(Some(user)) => Ok(Self(Some(user))),
            _ => Err(LocalError::NoPostgresUser),
        }
    }

    fn apply(&self, command: &mut Command) {
        if let Some(user) = &self.0 {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            command.env("HOME", &user.dir);
        }
    }

    fn chown(&self, path: &Path) -> Result<(), LocalError> {
        if let Some(user) = &self.0 {
            std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(LocalError::io(format!(
                    "handing {} to postgres",
                    path.display()
                )))?;
        }
        Ok(())
    }
}

/// Creates the cluster directory, owned by the user the server runs as.
///
/// As root, the `postgres` user must be able to reach the directory; a data folder
/// under a private home (`/root/...`) is not reachable, so the cluster then lives
/// under `/var/lib/mcpgate/clusters/`, named after the requested path, and is found
/// there again on the next start.
async fn cluster_dir(wanted: &Path, run_as: &RunAs) -> Result<PathBuf, LocalError> {
    let wanted = std::path::absolute(wanted)
        .map_err(LocalError::io(format!("resolving {}", wanted.display())))?;
    let dir = if run_as.0.is_some() && !reachable_by_others(&wanted) {
        let fallback = PathBuf::from("/var/lib/mcpgate/clusters").join(format!(
            "{:016x}",
            fnv1a(wanted.as_os_str().as_encoded_bytes())
        ));
        tracing::warn!(
            wanted = %wanted.display(),
            actual = %fallback.display(),
            "the postgres user cannot reach the data folder; keeping the cluster elsewhere"
        );
        fallback
    } else {
        wanted
    };
    std::fs::create_dir_all(&dir).map_err(LocalError::io(format!("creating {}", dir.display())))?;
    run_as.chown(&dir)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(LocalError::io(format!("restricting {}", dir.display())))?;
    Ok(dir)
}

/// Whether every existing ancestor of `path` can be traversed by any user.
fn reachable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors()
        .skip(1)
        .filter_map(|dir| dir.metadata().ok())
        .all(|meta| meta.permissions().mode() & 0o001 != 0)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn initdb(bin: &Path, data_dir: &Path, run_as: &RunAs) -> Result<(), LocalError> {
    let mut command = Command::new(bin.join("initdb"));
    command
        .arg("-D")
        .arg(data_dir)
        .args([
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        ])
        .stdin(Stdio::null())
        .current_dir("/");
    run_as.apply(&mut command);
    let output = command
        .output()
        .await
        .map_err(LocalError::io("running initdb"))?;
    if !output.status.success() {
        return Err(LocalError::Startup {
            server: "PostgreSQL (initdb)",
            reason: format!("initdb failed ({})", output.status),
            log: data_dir.to_path_buf(),
            log_tail: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}
