//! `mcpgate up` starts the product with its own PostgreSQL and Redis, keeps its
//! data across restarts, and leaves nothing running after Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Up {
    child: Child,
    api: String,
    env: std::path::PathBuf,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn start(data_dir: &std::path::Path) -> Up {
    let api = format!("127.0.0.1:{}", free_port());
    let proxy = format!("127.0.0.1:{}", free_port());
    let env = data_dir.join("env");
    let _ = std::fs::remove_file(&env);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpgate"))
        .args(["up", "--data-dir"])
        .arg(data_dir)
        .arg("--env-file")
        .arg(&env)
        .env("MCPGATE_API_LISTEN", &api)
        .env("MCPGATE_PROXY_LISTEN", &proxy)
        .env("MCPGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting mcpgate up");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("`mcpgate up` did not say it was up in time");
        if line.contains("mcpgate is up") {
            break;
        }
    }
    Up { child, api, env }
}

fn stop(mut up: Up) {
    let pid = up.child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = up.child.try_wait().unwrap() {
            assert!(status.success(), "mcpgate up exited with {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "mcpgate up did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn port_of(env: &str, key: &str) -> u16 {
    let url = env
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} missing from {env}"));
    let after_host = url.rsplit_once(':').unwrap().1;
    after_host.split('/').next().unwrap().parse().unwrap()
}

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(300),
    )
    .is_ok()
}

#[test]
fn up_serves_the_product_and_ctrl_c_leaves_nothing_running() {
    let dir = tempfile::Builder::new()
        .prefix("mcpgate-up-test")
        .tempdir_in("/tmp")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let up = start(dir.path());
    let ready = reqwest::blocking::get(format!("http://{}/readyz", up.api)).unwrap();
    assert_eq!(ready.status(), 200);
    let env = std::fs::read_to_string(&up.env).unwrap();
    let (pg, redis) = (
        port_of(&env, "MCPGATE_DATABASE_URL="),
        port_of(&env, "MCPGATE_REDIS_URL="),
    );
    assert!(answers(pg) && answers(redis));
    stop(up);
    assert!(!answers(pg), "PostgreSQL still running after Ctrl-C");
    assert!(!answers(redis), "Redis still running after Ctrl-C");

    // The data folder is reused: a second start finds the cluster initialised.
    let up = start(dir.path());
    let ready = reqwest::blocking::get(format!("http://{}/readyz", up.api)).unwrap();
    assert_eq!(ready.status(), 200);
    stop(up);
}
