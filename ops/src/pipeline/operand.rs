//! An operand in a pipeline file: the name of an input or step, or a number.

use std::fmt;

use chunkwise_engine::{Result, Scalar, Steps};
use serde::{Deserialize, Serialize};

use crate::elementwise::Operand;

/// An operand: the name of an input or step, or a number.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OperandSpec {
    /// A name.
    Ref(String),
    /// A scalar.
    Value(Scalar),
}

impl OperandSpec {
    /// The operand, its name resolved.
    ///
    /// # Errors
    /// [`chunkwise_engine::Error::Invalid`] for an unknown name.
    pub fn resolve(&self, steps: &Steps<'_>) -> Result<Operand> {
        Ok(match self {
            OperandSpec::Ref(name) => Operand::Array(steps.array(name)?),
            OperandSpec::Value(v) => Operand::Scalar(*v),
        })
    }
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
