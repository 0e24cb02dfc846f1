//! One `redis-server` that speaks only TLS (`--port 0 --tls-port`), with a CA and a
//! server certificate for 127.0.0.1 made for the test by the openssl CLI, and a second
//! CA that signed nothing (to be refused by).

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use super::{eventually, free_port, Node, TempDir};

/// A TLS-only Redis on a loopback port; killed when dropped.
#[derive(Debug)]
pub struct TestTlsRedis {
    node: Node,
    dir: TempDir,
}

impl TestTlsRedis {
    /// Makes the certificates and starts the server, returning once it answers PING
    /// over TLS with the CA trusted.
    ///
    /// # Panics
    /// When openssl or redis-server is missing or fails.
    pub async fn start() -> Self {
        let dir = TempDir::new("tls-redis");
        make_certificates(&dir.0);
        let port = free_port();
        let path = |name: &str| dir.0.join(name).display().to_string();
        let args: Vec<String> = [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            &path("server.pem"),
            "--tls-key-file",
            &path("server.key"),
            "--tls-ca-cert-file",
            &path("ca.pem"),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .map(String::from)
        .to_vec();
        let node = Node::spawn("redis-server", &args, port, &dir.0);
        let tls = Self { node, dir };
        let answered = eventually(Duration::from_secs(10), || tls.pings()).await;
        assert!(
            answered,
            "the TLS redis-server on port {port} did not answer PING; its log: {}",
            std::fs::read_to_string(tls.dir.0.join(format!("{port}.log"))).unwrap_or_default()
        );
        tls
    }

    /// `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.node.port)
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.0.join("ca.pem")
    }

    /// The PEM file of a CA that signed nothing this server holds.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.0.join("other-ca.pem")
    }

    async fn pings(&self) -> bool {
        let Ok(ca) = std::fs::read(self.ca_file()) else {
            return false;
        };
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca),
        };
        let Ok(client) = redis::Client::build_with_tls(self.url(), certificates) else {
            return false;
        };
        match client.get_multiplexed_async_connection().await {
            Ok(mut connection) => redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// `ca.pem` (+ key), `server.pem` / `server.key` for IP 127.0.0.1 signed by it, and
/// `other-ca.pem`, an unrelated CA. EC P-256 keys: quick to make.
fn make_certificates(dir: &Path) {
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    for (name, subject) in [
        ("ca", "/CN=mcpgate test CA"),
        ("other-ca", "/CN=another CA"),
    ] {
        openssl(
            dir,
            &[
                &["req", "-x509", "-nodes", "-days", "2"],
                &key[..],
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.pem"),
                ],
                &["-subj", subject],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
        );
    }
    openssl(
        dir,
        &[
            &[
                "req",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ][..],
            &key[..],
            &["-subj", "/CN=127.0.0.1"],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("writing the server certificate's extensions");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
        ],
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = StdCommand::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running openssl (Debian's openssl package): {e}"));
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
