//! One rendered release of the chart (`helm template mcpgate ...` with fresh keys),
//! the Kubernetes shape every release must have, and each workload's environment
//! loaded by the real configuration with the checks its command makes at start-up.

use std::collections::{BTreeMap, BTreeSet};

use mcpgate_auth::{GrantSigningKey, SecretKey};
use serde_yaml::Value;

use super::helm::{validate_against_kubernetes_schemas, values_file, Helm};
use super::manifests::{
    container, container_port, env_sources, pod_spec, resolve_env, string_map, text, EnvSource,
    Manifests,
};
use super::settings;
use crate::config::Config;

/// Variables whose values are secrets: they must come from a Secret, never inline.
const SECRET_VARIABLES: [&str; 5] = [
    "MCPGATE_DATABASE_URL",
    "MCPGATE_GRANT_SIGNING_KEY",
    "MCPGATE_SECRET_KEY",
    "MCPGATE_SMTP_URL",
    "REDIS_PASSWORD",
];

/// What the chart puts in the environment only for `$(VAR)` expansion.
const HELPER_VARIABLES: [&str; 1] = ["REDIS_PASSWORD"];

pub(super) struct Keys {
    pub(super) signing: String,
    pub(super) verify: String,
    pub(super) secret: String,
}

impl Keys {
    fn generate() -> Self {
        let signing = GrantSigningKey::generate();
        Self {
            signing: signing.to_base64(),
            verify: signing.verify_key().to_base64(),
            secret: SecretKey::generate().to_base64(),
        }
    }

    fn values_yaml(&self) -> String {
        format!(
            "keys:\n  grantSigningKey: {:?}\n  grantVerifyKey: {:?}\n  secretKey: {:?}\n",
            self.signing, self.verify, self.secret
        )
    }
}

pub(super) struct Release {
    pub(super) manifests: Manifests,
    pub(super) keys: Keys,
    /// Secrets the pods can read: the rendered ones and those made outside the chart.
    secrets: BTreeMap<String, BTreeMap<String, String>>,
}

/// `helm template` of ci/<values_file>, with fresh keys in a second values file when
/// `keys_in_values`.
pub(super) fn render(helm: &Helm, values: &str, keys_in_values: bool) -> Release {
    let keys = Keys::generate();
    let documented = values_file(values);
    let keys_file = helm.write_values("keys.yaml", &keys.values_yaml());
    let mut files = vec![documented.as_path()];
    if keys_in_values {
        files.push(keys_file.as_path());
    }
    let stream = helm
        .template(&files)
        .unwrap_or_else(|error| panic!("helm template with {values}: {error}"));
    let manifests = Manifests::parse(&stream)
        .unwrap_or_else(|error| panic!("{values} rendered invalid YAML: {error}\n{stream}"));
    let report = validate_against_kubernetes_schemas(&stream)
        .unwrap_or_else(|error| panic!("{values}: not valid Kubernetes: {error}"));
    let validated = report.matches(" passed for resource ").count();
    assert_eq!(validated, manifests.documents.len(), "{values}: {report}");
    let secrets = manifests
        .of_kind("Secret")
        .filter_map(|secret| text(secret, &["metadata", "name"]))
        .map(|name| {
            (
                name.to_owned(),
                manifests.secret_data(name).unwrap_or_default(),
            )
        })
        .collect();
    Release {
        manifests,
        keys,
        secrets,
    }
}

/// Each workload's configuration as its process would load it.
pub(super) struct Loaded {
    pub(super) api: Config,
    pub(super) proxy: Config,
    pub(super) migrate: Config,
}

impl Release {
    /// A Secret made outside the chart (e.g. the Redis password's).
    pub(super) fn add_secret(&mut self, name: &str, data: &[(&str, &str)]) {
        let data = data.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.secrets.insert(name.to_owned(), data.collect());
    }

    /// The kubelet's environment for `container` of the `kind` `name`.
    pub(super) fn environment(
        &self,
        kind: &str,
        name: &str,
        container_name: &str,
    ) -> Vec<(String, String)> {
        let workload = self.manifests.get(kind, name);
        resolve_env(container(workload, container_name), &self.secrets)
            .unwrap_or_else(|error| panic!("{kind} {name}: {error}"))
    }

    fn config(&self, kind: &str, name: &str, container_name: &str) -> Config {
        let environment = self.environment(kind, name, container_name);
        settings::load(&environment, &HELPER_VARIABLES)
            .unwrap_or_else(|error| panic!("{kind} {name} does not load: {error}"))
    }

    /// Loads the three workloads and makes the checks `mcpgate api`, `proxy` and
    /// `migrate` make before they connect to anything: keys, URLs, listen ports.
    pub(super) fn load(&self) -> Loaded {
        let api = self.config("Deployment", "mcpgate-api", "api");
        let proxy = self.config("Deployment", "mcpgate-proxy", "proxy");
        let migrate = self.config("Job", "mcpgate-migrate-1", "migrate");
        api.grant_signing_key("api").expect("the API's signing key");
        api.secret_key("api").expect("the API's secret key");
        proxy
            .grant_verify_key("proxy")
            .expect("the proxy's verify key");
        proxy.secret_key("proxy").expect("the proxy's secret key");
        assert_eq!(
            api.grant_signing_key.as_deref(),
            Some(self.keys.signing.as_str())
        );
        assert_eq!(
            proxy.grant_signing_key, None,
            "the proxy gets only the verify key"
        );
        assert_eq!(
            proxy.grant_verify_key.as_deref(),
            Some(self.keys.verify.as_str())
        );
        assert_eq!(
            api.secret_key, proxy.secret_key,
            "API and proxy share the secret key"
        );
        for (config, command) in [(&api, "api"), (&proxy, "proxy"), (&migrate, "migrate")] {
            config
                .require_database_url(command)
                .expect("a database URL");
        }
        api.require_redis_url("api").expect("the API's Redis URL");
        assert_eq!(
            api.redis_url, proxy.redis_url,
            "one Redis for API and proxy"
        );
        let listens = [
            ("mcpgate-api", "api", api.api_listen.port()),
            ("mcpgate-proxy", "proxy", proxy.proxy_listen.port()),
        ];
        for (deployment, name, listen_port) in listens {
            let serving = container(self.manifests.get("Deployment", deployment), name);
            let http = container_port(serving, &Value::String("http".into()));
            assert_eq!(
                http,
                Some(u64::from(listen_port)),
                "{deployment} listens on its http port"
            );
        }
        Loaded {
            api,
            proxy,
            migrate,
        }
    }

    /// The shape every release has: identified documents, Deployments whose Services
    /// select their pods and reach a container port, probes on the health routes, and
    /// secrets referenced, never written into a pod spec.
    pub(super) fn assert_kubernetes_shape(&self) {
        let documents = &self.manifests.documents;
        assert!(
            documents.len() >= 5,
            "{:?}",
            self.manifests.kinds_and_names()
        );
        let mut seen = BTreeSet::new();
        for document in documents {
            for path in [&["apiVersion"][..], &["kind"], &["metadata", "name"]] {
                let value = text(document, path).unwrap_or_default();
                assert!(!value.is_empty(), "{path:?} missing in {document:?}");
            }
            let identity = (
                text(document, &["kind"]),
                text(document, &["metadata", "name"]),
            );
            assert!(seen.insert(identity), "{identity:?} rendered twice");
        }
        for (deployment, name) in [("mcpgate-api", "api"), ("mcpgate-proxy", "proxy")] {
            let serving = container(self.manifests.get("Deployment", deployment), name);
            for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
                let get = &serving[probe]["httpGet"];
                assert_eq!(text(get, &["path"]), Some(path), "{deployment} {probe}");
                assert!(
                    container_port(serving, &get["port"]).is_some(),
                    "{deployment} {probe} port"
                );
            }
        }
        self.assert_services_select_their_deployments();
        self.assert_secrets_are_referenced();
    }

    fn assert_services_select_their_deployments(&self) {
        let services: Vec<&Value> = self.manifests.of_kind("Service").collect();
        assert_eq!(services.len(), 2, "{:?}", self.manifests.kinds_and_names());
        for deployment in self.manifests.of_kind("Deployment") {
            let selector = string_map(&deployment["spec"]["selector"]["matchLabels"]);
            let pod_labels = string_map(&deployment["spec"]["template"]["metadata"]["labels"]);
            assert!(!selector.is_empty(), "{deployment:?} selects nothing");
            assert!(
                selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)),
                "{selector:?} {pod_labels:?}"
            );
        }
        for service in services {
            let name = text(service, &["metadata", "name"]).unwrap_or_default();
            let selector = string_map(&service["spec"]["selector"]);
            assert!(!selector.is_empty(), "Service {name} selects nothing");
            let selected: Vec<&Value> = self
                .manifests
                .of_kind("Deployment")
                .filter(|deployment| {
                    let labels = string_map(&deployment["spec"]["template"]["metadata"]["labels"]);
                    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                })
                .collect();
            assert_eq!(
                selected.len(),
                1,
                "Service {name} must select one Deployment's pods"
            );
            let serving = &pod_spec(selected[0])["containers"][0];
            let ports = service["spec"]["ports"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            assert!(!ports.is_empty(), "Service {name} has no port");
            for port in ports {
                assert!(
                    container_port(serving, &port["targetPort"]).is_some(),
                    "Service {name}'s {port:?} reaches no container port"
                );
            }
        }
    }

    fn assert_secrets_are_referenced(&self) {
        let workloads = self
            .manifests
            .of_kind("Deployment")
            .chain(self.manifests.of_kind("Job"));
        let mut checked = 0;
        for workload in workloads {
            for serving in pod_spec(workload)["containers"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                for (variable, source) in env_sources(serving) {
                    if SECRET_VARIABLES.contains(&variable.as_str()) {
                        checked += 1;
                        assert!(
                            matches!(source, EnvSource::SecretKey { .. }),
                            "{variable} is inline"
                        );
                    }
                }
            }
        }
        assert!(
            checked >= 3 * 2,
            "every workload has its database URL and secret key"
        );
        let secret_texts: Vec<&str> = self
            .secrets
            .values()
            .flat_map(|data| data.values().map(String::as_str))
            .chain([self.keys.signing.as_str(), self.keys.secret.as_str()])
            .filter(|secret| !secret.is_empty())
            .collect();
        for document in &self.manifests.documents {
            if text(document, &["kind"]) == Some("Secret") {
                continue;
            }
            let written = serde_yaml::to_string(document).expect("YAML");
            for secret in &secret_texts {
                assert!(
                    !written.contains(secret),
                    "a secret is written in {document:?}"
                );
            }
        }
    }
}
