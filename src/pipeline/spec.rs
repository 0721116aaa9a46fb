//! The file format, as serde types. Parsing goes through `serde_json::Value` so JSON and YAML
//! share one path, and each step is decoded on its own so an error names the step.

use std::collections::BTreeMap;
use std::fmt;

use chunkwise_engine::store::WriteOptions;
use chunkwise_engine::{DType, Error, Result, Scalar};
use chunkwise_ops::stencil::BoundaryMode;
use chunkwise_ops::{DownsampleMethod, UpsampleMethod};

use crate::pipeline::values::{Nested, PerAxis};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// One named step.
#[derive(Clone, Debug, Serialize)]
pub struct StepSpec {
    /// The name later steps and outputs refer to.
    pub id: String,
    /// The operation.
    pub op: OpSpec,
}

/// An operand: the name of an input or step, or a number.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OperandSpec {
    /// A name.
    Ref(String),
    /// A scalar.
    Value(Scalar),
}

impl<'de> Deserialize<'de> for OperandSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = OperandSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the name of an input or step, or a number")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Ref(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Value(Scalar::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Value(Scalar::Int(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<OperandSpec, E> {
                i64::try_from(v)
                    .map(|v| OperandSpec::Value(Scalar::Int(v)))
                    .map_err(|_| E::custom(format!("integer {v} is larger than int64 allows")))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Value(Scalar::Float(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// The operations a pipeline file can name, with their parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum OpSpec {
    /// `x.astype(dtype)`
    Astype {
        /// Input name.
        x: String,
        /// Target type.
        dtype: DType,
    },
    /// `np.clip(x, min, max)`
    Clip {
        /// Input name.
        x: String,
        /// Lower bound.
        #[serde(default)]
        min: Option<Scalar>,
        /// Upper bound.
        #[serde(default)]
        max: Option<Scalar>,
    },
    /// `(x > value).astype(uint8)`
    Threshold {
        /// Input name.
        x: String,
        /// Threshold.
        value: Scalar,
    },
    /// `x + y`
    Add {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `x - y`
    Sub {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `x * y`
    Mul {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `x / y` (true division)
    Div {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `np.minimum(x, y)`
    Minimum {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `np.maximum(x, y)`
    Maximum {
        /// Left operand.
        x: OperandSpec,
        /// Right operand.
        y: OperandSpec,
    },
    /// `np.abs(x)`
    Abs {
        /// Input name.
        x: String,
    },
    /// `np.sqrt(x)`
    Sqrt {
        /// Input name.
        x: String,
    },
    /// `np.exp(x)`
    Exp {
        /// Input name.
        x: String,
    },
    /// `np.log(x)`
    Log {
        /// Input name.
        x: String,
    },
    /// `downsample(x, factors, method)` (TensorStore semantics)
    Downsample {
        /// Input name.
        x: String,
        /// Integer factor per axis.
        factors: Vec<u64>,
        /// mean (default), min, max, median, mode or stride.
        #[serde(default = "default_down")]
        method: DownsampleMethod,
    },
    /// `upsample(x, factors, method)` (nearest = `np.repeat`; linear = SciPy zoom order 1)
    Upsample {
        /// Input name.
        x: String,
        /// Integer factor per axis.
        factors: Vec<u64>,
        /// nearest (default) or linear.
        #[serde(default = "default_up")]
        method: UpsampleMethod,
    },
    /// `scipy.ndimage.gaussian_filter(x, sigma, truncate, mode, cval)`
    GaussianFilter(FilterSpec),
    /// `scipy.ndimage.uniform_filter(x, size, origin, mode, cval)`
    UniformFilter(FilterSpec),
    /// `scipy.ndimage.correlate(x, weights | kernels, origin, mode, cval)`
    Correlate(FilterSpec),
    /// `scipy.ndimage.convolve(x, weights | kernels, origin, mode, cval)`
    Convolve(FilterSpec),
    /// `scipy.ndimage.median_filter(x, size | footprint, origin, mode, cval)`
    MedianFilter(FilterSpec),
    /// `scipy.ndimage.minimum_filter(x, size | footprint, origin, mode, cval)`
    MinimumFilter(FilterSpec),
    /// `scipy.ndimage.maximum_filter(x, size | footprint, origin, mode, cval)`
    MaximumFilter(FilterSpec),
    /// `scipy.ndimage.sobel(x, axis, mode, cval)`
    Sobel(FilterSpec),
    /// `scipy.ndimage.laplace(x, mode, cval)`
    Laplace(FilterSpec),
    /// `scipy.ndimage.gaussian_gradient_magnitude(x, sigma, truncate, mode, cval)`
    GaussianGradientMagnitude(FilterSpec),
    /// `np.where(mask, a, b)`
    Where {
        /// Mask name (non-zero is true).
        mask: String,
        /// Where true.
        a: OperandSpec,
        /// Where false.
        b: OperandSpec,
    },
}

/// The parameters of the stencil ops, by scipy.ndimage's names: one shape for all of them (each
/// op takes the subset its scipy function takes; the others are refused when the step is built,
/// naming the op and the parameter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Input name.
    pub x: String,
    /// Sigma per axis, or one for all axes (gaussian filters).
    #[serde(default)]
    pub sigma: Option<PerAxis<f64>>,
    /// Radius in sigmas (gaussian filters; default 4.0).
    #[serde(default)]
    pub truncate: Option<f64>,
    /// Box size per axis, or one for all axes.
    #[serde(default)]
    pub size: Option<PerAxis<usize>>,
    /// Nested 0/1 (or true/false) array selecting a window's positions.
    #[serde(default)]
    pub footprint: Option<Nested>,
    /// An N-d kernel as a nested array.
    #[serde(default)]
    pub weights: Option<Nested>,
    /// One 1-D kernel per axis, applied axis by axis (the fast separable path).
    #[serde(default)]
    pub kernels: Option<Vec<Vec<f64>>>,
    /// Window shift per axis, or one for all (default 0).
    #[serde(default)]
    pub origin: Option<PerAxis<i64>>,
    /// The derivative's axis (sobel; default -1, the last).
    #[serde(default)]
    pub axis: Option<i64>,
    /// reflect (default), mirror, nearest, wrap or constant.
    #[serde(default)]
    pub mode: BoundaryMode,
    /// Value beyond the edges in constant mode.
    #[serde(default)]
    pub cval: f64,
    /// float32 (default; float64 for float64 input) or float64.
    #[serde(default)]
    pub output: Option<DType>,
}

fn default_down() -> DownsampleMethod {
    DownsampleMethod::Mean
}

fn default_up() -> UpsampleMethod {
    UpsampleMethod::Nearest
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
    let op = serde_json::from_value(Value::Object(map)).map_err(|e| invalid(&context, e))?;
    Ok(StepSpec { id, op })
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
