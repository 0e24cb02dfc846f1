//! The real helm (tests/helm/bin/helm, v4.1.4, installed by `ensure_helm` in
//! scripts/prereqs.sh), run with empty homes of its own so no helm configuration,
//! repository or kube context of the machine reaches it. `helm template` and
//! `helm lint` need no cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root.
pub(super) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// deploy/helm/mcpgate.
pub(super) fn chart_dir() -> PathBuf {
    workspace().join("deploy/helm/mcpgate")
}

/// One of the chart's documented values files, deploy/helm/mcpgate/ci/<name>.
pub(super) fn values_file(name: &str) -> PathBuf {
    let path = chart_dir().join("ci").join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

pub(super) struct Helm {
    binary: PathBuf,
    home: tempfile::TempDir,
}

impl Helm {
    pub(super) fn new() -> Self {
        let binary = workspace().join("tests/helm/bin/helm");
        assert!(
            binary.is_file(),
            "{} is missing: scripts/test.sh installs it (ensure_helm in scripts/prereqs.sh); \
             by hand: bash -c 'source scripts/prereqs.sh && ensure_helm'",
            binary.display()
        );
        Self {
            binary,
            home: tempfile::tempdir().expect("a temporary helm home"),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        for (variable, folder) in [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ] {
            command.env(variable, self.home.path().join(folder));
        }
        command
            .env("KUBECONFIG", self.home.path().join("no-kubeconfig"))
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_KUBECONTEXT");
        command
    }

    /// Writes `yaml` as a values file in the helm home (for keys made by the test).
    pub(super) fn write_values(&self, name: &str, yaml: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, yaml).expect("write a values file");
        path
    }

    /// `helm template mcpgate deploy/helm/mcpgate -f ...`: the manifests, or helm's error.
    pub(super) fn template(&self, values: &[&Path]) -> Result<String, String> {
        let mut command = self.command();
        command
            .args(["template", "mcpgate"])
            .arg(chart_dir())
            .args(["--namespace", "mcpgate"]);
        for file in values {
            command.arg("--values").arg(file);
        }
        run(command)
    }

    /// `helm lint --strict deploy/helm/mcpgate -f ...`.
    pub(super) fn lint(&self, values: &[&Path]) -> Result<String, String> {
        let mut command = self.command();
        command.args(["lint", "--strict"]).arg(chart_dir());
        for file in values {
            command.arg("--values").arg(file);
        }
        run(command)
    }

    /// `helm version --short`, e.g. `v4.1.4+g05fa379`.
    pub(super) fn version(&self) -> String {
        let mut command = self.command();
        command.args(["version", "--short"]);
        run(command).expect("helm version")
    }
}

/// The Kubernetes version whose schemas the manifests are checked against (the one
/// `ensure_kubernetes_validate` keeps).
const KUBERNETES_VERSION: &str = "1.35.0";

/// kubernetes-validate --strict (tests/helm/.venv): every document of `stream` against
/// Kubernetes' JSON schemas, unknown fields refused. Ok with its report, or its errors.
pub(super) fn validate_against_kubernetes_schemas(stream: &str) -> Result<String, String> {
    let validator = workspace().join("tests/helm/.venv/bin/kubernetes-validate");
    assert!(
        validator.is_file(),
        "{} is missing: scripts/test.sh installs it (ensure_kubernetes_validate in \
         scripts/prereqs.sh)",
        validator.display()
    );
    let mut file = tempfile::NamedTempFile::new().expect("a temporary manifest file");
    std::io::Write::write_all(&mut file, stream.as_bytes()).expect("write the manifests");
    let mut command = Command::new(validator);
    command
        .args(["--kubernetes-version", KUBERNETES_VERSION, "--strict"])
        .arg(file.path());
    run(command)
}

fn run(mut command: Command) -> Result<String, String> {
    let output = command.output().expect("run helm");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{}\n{stdout}{stderr}", output.status))
    }
}
