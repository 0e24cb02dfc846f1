//! A serde visitor that walks any JSON value and refuses duplicate object keys.
//!
//! serde_json keeps the *last* of two equal keys while other parsers keep the
//! first: a body with duplicates could be checked as one thing and executed as
//! another, so the proxy refuses it. Keys are compared after unescaping
//! (`"a"` and `"\u0061"` are the same key).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

/// Past this many keys in one object, a hash set replaces the linear scan.
const LINEAR_SCAN_LIMIT: usize = 24;

/// Scratch space shared by every object of one parse: keys of the objects
/// currently open are stacked here, so the common case allocates once.
#[derive(Debug, Default)]
pub(crate) struct Scratch<'de> {
    keys: Vec<Cow<'de, str>>,
    /// The first duplicate found, if any.
    pub(crate) duplicate: Option<String>,
}

impl<'de> Scratch<'de> {
    /// Starts a new object; returns the mark to give to [`Scratch::insert`] and [`Scratch::close`].
    pub(crate) fn open(&self) -> ObjectKeys {
        ObjectKeys {
            start: self.keys.len(),
            set: None,
        }
    }

    /// Records `key` in the object; `Err` (and `self.duplicate` set) if it was there already.
    pub(crate) fn insert(&mut self, object: &mut ObjectKeys, key: Cow<'de, str>) -> Result<(), ()> {
        let seen = match &mut object.set {
            Some(set) => !set.insert(key.clone().into_owned()),
            None => self.keys[object.start..].contains(&key),
        };
        if seen {
            self.duplicate = Some(key.into_owned());
            return Err(());
        }
        if object.set.is_none() {
            self.keys.push(key);
            if self.keys.len() - object.start > LINEAR_SCAN_LIMIT {
                let set = self
                    .keys
                    .drain(object.start..)
                    .map(Cow::into_owned)
                    .collect();
                object.set = Some(set);
            }
        }
        Ok(())
    }

    /// Ends the object, freeing its keys for the next one.
    pub(crate) fn close(&mut self, object: ObjectKeys) {
        self.keys.truncate(object.start);
    }
}

/// The keys of one open object (see [`Scratch::open`]).
#[derive(Debug)]
pub(crate) struct ObjectKeys {
    start: usize,
    set: Option<HashSet<String>>,
}

/// Deserialises an object key (or any string) borrowed from the input when it has no escapes.
#[derive(Debug)]
pub(crate) struct BorrowedStr;

impl<'de> DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Walks one JSON value, failing on the first duplicate key (recorded in the scratch).
#[derive(Debug)]
pub(crate) struct Strict<'s, 'de>(pub(crate) &'s mut Scratch<'de>);

impl<'de> DeserializeSeed<'de> for Strict<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
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

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = self.0.open();
        while let Some(key) = map.next_key_seed(BorrowedStr)? {
            if self.0.insert(&mut object, key).is_err() {
                return Err(A::Error::custom("duplicate key"));
            }
            map.next_value_seed(Strict(&mut *self.0))?;
        }
        self.0.close(object);
        Ok(())
    }
}

/// Checks a whole JSON text (already known to be UTF-8) for duplicate keys.
///
/// Returns the serde_json error (syntax) or `Err` with `scratch.duplicate` set.
pub(crate) fn check<'de>(
    text: &'de str,
    scratch: &mut Scratch<'de>,
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Strict(scratch).deserialize(&mut deserializer)?;
    deserializer.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_in(text: &str) -> Option<String> {
        let mut scratch = Scratch::default();
        let _ = check(text, &mut scratch);
        scratch.duplicate
    }

    #[test]
    fn finds_duplicates_at_any_depth() {
        assert_eq!(duplicate_in(r#"{"a":1,"a":2}"#).as_deref(), Some("a"));
        assert_eq!(
            duplicate_in(r#"[{"x":{"b":[{"c":1,"c":1}]}}]"#).as_deref(),
            Some("c")
        );
        assert_eq!(
            duplicate_in(r#"{"a":"\u0061","\u0061":2}"#).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn same_key_in_sibling_and_nested_objects_is_fine() {
        assert_eq!(
            duplicate_in(r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#),
            None
        );
    }

    #[test]
    fn large_objects_switch_to_a_set_and_still_catch_duplicates() {
        let keys: Vec<String> = (0..200).map(|i| format!("\"k{i}\":{i}")).collect();
        let unique = format!("{{{}}}", keys.join(","));
        assert_eq!(duplicate_in(&unique), None);
        let dup = format!("{{{},\"k7\":0}}", keys.join(","));
        assert_eq!(duplicate_in(&dup).as_deref(), Some("k7"));
        let nested = format!(r#"{{"outer":{unique},"outer2":{{"k1":1,"k1":2}}}}"#);
        assert_eq!(duplicate_in(&nested).as_deref(), Some("k1"));
    }
}
