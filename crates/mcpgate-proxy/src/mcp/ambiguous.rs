//! Answering a body with a duplicate key.
//!
//! Parsers disagree on which duplicate wins, so the body cannot be checked and is never
//! forwarded. When the top-level object has exactly one `id` (a string or number) and one
//! `method`, the answer is HTTP 200 with a JSON-RPC `-32600` error for that id, which
//! every client takes as a failed request without dropping its session; otherwise (the
//! id itself is duplicated, or a batch) it is HTTP 400 with id `null`.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The request id, if it is unambiguous.
pub(crate) fn recover_id(body: &[u8]) -> Option<Box<RawValue>> {
    let entries: TopLevel = serde_json::from_slice(body).ok()?;
    let mut ids = entries.0.iter().filter(|(key, _)| key == "id");
    let methods = entries.0.iter().filter(|(key, _)| key == "method").count();
    let (_, id) = ids.next()?;
    if ids.next().is_some() || methods != 1 {
        return None;
    }
    matches!(id.get().as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9')).then(|| id.clone())
}

/// The top-level members in order, duplicates kept.
struct TopLevel(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "id" || key == "method" {
                        members.push((key, map.next_value::<Box<RawValue>>()?));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(TopLevel(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_recovered_only_when_it_is_unique() {
        let body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"a","arguments":{"x":1,"x":2}}}"#;
        assert_eq!(recover_id(body).unwrap().get(), "7");
        let body = br#"{"jsonrpc":"2.0","id":7,"id":8,"method":"tools/call","params":{}}"#;
        assert!(recover_id(body).is_none());
        let body = br#"{"jsonrpc":"2.0","id":7,"method":"a","method":"b"}"#;
        assert!(recover_id(body).is_none());
        assert!(recover_id(br#"[{"id":1}]"#).is_none());
    }
}
