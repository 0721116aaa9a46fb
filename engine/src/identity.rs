//! The identity of a run: what an output's values depend on, as one JSON document and its hash.
//!
//! `--resume` may only continue an output that the *same* computation started; anything else
//! mixes two results in one array without a word. So the identity covers every parameter of
//! every op (each op's serialized form, [`crate::op::OpParams`] — derived with serde, not written
//! by hand, so a new parameter cannot be forgotten), every input (its location and the metadata
//! that decides its values: shape, chunks, type, fill value, codecs; for an in-memory array a
//! hash of its contents), the output's own metadata, the chunkwise version and the format of
//! this document. The hash is SHA-256 over the canonical JSON (object keys sorted, no spaces).
//!
//! When two identities differ, [`difference`] names the first place they do, in the user's
//! terms (`correlate (expression node 2): weights[4] was 4.0, now 5.0`), so a refusal says what
//! changed and not only that something did.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::expr::{Array, NodeKind};

/// Version of the identity document; bump it when its layout changes.
pub const IDENTITY_FORMAT: u64 = 1;

/// The expression computing `array`, one entry per node, inputs first, each op naming its
/// inputs by position: `{"input": ...}` or `{"op": name, "params": ..., "inputs": [k, ...]}`.
pub fn expression(array: &Array) -> Value {
    fn visit(a: &Array, seen: &mut HashMap<u64, usize>, nodes: &mut Vec<Value>) -> usize {
        if let Some(&k) = seen.get(&a.id()) {
            return k;
        }
        let node = match a.node() {
            NodeKind::Source(source) => json!({ "input": source.identity() }),
            NodeKind::Op { op, inputs } => {
                let inputs: Vec<usize> = inputs.iter().map(|i| visit(i, seen, nodes)).collect();
                json!({ "op": op.name(), "params": op.params(), "inputs": inputs })
            }
        };
        nodes.push(node);
        seen.insert(a.id(), nodes.len() - 1);
        nodes.len() - 1
    }
    let mut nodes = Vec::new();
    visit(array, &mut HashMap::new(), &mut nodes);
    Value::Array(nodes)
}

/// The whole identity of an output: the expression computing it and the output's metadata.
pub fn run_identity(expression: Value, output: Value) -> Value {
    json!({
        "format": IDENTITY_FORMAT,
        "chunkwise": env!("CARGO_PKG_VERSION"),
        "expression": expression,
        "output": output,
    })
}

/// `value` as canonical JSON: object keys sorted at every level, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let out: Map<String, Value> = keys
                    .into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect();
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// SHA-256 of the canonical JSON of `value`, as lowercase hex.
pub fn hash(value: &Value) -> String {
    hex(&Sha256::digest(canonical_json(value).as_bytes()))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The first difference between the identity an interrupted run recorded (`was`) and this
/// run's (`now`), in words; `None` when they are equal.
pub fn difference(was: &Value, now: &Value) -> Option<String> {
    for key in ["format", "chunkwise"] {
        if was[key] != now[key] {
            return Some(format!(
                "it was started by chunkwise {} (run identity format {}); this is chunkwise {} \
                 (format {})",
                plain(&was["chunkwise"]),
                plain(&was["format"]),
                plain(&now["chunkwise"]),
                plain(&now["format"])
            ));
        }
    }
    if let Some(d) = expression_difference(&was["expression"], &now["expression"]) {
        return Some(d);
    }
    first_difference(&was["output"], &now["output"], "")
        .map(|d| format!("the output settings differ: {d}"))
}

fn expression_difference(was: &Value, now: &Value) -> Option<String> {
    let (empty, empty2) = (Vec::new(), Vec::new());
    let was = was.as_array().unwrap_or(&empty);
    let now = now.as_array().unwrap_or(&empty2);
    for (k, (w, n)) in was.iter().zip(now).enumerate() {
        if w == n {
            continue;
        }
        let node = k + 1;
        return Some(match (&w["op"], &n["op"]) {
            (Value::Null, Value::Null) => {
                let path = plain(&n["input"]["location"]);
                match first_difference(&w["input"], &n["input"], "") {
                    Some(d) => format!("input {path} differs: {d}"),
                    None => format!("input {path} differs"),
                }
            }
            (wo, no) if wo != no => format!(
                "expression node {node} was {}, now {}",
                node_name(w),
                node_name(n)
            ),
            _ if w["inputs"] != n["inputs"] => format!(
                "{} (expression node {node}) takes other inputs",
                plain(&n["op"])
            ),
            _ => {
                let d = first_difference(&w["params"], &n["params"], "")
                    .unwrap_or_else(|| "its parameters differ".into());
                format!("{} (expression node {node}): {d}", plain(&n["op"]))
            }
        });
    }
    (was.len() != now.len()).then(|| {
        format!(
            "the expression had {} nodes (inputs and ops), this one has {}",
            was.len(),
            now.len()
        )
    })
}

fn node_name(node: &Value) -> String {
    match &node["op"] {
        Value::Null => format!("input {}", plain(&node["input"]["location"])),
        op => plain(op),
    }
}

/// The path of the first leaf where `was` and `now` differ (in `now`'s key order), with both
/// values: `weights[1][0][1] was 4.0, now 5.0`.
fn first_difference(was: &Value, now: &Value, path: &str) -> Option<String> {
    if was == now {
        return None;
    }
    match (was, now) {
        (Value::Object(w), Value::Object(n)) => {
            for (key, nv) in n {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let wv = w.get(key).unwrap_or(&Value::Null);
                if let Some(d) = first_difference(wv, nv, &sub) {
                    return Some(d);
                }
            }
            let gone = w.keys().find(|k| !n.contains_key(*k))?;
            let at = if path.is_empty() {
                gone.clone()
            } else {
                format!("{path}.{gone}")
            };
            Some(format!("{at} was set, now it is not"))
        }
        (Value::Array(w), Value::Array(n)) if w.len() == n.len() => w
            .iter()
            .zip(n)
            .enumerate()
            .find_map(|(i, (wv, nv))| first_difference(wv, nv, &format!("{path}[{i}]"))),
        _ => {
            let at = if path.is_empty() { "value" } else { path };
            Some(format!("{at} was {}, now {}", short(was), short(now)))
        }
    }
}

/// A JSON value as a user reads it: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value for a message, cut to a readable length.
fn short(v: &Value) -> String {
    let text = match v {
        Value::Null => "unset".to_string(),
        other => plain(other),
    };
    const MAX: usize = 80;
    if text.chars().count() > MAX {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": 2}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":2,"d":[1,{"y":1,"z":0}]},"b":1}"#
        );
        let b = json!({"a": {"c": 2, "d": [1, {"y": 1, "z": 0}]}, "b": 1});
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&json!({"a": 1})));
        assert_eq!(hash(&a).len(), 64);
    }

    #[test]
    fn a_difference_names_the_step_and_the_parameter() {
        let node = |w: f64| {
            json!({"op": "correlate", "inputs": [0],
                   "params": {"weights": [[1.0, 2.0], [w, 1.0]], "mode": "reflect"}})
        };
        let input = json!({"input": {"location": "/data/in.zarr", "shape": [4, 4]}});
        let id = |w: f64, out: Value| run_identity(json!([input, node(w)]), out);
        let out = json!({"codecs": [{"name": "zstd", "level": 1}]});
        assert_eq!(
            difference(&id(4.0, out.clone()), &id(4.0, out.clone())),
            None
        );
        assert_eq!(
            difference(&id(4.0, out.clone()), &id(5.0, out.clone())).unwrap(),
            "correlate (expression node 2): weights[1][0] was 4.0, now 5.0"
        );
        let other = json!({"codecs": [{"name": "zstd", "level": 3}]});
        assert_eq!(
            difference(&id(4.0, out.clone()), &id(4.0, other)).unwrap(),
            "the output settings differ: codecs[0].level was 1, now 3"
        );
        let moved = json!({"input": {"location": "/data/in.zarr", "shape": [4, 5]}});
        let was = run_identity(json!([input, node(4.0)]), out.clone());
        let now = run_identity(json!([moved, node(4.0)]), out);
        assert_eq!(
            difference(&was, &now).unwrap(),
            "input /data/in.zarr differs: shape[1] was 4, now 5"
        );
    }
}
