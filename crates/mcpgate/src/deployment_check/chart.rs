//! The Helm chart rendered by the real helm for each documented values file
//! (deploy/helm/mcpgate/ci/*.yaml), checked as Kubernetes and mcpgate would read it.

use mcpgate_store::RedisTopology;
use serde_yaml::Value;

use super::helm::{chart_dir, values_file, Helm};
use super::manifests::{container, env_sources, EnvSource};
use super::release::{render, Loaded};
use super::values_paths::{exists, values_paths};

const DOCUMENTED_VALUES: [&str; 6] = [
    "single-values.yaml",
    "redis-url-values.yaml",
    "cluster-values.yaml",
    "sentinel-values.yaml",
    "otlp-values.yaml",
    "existing-secret-values.yaml",
];

fn topology(loaded: &Loaded) -> RedisTopology {
    let url = loaded.proxy.redis_url.as_deref().expect("a Redis URL");
    RedisTopology::of_url(url).unwrap_or_else(|error| panic!("{url}: {error}"))
}

fn variables(release: &super::release::Release, deployment: &str, name: &str) -> Vec<String> {
    let workload = release.manifests.get("Deployment", deployment);
    env_sources(container(workload, name))
        .into_iter()
        .map(|(variable, _)| variable)
        .collect()
}

#[test]
fn the_chart_passes_helm_lint_strict_with_every_documented_values_file() {
    let helm = Helm::new();
    assert!(helm.version().starts_with("v4."), "{}", helm.version());
    let keys = helm.write_values(
        "lint-keys.yaml",
        "keys: { grantSigningKey: a, grantVerifyKey: b, secretKey: c }\n",
    );
    for values in DOCUMENTED_VALUES {
        let file = values_file(values);
        let report = helm
            .lint(&[file.as_path(), keys.as_path()])
            .unwrap_or_else(|error| panic!("helm lint --strict with {values}: {error}"));
        assert!(report.contains("0 chart(s) failed"), "{values}: {report}");
    }
}

#[test]
fn one_redis_node_renders_an_api_and_a_proxy_that_load_with_that_node_and_export_no_traces() {
    let release = render(&Helm::new(), "single-values.yaml", true);
    release.assert_kubernetes_shape();
    let loaded = release.load();
    assert_eq!(
        loaded.api.redis_url.as_deref(),
        Some("redis://redis-master.redis:6379")
    );
    let topology = topology(&loaded);
    assert_eq!(
        (topology.kind, topology.nodes),
        ("single", vec!["redis-master.redis:6379".to_owned()])
    );
    for config in [&loaded.api, &loaded.proxy, &loaded.migrate] {
        assert!(config.otlp.is_none());
    }
    let api = variables(&release, "mcpgate-api", "api");
    assert!(api.contains(&"MCPGATE_REDIS_URL".to_owned()), "{api:?}");
    assert!(
        !api.iter().any(|variable| variable.starts_with("OTEL_")),
        "{api:?}"
    );
}

#[test]
fn a_redis_url_given_as_is_reaches_api_proxy_and_migrations_unchanged() {
    let release = render(&Helm::new(), "redis-url-values.yaml", true);
    release.assert_kubernetes_shape();
    let loaded = release.load();
    for config in [&loaded.api, &loaded.proxy, &loaded.migrate] {
        assert_eq!(
            config.redis_url.as_deref(),
            Some("redis://redis.example.internal:6380/2")
        );
    }
    let topology = topology(&loaded);
    assert_eq!(
        (topology.kind, topology.nodes),
        ("single", vec!["redis.example.internal:6380".to_owned()])
    );
}

#[test]
fn cluster_seeds_render_a_redis_cluster_url_the_store_reads_as_those_seeds() {
    let release = render(&Helm::new(), "cluster-values.yaml", true);
    release.assert_kubernetes_shape();
    let topology = topology(&release.load());
    assert_eq!(topology.kind, "cluster");
    assert!(topology.tls, "redis.tls: true renders rediss+cluster://");
    assert_eq!(
        topology.nodes,
        [0, 1, 2].map(|n| format!("redis-cluster-{n}.redis-cluster-headless.redis:6379"))
    );
}

#[test]
fn a_sentinel_set_with_a_password_secret_renders_the_password_from_the_secret_into_the_url() {
    let mut release = render(&Helm::new(), "sentinel-values.yaml", true);
    release.add_secret("redis-auth", &[("redis-password", "s3cret-pw")]);
    release.assert_kubernetes_shape();
    let proxy = container(
        release.manifests.get("Deployment", "mcpgate-proxy"),
        "proxy",
    );
    let password = env_sources(proxy)
        .into_iter()
        .find(|(variable, _)| variable == "REDIS_PASSWORD")
        .map(|(_, source)| source);
    assert_eq!(
        password,
        Some(EnvSource::SecretKey {
            secret: "redis-auth".into(),
            key: "redis-password".into()
        })
    );
    let loaded = release.load();
    let nodes = [0, 1, 2].map(|n| format!("redis-node-{n}.redis-headless.redis:26379"));
    assert_eq!(
        loaded.proxy.redis_url,
        Some(format!(
            "redis+sentinel://:s3cret-pw@{}/mymaster",
            nodes.join(",")
        ))
    );
    let topology = topology(&loaded);
    assert_eq!(topology.kind, "sentinel");
    assert_eq!(topology.nodes, nodes);
    assert_eq!(topology.master_name.as_deref(), Some("mymaster"));
}

#[test]
fn otlp_on_gives_api_proxy_and_migrations_the_collector_and_the_service_name() {
    let release = render(&Helm::new(), "otlp-values.yaml", true);
    release.assert_kubernetes_shape();
    let loaded = release.load();
    for config in [&loaded.api, &loaded.proxy, &loaded.migrate] {
        let otlp = config.otlp.as_ref().expect("traces on");
        assert_eq!(
            otlp.traces_url(),
            "http://otel-collector.observability:4318/v1/traces"
        );
        assert_eq!(otlp.service_name, "mcpgate-eu1");
    }
}

#[test]
fn an_existing_secret_replaces_the_charts_secret_in_every_reference() {
    let helm = Helm::new();
    let mut release = render(&helm, "existing-secret-values.yaml", false);
    assert_eq!(release.manifests.of_kind("Secret").count(), 0);
    let keys = [
        (
            "database-url",
            "postgres://mcpgate:pw@db:5432/mcpgate".to_owned(),
        ),
        ("grant-signing-key", release.keys.signing.clone()),
        ("grant-verify-key", release.keys.verify.clone()),
        ("secret-key", release.keys.secret.clone()),
    ];
    let data: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
    release.add_secret("mcpgate-keys", &data);
    release.assert_kubernetes_shape();
    let loaded = release.load();
    assert_eq!(
        loaded.migrate.database_url.as_deref(),
        Some("postgres://mcpgate:pw@db:5432/mcpgate")
    );
}

#[test]
fn values_the_chart_cannot_use_fail_the_render_with_a_message_naming_them() {
    let helm = Helm::new();
    let keys = "keys: { grantSigningKey: a, grantVerifyKey: b, secretKey: c }\n";
    let cases = [
        (
            "redis: { mode: cluster }",
            "redis.nodes is required for a cluster",
        ),
        (
            "redis: { mode: sentinel }",
            "redis.sentinels is required for sentinel",
        ),
        (
            "redis: { mode: clustr }",
            "redis.mode must be single, cluster or sentinel, not \"clustr\"",
        ),
        (
            "redis: { mode: single }",
            "redisUrl or redis.host is required",
        ),
    ];
    for (redis, message) in cases {
        let values = format!("databaseUrl: postgres://db/mcpgate\n{keys}{redis}\n");
        let file = helm.write_values("bad.yaml", &values);
        let error = helm.template(&[file.as_path()]).expect_err(redis);
        assert!(error.contains(message), "{redis}: {error}");
    }
    let file = helm.write_values(
        "no-database.yaml",
        &format!("{keys}redis: {{ host: r:6379 }}\n"),
    );
    let error = helm
        .template(&[file.as_path()])
        .expect_err("no databaseUrl");
    assert!(error.contains("databaseUrl is required"), "{error}");
}

#[test]
fn every_values_path_the_templates_read_is_a_key_of_values_yaml() {
    let values: Value = serde_yaml::from_str(
        &std::fs::read_to_string(chart_dir().join("values.yaml")).expect("values.yaml"),
    )
    .expect("values.yaml parses");
    let mut read = Vec::new();
    for entry in std::fs::read_dir(chart_dir().join("templates")).expect("templates") {
        let path = entry.expect("a template").path();
        let template = std::fs::read_to_string(&path).expect("read a template");
        read.extend(
            values_paths(&template)
                .into_iter()
                .map(|p| (path.clone(), p)),
        );
    }
    for expected in [
        "redis.nodes",
        "redis.passwordSecret.name",
        "otlp.endpoint",
        "otlp.serviceName",
    ] {
        assert!(
            read.iter().any(|(_, path)| path == expected),
            "{expected} not found in {read:?}"
        );
    }
    let missing: Vec<_> = read
        .iter()
        .filter(|(_, path)| !exists(&values, path))
        .collect();
    assert!(
        missing.is_empty(),
        "read by the templates but not in values.yaml: {missing:?}"
    );
}
