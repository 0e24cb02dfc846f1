//! A child server process that stops gracefully.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::Child;

/// A running server we started. Dropping it sends the graceful stop signal
/// without waiting; [`ServerProcess::stop`] also waits for the exit.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    stop_signal: Signal,
    log: PathBuf,
}

impl ServerProcess {
    pub(crate) fn new(child: Child, stop_signal: Signal, log: PathBuf) -> Self {
        Self {
            child,
            stop_signal,
            log,
        }
    }

    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(description)` if the process has already exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(err) => Some(format!("unknown state: {err}")),
        }
    }

    /// Sends the stop signal and waits up to `grace` for the exit, then kills.
    pub(crate) async fn stop(mut self, grace: Duration) {
        self.signal(self.stop_signal);
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(log = %self.log.display(), "server did not stop in time; killing it");
            let _ = self.child.kill().await;
        }
    }

    /// Kills the process at once (tests use this to simulate a crash).
    pub(crate) async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.child.id() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), signal);
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal(self.stop_signal);
        }
    }
}

/// The last `lines` lines of a log file, for error messages.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
