//! Duplicate keys make a document ambiguous: JSON parsers disagree on which
//! value wins (serde_json keeps the last), so a reviewer and the engine could
//! read different policies. We refuse them, naming each one's path.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::pointer;

/// The JSON Pointer of every key that repeats within its object.
/// Returns nothing for text that is not JSON: the parser reports that.
pub(crate) fn duplicate_keys(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let _ = Walk {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut deserializer);
    found
}

struct Walk<'a> {
    path: String,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = pointer(&self.path, &key);
            if !seen.insert(key) {
                self.found.push(path.clone());
            }
            map.next_value_seed(Walk {
                path,
                found: self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(Walk {
                path: format!("{}/{index}", self.path),
                found: self.found,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::duplicate_keys;

    #[test]
    fn finds_repeated_keys_at_any_depth_with_their_pointer() {
        let text = r#"{"default": "deny", "default": "allow",
            "tools": {"a/b": {"action": "deny", "action": "allow"}},
            "hide": [{"x": 1, "x": 2}]}"#;
        assert_eq!(
            duplicate_keys(text),
            vec!["/default", "/tools/a~1b/action", "/hide/0/x"]
        );
    }

    #[test]
    fn a_document_without_repeats_has_none() {
        assert!(duplicate_keys(r#"{"version": "1", "tools": {"a": {}, "b": {}}}"#).is_empty());
        assert!(duplicate_keys("not json").is_empty());
    }
}
