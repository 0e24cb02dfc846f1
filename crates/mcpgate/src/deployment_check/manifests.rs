//! Rendered Kubernetes manifests, read as the API server would read the parts the
//! checks need: documents by kind and name, a container's environment as the kubelet
//! builds it (plain values, `secretKeyRef`s, `$(VAR)` expansion), Secrets' data.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::Value;

/// Every non-empty document of a `helm template` stream.
pub(super) struct Manifests {
    pub(super) documents: Vec<Value>,
}

impl Manifests {
    pub(super) fn parse(stream: &str) -> Result<Self, String> {
        let mut documents = Vec::new();
        for document in serde_yaml::Deserializer::from_str(stream) {
            let value = Value::deserialize(document).map_err(|error| error.to_string())?;
            if !value.is_null() {
                documents.push(value);
            }
        }
        Ok(Self { documents })
    }

    pub(super) fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.documents
            .iter()
            .filter(move |document| text(document, &["kind"]) == Some(kind))
    }

    pub(super) fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.documents.iter().find(|document| {
            text(document, &["kind"]) == Some(kind)
                && text(document, &["metadata", "name"]) == Some(name)
        })
    }

    /// The named document, or a panic listing what was rendered.
    pub(super) fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name).unwrap_or_else(|| {
            panic!(
                "no {kind} {name:?} rendered; rendered: {:?}",
                self.kinds_and_names()
            )
        })
    }

    pub(super) fn kinds_and_names(&self) -> Vec<(String, String)> {
        self.documents
            .iter()
            .map(|document| {
                let field = |path: &[&str]| text(document, path).unwrap_or("?").to_owned();
                (field(&["kind"]), field(&["metadata", "name"]))
            })
            .collect()
    }

    /// A rendered Secret's `stringData` (the chart writes no base64 `data`).
    pub(super) fn secret_data(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let secret = self.find("Secret", name)?;
        assert!(
            secret["data"].is_null(),
            "Secret {name} has base64 data, which these checks do not decode"
        );
        Some(string_map(&secret["stringData"]))
    }
}

/// The string at `path`, if there is one.
pub(super) fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |at, key| at.get(key))?.as_str()
}

/// A mapping of strings to strings (labels, selectors, stringData); empty when absent.
pub(super) fn string_map(value: &Value) -> BTreeMap<String, String> {
    let Some(mapping) = value.as_mapping() else {
        return BTreeMap::new();
    };
    mapping
        .iter()
        .map(|(key, value)| {
            let key = key.as_str().expect("a string key").to_owned();
            let value = match value {
                Value::String(text) => text.clone(),
                other => panic!("{key}: {other:?} is not a string"),
            };
            (key, value)
        })
        .collect()
}

/// The container `name` of a Deployment's or Job's pod template.
pub(super) fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    pod_spec(workload)["containers"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|container| text(container, &["name"]) == Some(name))
        .unwrap_or_else(|| panic!("no container {name:?} in {workload:?}"))
}

pub(super) fn pod_spec(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]
}

/// The container port a probe's or Service's `port` names (by name or number).
pub(super) fn container_port(container: &Value, port: &Value) -> Option<u64> {
    let ports = container["ports"].as_sequence()?;
    ports.iter().find_map(|entry| {
        let number = entry["containerPort"].as_u64()?;
        let matches = match port {
            Value::String(name) => text(entry, &["name"]) == Some(name),
            Value::Number(wanted) => wanted.as_u64() == Some(number),
            _ => false,
        };
        matches.then_some(number)
    })
}

/// How one environment variable gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnvSource {
    Value(String),
    SecretKey { secret: String, key: String },
}

/// A container's `env` as written, in order.
pub(super) fn env_sources(container: &Value) -> Vec<(String, EnvSource)> {
    let entries = container["env"].as_sequence().cloned().unwrap_or_default();
    entries
        .iter()
        .map(|entry| {
            let name = text(entry, &["name"]).expect("an env entry has a name");
            let reference = &entry["valueFrom"]["secretKeyRef"];
            let source = if reference.is_mapping() {
                EnvSource::SecretKey {
                    secret: text(reference, &["name"])
                        .expect("secretKeyRef.name")
                        .into(),
                    key: text(reference, &["key"]).expect("secretKeyRef.key").into(),
                }
            } else {
                match &entry["value"] {
                    Value::String(text) => EnvSource::Value(text.clone()),
                    other => panic!("env {name}: value {other:?} is not a string"),
                }
            };
            (name.to_owned(), source)
        })
        .collect()
}

/// The environment the kubelet gives the container: secret keys looked up in
/// `secrets` (a missing one fails the pod's start, so it is an error here), and
/// `$(VAR)` in a plain value replaced by a variable defined earlier in the list
/// (`$$` is a literal `$`; a reference to a later or unknown variable stays as written).
pub(super) fn resolve_env(
    container: &Value,
    secrets: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<(String, String)>, String> {
    let mut resolved: Vec<(String, String)> = Vec::new();
    for (name, source) in env_sources(container) {
        let value = match source {
            EnvSource::SecretKey { secret, key } => secrets
                .get(&secret)
                .ok_or_else(|| format!("{name}: no Secret {secret:?}"))?
                .get(&key)
                .ok_or_else(|| format!("{name}: Secret {secret:?} has no key {key:?}"))?
                .clone(),
            EnvSource::Value(text) => expand(&text, &resolved),
        };
        resolved.retain(|(defined, _)| *defined != name);
        resolved.push((name, value));
    }
    Ok(resolved)
}

/// Kubernetes' dependent environment variables (`$(VAR)`), over those defined so far.
pub(super) fn expand(text: &str, defined: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((reference, tail)) = after
            .strip_prefix('(')
            .and_then(|inner| inner.split_once(')'))
        {
            match defined.iter().find(|(name, _)| name == reference) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(reference);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependent_variables_expand_only_from_variables_defined_before_them() {
        let defined = vec![("PASSWORD".to_owned(), "s3cret".to_owned())];
        assert_eq!(
            expand("redis://:$(PASSWORD)@h:1", &defined),
            "redis://:s3cret@h:1"
        );
        assert_eq!(
            expand("$(LATER)-$$(PASSWORD)", &defined),
            "$(LATER)-$(PASSWORD)"
        );
        assert_eq!(expand("cost $5", &defined), "cost $5");
    }
}
