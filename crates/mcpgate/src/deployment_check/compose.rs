//! deploy/compose.yaml at the YAML level (docker is not on the test machines): it
//! parses with its anchors and merge keys, each profile holds the services its header
//! names, the Redis URLs the header documents are read by the store as the nodes of
//! their profile, and every variable it gives mcpgate is a setting.

use std::collections::BTreeSet;

use mcpgate_store::RedisTopology;
use serde_yaml::Value;

use super::helm::workspace;
use super::manifests::text;
use super::settings::is_setting;

fn compose_text() -> String {
    std::fs::read_to_string(workspace().join("deploy/compose.yaml")).expect("deploy/compose.yaml")
}

fn compose() -> Value {
    let mut value: Value = serde_yaml::from_str(&compose_text()).expect("compose.yaml parses");
    value.apply_merge().expect("compose.yaml's merge keys");
    value
}

fn services(compose: &Value) -> &serde_yaml::Mapping {
    compose["services"].as_mapping().expect("services")
}

/// The services of `profile`, or those in no profile (started by a plain `up`).
fn in_profile(compose: &Value, profile: Option<&str>) -> BTreeSet<String> {
    services(compose)
        .iter()
        .filter(|(_, service)| {
            let profiles: Vec<&str> = service["profiles"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match profile {
                None => profiles.is_empty(),
                Some(profile) => profiles.contains(&profile),
            }
        })
        .map(|(name, _)| name.as_str().expect("a service name").to_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn the_compose_file_parses_and_its_profiles_hold_the_services_its_header_names() {
    let compose = compose();
    assert_eq!(
        in_profile(&compose, None),
        names(&["postgres", "redis", "migrate", "api", "proxy"])
    );
    let mut cluster: Vec<String> = (1..=6).map(|n| format!("redis-node-{n}")).collect();
    cluster.push("redis-cluster-create".into());
    assert_eq!(
        in_profile(&compose, Some("redis-cluster")),
        cluster.into_iter().collect()
    );
    assert_eq!(
        in_profile(&compose, Some("redis-sentinel")),
        names(&[
            "redis-master",
            "redis-replica",
            "redis-sentinel-1",
            "redis-sentinel-2",
            "redis-sentinel-3"
        ])
    );
    let declared = compose["volumes"].as_mapping().expect("volumes");
    for (name, service) in services(&compose) {
        let depends = service["depends_on"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for (dependency, _) in depends {
            assert!(
                services(&compose).contains_key(&dependency),
                "{name:?} depends on {dependency:?}"
            );
        }
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let source = volume
                .as_str()
                .and_then(|v| v.split_once(':'))
                .map(|(s, _)| s);
            let source = source.expect("a named volume");
            assert!(
                declared.contains_key(source),
                "{name:?} mounts undeclared {source}"
            );
        }
    }
}

#[test]
fn the_redis_urls_the_compose_file_documents_name_the_nodes_of_their_profile() {
    let compose = compose();
    // Each documented URL is followed by the `--profile <name>` line it goes with.
    let text = compose_text();
    let header: Vec<&str> = text
        .lines()
        .map(|line| line.trim_start_matches('#').trim())
        .collect();
    let documented: Vec<(String, String)> = header
        .windows(2)
        .filter_map(|pair| {
            let url = pair[0].strip_prefix("MCPGATE_REDIS_URL=")?;
            let (_, profile) = pair[1].split_once("--profile ")?;
            let profile = profile.split_whitespace().next()?;
            Some((
                url.trim_end_matches('\\').trim().to_owned(),
                profile.to_owned(),
            ))
        })
        .collect();
    assert_eq!(
        documented.len(),
        2,
        "the header documents a URL per profile: {documented:?}"
    );
    for (url, profile) in documented {
        let topology = RedisTopology::of_url(&url).unwrap_or_else(|error| panic!("{url}: {error}"));
        assert_eq!(topology.kind, profile.trim_start_matches("redis-"), "{url}");
        let members = in_profile(&compose, Some(&profile));
        assert!(topology.nodes.len() >= 3, "{url}");
        for node in &topology.nodes {
            let host = node
                .rsplit_once(':')
                .map_or(node.as_str(), |(host, _)| host);
            assert!(
                members.contains(host),
                "{url}: {host} is not a {profile} service"
            );
        }
        if let Some(master_name) = &topology.master_name {
            let command = serde_yaml::to_string(&services(&compose)["redis-sentinel-1"]["command"])
                .expect("the sentinel's command");
            assert!(
                command.contains(&format!("sentinel monitor {master_name} redis-master 6379")),
                "{command}"
            );
        }
    }
}

#[test]
fn every_variable_the_compose_file_gives_mcpgate_is_a_setting() {
    let compose = compose();
    let mut checked = 0;
    for service in ["migrate", "api", "proxy"] {
        let environment = services(&compose)[service]["environment"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{service} has an environment"));
        assert!(environment.len() >= 8, "{service}: {environment:?}");
        for (variable, _) in environment {
            let variable = variable.as_str().expect("a variable name");
            assert!(
                is_setting(variable),
                "{service}: {variable} is not an mcpgate setting"
            );
            checked += 1;
        }
        let command = &services(&compose)[service]["command"][0];
        assert_eq!(
            command.as_str(),
            Some(service),
            "{service} runs `mcpgate {service}`"
        );
    }
    assert!(checked > 0);
    let api = &services(&compose)["api"]["environment"];
    assert_eq!(text(api, &["MCPGATE_API_LISTEN"]), Some("0.0.0.0:8080"));
}
