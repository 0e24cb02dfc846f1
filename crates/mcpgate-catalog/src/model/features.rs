//! What the model reads of a tool: sparse binary features, each a short string.
//!
//! `name:` every token of the name (snake, camel, kebab split), `name0:` its first and
//! `nameN:` its last; `desc:` every word of the description, `desc0:` its first word and
//! `bi:` each pair of neighbouring words of its first sentence; `arg:` every token of every
//! top-level argument name, `arg2:` of nested object properties one level down, `type:`
//! each argument's JSON type, `shape:` the schema's shape (no arguments, how many, how many
//! required, an enum, an object or array argument); `hint:` each declared annotation.
//! Words lose a plural `s`. A feature appears once per tool, however often it occurs.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::text::{first_sentence, identifier_tokens, Words};
use crate::tool::ToolDefinition;

/// Words too common to tell anything.
const STOPWORDS: [&str; 16] = [
    "a", "an", "the", "of", "to", "and", "or", "in", "on", "for", "with", "by", "is", "be", "it",
    "as",
];

/// The tool's features, sorted, each once.
pub fn features(tool: &ToolDefinition) -> Vec<String> {
    let mut out = BTreeSet::new();
    name(tool.name(), &mut out);
    description(tool.description(), &mut out);
    arguments(tool, &mut out);
    hints(tool, &mut out);
    out.into_iter().collect()
}

fn stem(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem,
        _ => word,
    }
}

fn name(name: &str, out: &mut BTreeSet<String>) {
    let tokens = identifier_tokens(name);
    if let Some(first) = tokens.first() {
        out.insert(format!("name0:{}", stem(first)));
    }
    if let Some(last) = tokens.last() {
        out.insert(format!("nameN:{}", stem(last)));
    }
    for token in &tokens {
        out.insert(format!("name:{}", stem(token)));
    }
}

fn description(description: &str, out: &mut BTreeSet<String>) {
    let words = Words::new(description);
    let kept: Vec<&str> = words
        .as_slice()
        .iter()
        .map(|w| stem(w))
        .filter(|w| !STOPWORDS.contains(w))
        .collect();
    if let Some(first) = kept.first() {
        out.insert(format!("desc0:{first}"));
    }
    for word in &kept {
        out.insert(format!("desc:{word}"));
    }
    let sentence = Words::new(first_sentence(description));
    let first: Vec<&str> = sentence
        .as_slice()
        .iter()
        .map(|w| stem(w))
        .filter(|w| !STOPWORDS.contains(w))
        .collect();
    for pair in first.windows(2) {
        out.insert(format!("bi:{} {}", pair[0], pair[1]));
    }
    if description.trim().is_empty() {
        out.insert("shape:no-description".to_owned());
    }
}

fn json_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(kind)) => kind,
        Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str).unwrap_or("mixed"),
        _ if schema.get("anyOf").is_some() || schema.get("oneOf").is_some() => "union",
        _ => "untyped",
    }
}

fn bucket(count: usize) -> &'static str {
    match count {
        0 => "0",
        1 => "1",
        2 | 3 => "2-3",
        4..=7 => "4-7",
        _ => "8+",
    }
}

fn arguments(tool: &ToolDefinition, out: &mut BTreeSet<String>) {
    let arguments = tool.arguments();
    let required = tool
        .input_schema()
        .and_then(|schema| schema.get("required"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    out.insert(format!("shape:args:{}", bucket(arguments.len())));
    out.insert(format!("shape:required:{}", bucket(required)));
    for (name, schema) in arguments {
        for token in identifier_tokens(name) {
            out.insert(format!("arg:{}", stem(&token)));
        }
        let kind = json_type(schema);
        out.insert(format!("type:{kind}"));
        if schema.get("enum").is_some() {
            out.insert("shape:enum".to_owned());
        }
        if matches!(kind, "object" | "array") {
            out.insert(format!("shape:{kind}"));
        }
        let nested = schema
            .get("properties")
            .or_else(|| {
                schema
                    .get("items")
                    .and_then(|items| items.get("properties"))
            })
            .and_then(Value::as_object);
        for inner in nested.into_iter().flat_map(|properties| properties.keys()) {
            for token in identifier_tokens(inner) {
                out.insert(format!("arg2:{}", stem(&token)));
            }
        }
    }
}

fn hints(tool: &ToolDefinition, out: &mut BTreeSet<String>) {
    let hints = tool.annotations();
    for (key, value) in [
        ("readOnly", hints.read_only),
        ("destructive", hints.destructive),
        ("idempotent", hints.idempotent),
        ("openWorld", hints.open_world),
    ] {
        if let Some(value) = value {
            out.insert(format!("hint:{key}={value}"));
        }
    }
}
