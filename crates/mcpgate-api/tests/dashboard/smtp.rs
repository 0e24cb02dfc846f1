//! A real SMTP receiver: aiosmtpd (`tests/e2e/servers/smtp_sink.py`, installed into
//! `tests/e2e/.venv-smtp` by scripts/prereqs.sh) on loopback, writing each delivered
//! message, decoded, to a directory of its own. Killed when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const LISTENING: &str = "MCPGATE_E2E_LISTENING ";

fn e2e_dir() -> PathBuf {
    std::env::var_os("MCPGATE_E2E_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/e2e")))
}

/// One delivered message, as the receiver decoded it.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivered {
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
}

impl Delivered {
    /// The first `http://` link in the body that contains `marker`.
    pub fn link(&self, marker: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http://") && word.contains(marker))
            .map(str::to_owned)
    }
}

pub struct SmtpSink {
    pub address: SocketAddr,
    directory: PathBuf,
    _child: Child,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let python = e2e_dir().join(".venv-smtp/bin/python");
        assert!(
            python.exists(),
            "{} is missing: scripts/prereqs.sh (ensure_smtp_sink) installs aiosmtpd",
            python.display()
        );
        let directory =
            std::env::temp_dir().join(format!("mcpgate-smtp-{}", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(python)
            .arg(e2e_dir().join("servers/smtp_sink.py"))
            .arg(&directory)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting smtp_sink.py");
        let mut stdout = BufReader::new(child.stdout.take().expect("a stdout pipe")).lines();
        let address = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(address) = line.strip_prefix(LISTENING) {
                    return address.parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("smtp_sink.py prints its address");
        assert!(address.ip().is_loopback());
        SmtpSink {
            address,
            directory,
            _child: child,
        }
    }

    /// Every message delivered so far, in order of delivery.
    pub fn delivered(&self) -> Vec<Delivered> {
        let Ok(entries) = std::fs::read_dir(&self.directory) else {
            return Vec::new();
        };
        let mut numbered: Vec<(u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter_map(|path| {
                let number = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                Some((number, path))
            })
            .collect();
        numbered.sort();
        numbered
            .into_iter()
            .map(|(_, path)| {
                serde_json::from_slice(&std::fs::read(&path).expect("a delivered message"))
                    .expect("the receiver's JSON")
            })
            .collect()
    }

    /// Waits (at most 30 s) until a message to `recipient` has arrived.
    pub async fn wait_for(&self, recipient: &str) -> Delivered {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.delivered().into_iter().find(|mail| {
                mail.rcpt_tos
                    .iter()
                    .any(|to| to.eq_ignore_ascii_case(recipient))
            }) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail to {recipient} within 30 s; delivered: {:?}",
                self.delivered()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
