//! The file format, as serde types. Parsing goes through `serde_json::Value` so JSON and YAML
//! share one path; each step keeps its parameters as JSON until the op's registered schema
//! decodes them ([`chunkwise_engine::Registry`]), so an error names the step.

use std::collections::BTreeMap;
use std::fmt;

use chunkwise_engine::{Error, Result};
use chunkwise_store::WriteOptions;
use serde::Serialize;
use serde_json::{Map, Value};

/// A whole pipeline file.
#[derive(Clone, Debug, Serialize)]
pub struct PipelineSpec {
    /// Input name -> Zarr array path (relative paths are relative to the pipeline file).
    pub inputs: BTreeMap<String, String>,
    /// Steps in order; each may refer to inputs and earlier steps.
    pub steps: Vec<StepSpec>,
    /// What to write.
    pub outputs: Vec<OutputSpec>,
}

/// One named step: an op of the [`chunkwise_engine::Registry`] and its parameters.
#[derive(Clone, Debug, Serialize)]
pub struct StepSpec {
    /// The name later steps and outputs refer to.
    pub id: String,
    /// The op's registered name.
    pub op: String,
    /// The step's other keys: the op's parameters, decoded by the op's schema when the
    /// pipeline is built.
    #[serde(flatten)]
    pub params: Map<String, Value>,
}

/// One output.
#[derive(Clone, Debug, Serialize)]
pub struct OutputSpec {
    /// The input or step to write.
    pub from: String,
    /// Where (relative paths are relative to the pipeline file).
    pub path: String,
    /// Format, chunks, shards, codec.
    pub options: WriteOptions,
}

fn invalid(context: &str, e: impl fmt::Display) -> Error {
    Error::Invalid(format!("{context}: {e}"))
}

fn take_string(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
    context: &str,
) -> Result<String> {
    match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(invalid(
            context,
            format!("\"{key}\" must be a string, got {other}"),
        )),
        None => Err(invalid(context, format!("missing \"{key}\""))),
    }
}

impl PipelineSpec {
    /// Parses a pipeline from JSON or YAML text.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the offending step or output and field.
    pub fn parse(text: &str) -> Result<Self> {
        let root: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| invalid("pipeline is not valid JSON", e))?
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| invalid("pipeline is not valid YAML", e))?
        };
        let Value::Object(mut root) = root else {
            return Err(Error::Invalid(
                "pipeline must be an object with inputs, steps and outputs".into(),
            ));
        };
        let inputs = match root.remove("inputs") {
            Some(v) => serde_json::from_value(v)
                .map_err(|e| invalid("\"inputs\" must map names to array paths", e))?,
            None => BTreeMap::new(),
        };
        let steps = match root.remove("steps") {
            Some(Value::Array(steps)) => steps
                .into_iter()
                .enumerate()
                .map(|(i, s)| parse_step(i, s))
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(Error::Invalid("\"steps\" must be a list".into())),
            None => Vec::new(),
        };
        let outputs = match root.remove("outputs") {
            Some(Value::Array(outs)) => outs
                .into_iter()
                .enumerate()
                .map(|(i, o)| parse_output(i, o))
                .collect::<Result<Vec<_>>>()?,
            _ => {
                return Err(Error::Invalid(
                    "\"outputs\" must be a non-empty list of {from, path, ...}".into(),
                ))
            }
        };
        if let Some(key) = root.keys().next() {
            return Err(Error::Invalid(format!(
                "unknown top-level key {key:?}; expected inputs, steps, outputs"
            )));
        }
        Ok(Self {
            inputs,
            steps,
            outputs,
        })
    }
}

fn parse_step(i: usize, value: Value) -> Result<StepSpec> {
    let context = format!("step {}", i + 1);
    let Value::Object(mut map) = value else {
        return Err(invalid(&context, "must be an object with id and op"));
    };
    let id = take_string(&mut map, "id", &context)?;
    let context = format!("step {:?}", id);
    let op = take_string(&mut map, "op", &context)?;
    Ok(StepSpec {
        id,
        op,
        params: map,
    })
}

fn parse_output(i: usize, value: Value) -> Result<OutputSpec> {
    let context = format!("output {}", i + 1);
    let Value::Object(mut map) = value else {
        return Err(invalid(&context, "must be an object with from and path"));
    };
    let from = take_string(&mut map, "from", &context)?;
    let path = take_string(&mut map, "path", &context)?;
    let context = format!("output {path:?}");
    let options = serde_json::from_value(Value::Object(map)).map_err(|e| invalid(&context, e))?;
    Ok(OutputSpec {
        from,
        path,
        options,
    })
}
