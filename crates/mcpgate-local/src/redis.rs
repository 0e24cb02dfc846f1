//! A private Redis server on a loopback port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::process::{tail, ServerProcess};
use crate::{binaries, LocalError};

/// Where and how to run the private Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// The loopback TCP port to listen on.
    pub port: u16,
    /// Where Redis keeps its snapshot and log; `None` for a throwaway server
    /// (tests) that persists nothing and logs to a temporary file.
    pub data_dir: Option<PathBuf>,
    /// How long to wait for the server to answer PING.
    pub startup_timeout: Duration,
}

/// A running private Redis.
#[derive(Debug)]
pub struct LocalRedis {
    process: ServerProcess,
    port: u16,
}

impl LocalRedis {
    /// Starts `redis-server` and returns once it answers PING.
    pub async fn start(options: RedisOptions) -> Result<Self, LocalError> {
        let program = binaries::find_redis_server()?;
        let (dir, persist) = match &options.data_dir {
            Some(dir) => (dir.clone(), true),
            None => (std::env::temp_dir(), false),
        };
        std::fs::create_dir_all(&dir)
            .map_err(LocalError::io(format!("creating {}", dir.display())))?;
        let log = dir.join(format!("redis-{}.log", options.port));

        let mut command = Command::new(program);
        command
            .args(["--port", &options.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--daemonize", "no"])
            .args(["--appendonly", "no"])
            .args(["--logfile"])
            .arg(&log)
            .arg("--dir")
            .arg(&dir);
        if persist {
            // Counters are rebuilt from nothing if lost; a snapshot on shutdown keeps
            // the current windows across an ordinary restart.
            command.args(["--save", "60 1000"]);
            command.args(["--dbfilename", "mcpgate-redis.rdb"]);
        } else {
            command.args(["--save", ""]);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = command
            .spawn()
            .map_err(LocalError::io("starting redis-server"))?;
        let mut process = ServerProcess::new(child, Signal::SIGTERM, log);

        let deadline = Instant::now() + options.startup_timeout;
        loop {
            if ping(options.port).await {
                break;
            }
            if let Some(status) = process.exited() {
                let log = process.log().to_path_buf();
                return Err(LocalError::Startup {
                    server: "Redis",
                    reason: format!("redis-server exited ({status})"),
                    log_tail: tail(&log, 15),
                    log,
                });
            }
            if Instant::now() > deadline {
                let log = process.log().to_path_buf();
                process.stop(Duration::from_secs(5)).await;
                return Err(LocalError::Startup {
                    server: "Redis",
                    reason: "timed out waiting for PONG".into(),
                    log_tail: tail(&log, 15),
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::debug!(port = options.port, "redis is ready");
        Ok(Self {
            process,
            port: options.port,
        })
    }

    /// The connection URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (it saves its snapshot first when persistent).
    pub async fn stop(self) {
        self.process.stop(Duration::from_secs(10)).await;
    }

    /// Kills the server at once, as a crash would.
    pub async fn kill(self) {
        self.process.kill().await;
    }
}

async fn ping(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        stream.read_exact(&mut buf).await?;
        Ok::<bool, std::io::Error>(&buf == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Ok(true))
    )
}
