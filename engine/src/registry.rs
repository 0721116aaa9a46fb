//! The ops a pipeline file can name: a registry from a name to its parameter schema (a serde
//! type) and its builder, instead of a closed enum. The built-in families fill it the same way a
//! program embedding chunkwise adds its own ops, so a new op touches its own crate and test, not
//! the file format.
//!
//! A step is decoded in two moves: [`Registry::prepare`] checks the op's name and decodes its
//! parameters (so every such mistake is reported before any input is opened), then
//! [`PreparedStep::build`] resolves the names it refers to and applies the builder.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::expr::Array;

/// The arrays a step can refer to by name: the pipeline's inputs and the earlier steps.
#[derive(Clone, Copy, Debug)]
pub struct Steps<'a> {
    names: &'a HashMap<String, Array>,
}

impl<'a> Steps<'a> {
    /// The names defined so far.
    pub fn new(names: &'a HashMap<String, Array>) -> Self {
        Self { names }
    }

    /// The array called `name`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the unknown name and listing the names defined so far.
    pub fn array(&self, name: &str) -> Result<Array> {
        self.names.get(name).cloned().ok_or_else(|| {
            let mut known: Vec<&str> = self.names.keys().map(String::as_str).collect();
            known.sort_unstable();
            Error::Invalid(format!(
                "unknown name {name:?}; defined so far: {}",
                known.join(", ")
            ))
        })
    }
}

/// A builder with its decoded parameters.
type Build = Box<dyn FnOnce(&Steps<'_>) -> Result<Array>>;

/// A step whose parameters were decoded, ready to be built once its inputs exist.
pub struct PreparedStep(Build);

impl PreparedStep {
    /// Builds the step's array from the names defined before it.
    ///
    /// # Errors
    /// Unknown names, and whatever the op's builder rejects (shapes, types, parameter values).
    pub fn build(self, steps: &Steps<'_>) -> Result<Array> {
        (self.0)(steps)
    }
}

impl fmt::Debug for PreparedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedStep")
    }
}

/// Decodes a step's parameters into a builder.
type Decoder = dyn Fn(Value) -> Result<PreparedStep> + Send + Sync;

/// Pipeline-file op names and how to build each.
#[derive(Clone, Default)]
pub struct Registry {
    /// In registration order, which is the order unknown-op errors list them in.
    entries: Vec<(String, Arc<Decoder>)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("ops", &self.names())
            .finish()
    }
}

impl Registry {
    /// A registry with no op.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers op `name`: its parameters are the step's keys other than `id` and `op`,
    /// decoded as `P` (its serde derive is the schema: use `#[serde(deny_unknown_fields)]` so
    /// a misspelled key is an error), and `build` makes the array from them and the names
    /// defined so far. Registering a name again replaces it, so a program can replace a
    /// built-in op.
    pub fn register<P, F>(&mut self, name: &str, build: F) -> &mut Self
    where
        P: DeserializeOwned + 'static,
        F: Fn(P, &Steps<'_>) -> Result<Array> + Send + Sync + 'static,
    {
        let build = Arc::new(build);
        let decode = move |params: Value| -> Result<PreparedStep> {
            let p: P = serde_json::from_value(params).map_err(|e| Error::Invalid(e.to_string()))?;
            let build = Arc::clone(&build);
            Ok(PreparedStep(Box::new(move |steps: &Steps<'_>| {
                build(p, steps)
            })))
        };
        self.entries.retain(|(n, _)| n != name);
        self.entries.push((name.to_string(), Arc::new(decode)));
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Decodes a step of op `op` with parameters `params` (an object of the step's other keys).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown op (listing every registered one) or parameters its
    /// schema rejects (serde's message: unknown field, invalid type, missing field).
    pub fn prepare(&self, op: &str, params: Map<String, Value>) -> Result<PreparedStep> {
        let Some((_, decode)) = self.entries.iter().find(|(n, _)| n == op) else {
            let known: Vec<String> = self.names().iter().map(|n| format!("`{n}`")).collect();
            // serde's wording, as when the ops were one enum: scripts and tests look for it.
            return Err(Error::Invalid(format!(
                "unknown variant `{op}`, expected one of {}",
                known.join(", ")
            )));
        };
        decode(Value::Object(params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Same {
        x: String,
    }

    #[test]
    fn unknown_ops_are_listed_and_later_registrations_win() {
        let mut r = Registry::new();
        r.register("same", |p: Same, s: &Steps<'_>| s.array(&p.x));
        r.register("other", |p: Same, s: &Steps<'_>| s.array(&p.x));
        r.register("same", |p: Same, s: &Steps<'_>| s.array(&p.x));
        assert_eq!(r.names(), ["other", "same"]);
        let e = r.prepare("blur", Map::new()).unwrap_err().to_string();
        assert_eq!(e, "unknown variant `blur`, expected one of `other`, `same`");
        let mut params = Map::new();
        params.insert("z".into(), Value::from(1));
        let e = r.prepare("same", params).unwrap_err().to_string();
        assert!(e.contains("unknown field `z`"), "{e}");
        let mut params = Map::new();
        params.insert("x".into(), Value::from("nope"));
        let step = r.prepare("same", params).unwrap();
        let names = HashMap::new();
        let e = step.build(&Steps::new(&names)).unwrap_err().to_string();
        assert!(e.contains("unknown name \"nope\""), "{e}");
    }
}
