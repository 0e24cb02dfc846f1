//! Reading declared tests: a call (a `tools/call` or a request for another
//! method) and the outcome the policy must decide for it.

use serde_json::Value;

use super::items::{read_category, read_risk};
use super::reader::Reader;
use crate::classification::Classification;
use crate::decision::Outcome;
use crate::document::{MethodTestCall, TestCall, TestCase, ToolTestCall};

pub(super) fn read_test(reader: &mut Reader, value: &Value, path: &str) -> Option<TestCase> {
    let map = reader.object(value, path, "a test case", &["name", "call", "expect"])?;
    let name = reader.optional(map, path, "name", Reader::string);
    let call = reader.required(map, path, "call");
    let call = call.and_then(|v| read_test_call(reader, v, &format!("{path}/call")));
    let outcomes = [
        ("allow", Outcome::Allow),
        ("deny", Outcome::Deny),
        ("require_approval", Outcome::RequireApproval),
    ];
    let expect = reader.required(map, path, "expect");
    let expect =
        expect.and_then(|v| reader.one_of(v, &format!("{path}/expect"), "outcome", &outcomes));
    Some(TestCase {
        name,
        call: call?,
        expect: expect?,
    })
}

/// `{"tool": ...}` for a `tools/call`, `{"method": ...}` for another method.
fn read_test_call(reader: &mut Reader, value: &Value, path: &str) -> Option<TestCall> {
    let is_method = value.get("method").is_some();
    if is_method && value.get("tool").is_some() {
        let message = "give `tool` (a tools/call) or `method` (another method), not both";
        reader.errors.push(&format!("{path}/method"), message);
        return None;
    }
    if is_method {
        read_method_call(reader, value, path).map(TestCall::Method)
    } else {
        read_tool_call(reader, value, path).map(TestCall::Tool)
    }
}

fn read_tool_call(reader: &mut Reader, value: &Value, path: &str) -> Option<ToolTestCall> {
    let fields = ["tool", "arguments", "classification"];
    let map = reader.object(value, path, "a call", &fields)?;
    let tool = reader.required(map, path, "tool");
    let tool = tool.and_then(|v| reader.string(v, &format!("{path}/tool")));
    let arguments = reader.optional(map, path, "arguments", |r, v, p| {
        object(r, v, p, "arguments")
    });
    let classification = reader.optional(map, path, "classification", |r, v, p| {
        let map = r.object(v, p, "a classification", &["category", "risk"])?;
        let category = r.required(map, p, "category");
        let category = category.and_then(|v| read_category(r, v, &format!("{p}/category")));
        let risk = r.required(map, p, "risk");
        let risk = risk.and_then(|v| read_risk(r, v, &format!("{p}/risk")));
        Some(Classification {
            category: category?,
            risk: risk?,
        })
    });
    Some(ToolTestCall {
        tool: tool?,
        arguments,
        classification,
    })
}

fn read_method_call(reader: &mut Reader, value: &Value, path: &str) -> Option<MethodTestCall> {
    let fields = ["method", "params", "known"];
    let map = reader.object(value, path, "a method call", &fields)?;
    let method = reader.required(map, path, "method");
    let method = method.and_then(|v| reader.string(v, &format!("{path}/method")));
    let params = reader.optional(map, path, "params", |r, v, p| object(r, v, p, "params"));
    let known = reader.optional(map, path, "known", Reader::boolean);
    let known_ok = known.is_some() || !map.contains_key("known");
    known_ok.then_some(())?;
    Some(MethodTestCall {
        method: method?,
        params,
        known: known.unwrap_or(true),
    })
}

fn object(reader: &mut Reader, value: &Value, path: &str, what: &str) -> Option<Value> {
    if value.is_object() {
        Some(value.clone())
    } else {
        let message = format!("expected the call's {what} as an object");
        reader.errors.push(path, message);
        None
    }
}
