//! Argument paths: `args`, then `.key` or `.index` steps, resolved against a
//! call's arguments without allocating.

use serde_json::Value;

/// One step of an [`ArgPath`]: an object key, which is also an array index when numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    key: Box<str>,
    index: Option<usize>,
}

/// A compiled argument path such as `args.spec.containers.0.image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArgPath {
    text: Box<str>,
    steps: Box<[Step]>,
}

impl ArgPath {
    /// Reads a path; the error says what a path looks like.
    pub(crate) fn parse(text: &str) -> Result<ArgPath, String> {
        let invalid = || {
            format!(
                "invalid argument path `{text}`: expected `args` followed by `.name` or \
                 `.index` steps, e.g. `args.image` or `args.spec.containers.0.image`"
            )
        };
        let mut parts = text.split('.');
        if parts.next() != Some("args") {
            return Err(invalid());
        }
        let steps = parts
            .map(|part| {
                if part.is_empty() {
                    return Err(invalid());
                }
                let numeric = part.bytes().all(|b| b.is_ascii_digit());
                Ok(Step {
                    key: part.into(),
                    index: numeric.then(|| part.parse().ok()).flatten(),
                })
            })
            .collect::<Result<Box<[Step]>, String>>()?;
        Ok(ArgPath {
            text: text.into(),
            steps,
        })
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `arguments`, if there is one.
    pub(crate) fn resolve<'v>(&self, arguments: &'v Value) -> Option<&'v Value> {
        match self.lookup(arguments) {
            Lookup::Found(value) => Some(value),
            Lookup::Missing | Lookup::Blocked { .. } => None,
        }
    }

    /// Follows the path, telling an absent argument from one whose path runs into
    /// a value it cannot step through. Arguments of `null` (a call without any) are
    /// read as `{}`.
    pub(crate) fn lookup<'v>(&self, arguments: &'v Value) -> Lookup<'v> {
        let mut value = arguments;
        for (depth, step) in self.steps.iter().enumerate() {
            let next = match value {
                Value::Null if depth == 0 => return Lookup::Missing,
                Value::Object(map) => map.get(&*step.key),
                Value::Array(items) if step.index.is_some() => {
                    step.index.and_then(|index| items.get(index))
                }
                found => return Lookup::Blocked { depth, found },
            };
            match next {
                Some(inner) => value = inner,
                None => return Lookup::Missing,
            }
        }
        Lookup::Found(value)
    }

    /// The path up to (not including) step `depth`: `args.spec` for depth 1 of
    /// `args.spec.containers`.
    pub(crate) fn prefix(&self, depth: usize) -> String {
        let mut text = String::from("args");
        for step in self.steps.iter().take(depth) {
            text.push('.');
            text.push_str(&step.key);
        }
        text
    }

    /// What the value before step `depth` must be to take that step.
    pub(crate) fn container_at(&self, depth: usize) -> &'static str {
        match self.steps.get(depth).and_then(|step| step.index) {
            Some(_) => "an object or an array",
            None => "an object",
        }
    }
}

/// Where following an [`ArgPath`] ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lookup<'v> {
    /// The path leads to this value.
    Found(&'v Value),
    /// An object on the way has no such key, or an array no such index.
    Missing,
    /// Step `depth` cannot be taken from `found`: a scalar or null, or an array
    /// and a step that is not an index.
    Blocked { depth: usize, found: &'v Value },
}

#[cfg(test)]
mod tests {
    use super::ArgPath;
    use serde_json::json;

    #[test]
    fn resolves_nested_objects_and_arrays() {
        let args = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let path = ArgPath::parse("args.spec.containers.1.image").unwrap();
        assert_eq!(path.resolve(&args), Some(&json!("b")));
        let root = ArgPath::parse("args").unwrap();
        assert_eq!(root.resolve(&args), Some(&args));
    }

    #[test]
    fn numeric_steps_are_keys_on_objects() {
        let args = json!({"0": "zero"});
        let path = ArgPath::parse("args.0").unwrap();
        assert_eq!(path.resolve(&args), Some(&json!("zero")));
    }

    #[test]
    fn missing_steps_resolve_to_nothing() {
        let args = json!({"a": [1]});
        for text in ["args.b", "args.a.1", "args.a.x", "args.a.0.deep"] {
            assert_eq!(ArgPath::parse(text).unwrap().resolve(&args), None, "{text}");
        }
    }

    #[test]
    fn a_path_through_a_scalar_or_an_array_by_name_is_blocked_not_missing() {
        use super::Lookup;
        let args = json!({"spec": "x", "list": [{"a": 1}], "none": null});
        let lookup = |text: &str| ArgPath::parse(text).unwrap().lookup(&args);
        let spec = &args["spec"];
        assert_eq!(
            lookup("args.spec.a"),
            Lookup::Blocked {
                depth: 1,
                found: spec
            }
        );
        let list = &args["list"];
        assert_eq!(
            lookup("args.list.a"),
            Lookup::Blocked {
                depth: 1,
                found: list
            }
        );
        assert_eq!(
            lookup("args.none.a"),
            Lookup::Blocked {
                depth: 1,
                found: &args["none"]
            }
        );
        assert_eq!(lookup("args.list.1"), Lookup::Missing);
        assert_eq!(lookup("args.nothing.a"), Lookup::Missing);
        assert_eq!(
            ArgPath::parse("args.a").unwrap().lookup(&json!(null)),
            Lookup::Missing
        );
        assert_eq!(
            ArgPath::parse("args.spec.a").unwrap().prefix(1),
            "args.spec"
        );
    }

    #[test]
    fn rejects_paths_outside_args_and_empty_steps() {
        for text in ["", "arguments.x", "args.", "args..x", "x.args", ".args"] {
            assert!(ArgPath::parse(text).is_err(), "{text}");
        }
    }
}
