//! The reference page: the OpenAPI document rendered on the server as one HTML
//! page with inline CSS and no script, so it works offline and under a strict CSP.
//! Operations are grouped by tag; schemas are tables whose `$ref`s are links.

use std::fmt::Write;

use serde_json::{Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:0 auto;\
padding:1rem 2rem;color:#1b1f24}code,pre{font-family:ui-monospace,monospace;font-size:13px}\
pre{background:#f4f6f8;padding:.6rem;overflow:auto;max-height:24rem}\
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}\
th,td{border:1px solid #d5dae0;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f4f6f8}.op{border-top:2px solid #d5dae0;margin-top:1.5rem;padding-top:.5rem}\
.m{display:inline-block;min-width:4.2rem;text-align:center;color:#fff;border-radius:3px;\
font-weight:600;text-transform:uppercase;font-size:13px;padding:0 .3rem}\
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#9a6700}\
.patch{background:#8250df}.delete{background:#cf222e}.muted{color:#57606a}";

/// The page for `document`, an OpenAPI document as JSON.
pub(super) fn render(document: &Value) -> String {
    let title = text(&document["info"]["title"]);
    let version = text(&document["info"]["version"]);
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} API {version}</title><style>{STYLE}</style></head><body>\
         <h1>{title} API <span class=\"muted\">{version}</span></h1>{}\
         <p>The machine-readable document: <a href=\"openapi.json\"><code>openapi.json</code></a> \
         (OpenAPI {}).</p>",
        paragraphs(&document["info"]["description"]),
        text(&document["openapi"]),
    );
    let operations = operations_by_tag(document);
    render_contents(&mut page, document, &operations);
    render_security(&mut page, document);
    for tag in tags(document) {
        let name = text(&tag["name"]);
        let _ = write!(
            page,
            "<h2 id=\"tag-{name}\">{name}</h2>{}",
            paragraphs(&tag["description"])
        );
        for operation in operations.iter().filter(|op| op.tag == name) {
            render_operation(&mut page, document, operation);
        }
    }
    render_schemas(&mut page, document);
    page.push_str("</body></html>\n");
    page
}

struct Operation<'a> {
    tag: String,
    method: &'static str,
    path: &'a str,
    spec: &'a Value,
}

fn operations_by_tag(document: &Value) -> Vec<Operation<'_>> {
    let Some(paths) = document["paths"].as_object() else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(spec) = item.get(method) {
                operations.push(Operation {
                    tag: text(&spec["tags"][0]),
                    method,
                    path,
                    spec,
                });
            }
        }
    }
    operations
}

fn tags(document: &Value) -> &[Value] {
    document["tags"].as_array().map_or(&[], Vec::as_slice)
}

fn anchor(operation: &Operation<'_>) -> String {
    format!("op-{}", text(&operation.spec["operationId"]))
}

fn render_contents(page: &mut String, document: &Value, operations: &[Operation<'_>]) {
    page.push_str("<h2>Contents</h2><ul>");
    for tag in tags(document) {
        let name = text(&tag["name"]);
        let _ = write!(page, "<li><a href=\"#tag-{name}\">{name}</a><ul>");
        for operation in operations.iter().filter(|op| op.tag == name) {
            let _ = write!(
                page,
                "<li><a href=\"#{}\"><span class=\"m {m}\">{m}</span> <code>{}</code></a> {}</li>",
                anchor(operation),
                escape(operation.path),
                text(&operation.spec["summary"]),
                m = operation.method,
            );
        }
        page.push_str("</ul></li>");
    }
    page.push_str("<li><a href=\"#schemas\">Schemas</a></li></ul>");
}

fn render_security(page: &mut String, document: &Value) {
    page.push_str("<h2>Authentication</h2>");
    if let Some(schemes) = document["components"]["securitySchemes"].as_object() {
        for (name, scheme) in schemes {
            let _ = write!(
                page,
                "<p><code>{}</code> ({} {}): {}</p>",
                escape(name),
                text(&scheme["type"]),
                text(&scheme["scheme"]),
                inline(&scheme["description"]),
            );
        }
    }
}

fn render_operation(page: &mut String, document: &Value, operation: &Operation<'_>) {
    let spec = operation.spec;
    let _ = write!(
        page,
        "<div class=\"op\" id=\"{}\"><h3><span class=\"m {m}\">{m}</span> <code>{}</code></h3>\
         <p><strong>{}</strong></p>{}",
        anchor(operation),
        escape(operation.path),
        text(&spec["summary"]),
        paragraphs(&spec["description"]),
        m = operation.method,
    );
    let schemes: Vec<String> = spec["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|requirement| {
            requirement
                .keys()
                .map(|k| format!("<code>{}</code>", escape(k)))
        })
        .collect();
    let _ = write!(
        page,
        "<p>Authentication: {}</p>",
        if schemes.is_empty() {
            "none".to_owned()
        } else {
            schemes.join(", ")
        }
    );
    if let Some(parameters) = spec["parameters"].as_array() {
        page.push_str("<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th><th>Type</th><th>Description</th></tr>");
        for parameter in parameters {
            let _ = write!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&parameter["name"]),
                text(&parameter["in"]),
                yes_no(&parameter["required"]),
                type_of(&parameter["schema"]),
                inline(&parameter["description"]),
            );
        }
        page.push_str("</table>");
    }
    if let Some(body) = spec.get("requestBody") {
        let _ = write!(
            page,
            "<h4>Request body{}</h4>{}",
            if body["required"] == Value::Bool(true) {
                ""
            } else {
                " (optional)"
            },
            paragraphs(&body["description"]),
        );
        render_content(page, &body["content"]);
    }
    page.push_str(
        "<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Body</th></tr>",
    );
    if let Some(responses) = spec["responses"].as_object() {
        for (status, response) in responses {
            let response = resolve(document, response);
            let mut body = String::new();
            render_content(&mut body, &response["content"]);
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{body}</td></tr>",
                escape(status),
                inline(&response["description"]),
            );
        }
    }
    page.push_str("</table></div>");
}

fn render_content(page: &mut String, content: &Value) {
    for (media_type, media) in content.as_object().into_iter().flatten() {
        let _ = write!(
            page,
            "<p><code>{}</code>: {}</p>",
            escape(media_type),
            type_of(&media["schema"])
        );
    }
}

/// A response given as a `$ref` to `#/components/responses/...`, looked up.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => document.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

fn render_schemas(page: &mut String, document: &Value) {
    page.push_str("<h2 id=\"schemas\">Schemas</h2>");
    let Some(schemas) = document["components"]["schemas"].as_object() else {
        return;
    };
    for (name, schema) in schemas {
        let _ = write!(
            page,
            "<h3 id=\"schema-{0}\"><code>{0}</code></h3>{1}",
            escape(name),
            paragraphs(&schema["description"])
        );
        if schema.get("$defs").is_some() {
            let _ = write!(
                page,
                "<details><summary>The full JSON Schema</summary><pre>{}</pre></details>",
                escape(&serde_json::to_string_pretty(schema).unwrap_or_default())
            );
        } else if let Some(properties) = schema["properties"].as_object() {
            render_properties(page, schema, properties);
        } else if let Some(parts) = schema["allOf"].as_array() {
            // A flattened struct: the fields of each `$ref`, then its own.
            for part in parts {
                match part["properties"].as_object() {
                    Some(properties) => render_properties(page, part, properties),
                    None => {
                        let _ = write!(page, "<p>Every field of {}, and:</p>", type_of(part));
                    }
                }
            }
        } else {
            let _ = write!(page, "<p>Type: {}</p>", type_of(schema));
        }
    }
}

fn render_properties(page: &mut String, schema: &Value, properties: &Map<String, Value>) {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    page.push_str(
        "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>",
    );
    for (field, property) in properties {
        let _ = write!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(field),
            type_of(property),
            if required.contains(&field.as_str()) {
                "yes"
            } else {
                "no"
            },
            inline(&property["description"]),
        );
    }
    page.push_str("</table>");
}

/// A short, linked description of a schema's type: `string (uuid)`, `array of Tool`, ...
fn type_of(schema: &Value) -> String {
    if let Some(target) = schema["$ref"].as_str() {
        let name = escape(target.rsplit('/').next().unwrap_or(target));
        return format!("<a href=\"#schema-{name}\"><code>{name}</code></a>");
    }
    for (key, joiner) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(parts) = schema[key].as_array() {
            return parts.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return "any".to_owned(),
    };
    let mut label = types
        .iter()
        .map(|kind| match *kind {
            "array" => format!("array of {}", type_of(&schema["items"])),
            other => escape(other),
        })
        .collect::<Vec<_>>()
        .join(" or ");
    if let Some(format) = schema["format"].as_str() {
        let _ = write!(label, " ({})", escape(format));
    }
    if let Some(values) = schema["enum"].as_array() {
        let _ = write!(
            label,
            ": {}",
            escape(&Value::Array(values.clone()).to_string())
        );
    }
    label
}

fn text(value: &Value) -> String {
    value.as_str().map(escape).unwrap_or_default()
}

fn yes_no(value: &Value) -> &'static str {
    if value == &Value::Bool(true) {
        "yes"
    } else {
        "no"
    }
}

/// Escaped text with `` `code` `` spans, the only markdown the annotations use.
fn inline(value: &Value) -> String {
    let escaped = text(value);
    let mut out = String::with_capacity(escaped.len());
    for (index, piece) in escaped.split('`').enumerate() {
        if index % 2 == 1 {
            let _ = write!(out, "<code>{piece}</code>");
        } else {
            out.push_str(piece);
        }
    }
    out
}

fn paragraphs(value: &Value) -> String {
    value
        .as_str()
        .into_iter()
        .flat_map(|text| text.split("\n\n"))
        .map(|paragraph| format!("<p>{}</p>", inline(&Value::from(paragraph))))
        .collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
