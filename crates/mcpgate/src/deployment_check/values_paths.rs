//! Every `.Values` path the chart's templates read. Helm renders a misspelt
//! `.Values.otlp.endpiont` as empty without a word, so each path must name a key of
//! values.yaml. Paths are followed through the three ways the templates reach values:
//! `.Values.a.b`, a variable (`$r := .Values.redis` then `$r.host`) and `with`
//! (`with .Values.otlp` then `.endpoint`). Inside `range` the dot is an element, whose
//! fields are not checked.

use std::collections::BTreeMap;

use serde_yaml::Value;

/// What the dot is at a point of a template.
#[derive(Debug, Clone, PartialEq)]
enum Dot {
    Root,
    Values(String),
    Unknown,
}

/// The `.Values` paths (dotted, without `Values.`) a template reads, in order.
pub(super) fn values_paths(template: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut dots = vec![Dot::Root];
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let action = after[..end].trim_matches('-').trim();
        rest = &after[end + 2..];
        if action.starts_with("/*") {
            continue;
        }
        let tokens = tokens(action);
        let dot = dots.last().cloned().unwrap_or(Dot::Unknown);
        let mut reads = Vec::new();
        for token in &tokens {
            if let Some(path) = resolve(token, &dot, &variables) {
                reads.push(path);
            }
        }
        if let [name, assign, value] = tokens.as_slice() {
            if name.starts_with('$') && (assign == ":=" || assign == "=") {
                if let Some(path) = resolve(value, &dot, &variables) {
                    variables.insert(name.clone(), path);
                }
            }
        }
        match tokens.first().map(String::as_str) {
            Some("with") => dots.push(match tokens.get(1) {
                Some(argument) => resolve(argument, &dot, &variables)
                    .map(Dot::Values)
                    .unwrap_or(Dot::Unknown),
                None => Dot::Unknown,
            }),
            Some("range") => dots.push(Dot::Unknown),
            // A define is included with the root context throughout this chart.
            Some("define") => dots.push(Dot::Root),
            Some("if") | Some("block") => dots.push(dot),
            Some("end") => {
                dots.pop();
            }
            _ => {}
        }
        paths.extend(reads);
    }
    paths
}

/// The path `token` reads, if it reads one under `.Values`.
fn resolve(token: &str, dot: &Dot, variables: &BTreeMap<String, String>) -> Option<String> {
    if let Some(path) = token.strip_prefix("$.Values.") {
        return Some(path.to_owned());
    }
    if let Some(variable) = token.strip_prefix('$') {
        let (name, path) = variable.split_once('.').unwrap_or((variable, ""));
        let base = variables.get(&format!("${name}"))?;
        return Some(join(base, path));
    }
    let field = token.strip_prefix('.')?;
    match dot {
        Dot::Root => field.strip_prefix("Values.").map(str::to_owned),
        Dot::Values(base) => Some(join(base, field)),
        Dot::Unknown => None,
    }
}

fn join(base: &str, path: &str) -> String {
    if path.is_empty() {
        base.to_owned()
    } else {
        format!("{base}.{path}")
    }
}

/// An action's words: split at spaces, parentheses, pipes and commas, strings skipped.
fn tokens(action: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = action.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' => {
                let close = c;
                let mut escaped = false;
                for inner in chars.by_ref() {
                    if inner == close && !escaped {
                        break;
                    }
                    escaped = close == '"' && inner == '\\' && !escaped;
                }
            }
            ' ' | '\t' | '\n' | '(' | ')' | '|' | ',' => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Whether `path` names a key of `values` (every step a mapping's key).
pub(super) fn exists(values: &Value, path: &str) -> bool {
    let mut at = values;
    for key in path.split('.') {
        match at.as_mapping().and_then(|mapping| mapping.get(key)) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_followed_through_variables_and_with_and_not_into_range_or_strings() {
        let template = r#"
{{- $r := .Values.redis -}}
{{ $r.host }} {{ .Values.image.tag | quote }} {{ required "need .Values.nope" .Values.a.b }}
{{- with .Values.otlp }}{{ if .endpoint }}{{ .serviceName | default "x" }}{{ end }}{{ end }}
{{- range .Values.extra }}{{ .anything }}{{ end }}
{{ .Release.Name }} {{ $.Values.top }}
"#;
        assert_eq!(
            values_paths(template),
            [
                "redis",
                "redis.host",
                "image.tag",
                "a.b",
                "otlp",
                "otlp.endpoint",
                "otlp.serviceName",
                "extra",
                "top"
            ]
        );
    }

    #[test]
    fn a_misspelt_path_is_not_in_the_values() {
        let values: Value =
            serde_yaml::from_str("otlp: { endpoint: '' }\nredis: { nodes: [] }").expect("values");
        assert!(exists(&values, "otlp.endpoint"));
        assert!(exists(&values, "redis.nodes"));
        assert!(!exists(&values, "otlp.endpiont"));
        assert!(!exists(&values, "redis.nodes.first"));
    }
}
