//! An operand in a pipeline file: the name of an input or step, or a number (NaN and the
//! infinities as text, `"nan"`, `"inf"`, `"-inf"`: see [`chunkwise_engine::nonfinite`]).

use std::fmt;

use chunkwise_engine::{nonfinite, Result, Scalar, Steps};
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
    /// The operand, its name resolved. A text that names no input or step but spells a
    /// non-finite float (`"nan"`, `"-inf"`) is that float: JSON has no literal for it, and an
    /// input or step of that name keeps the name's meaning, so no file changes meaning.
    ///
    /// # Errors
    /// [`chunkwise_engine::Error::Invalid`] for an unknown name.
    pub fn resolve(&self, steps: &Steps<'_>) -> Result<Operand> {
        Ok(match self {
            OperandSpec::Ref(name) => match steps.array(name) {
                Ok(array) => Operand::Array(array),
                Err(e) => match nonfinite::parse(name) {
                    Some(v) => Operand::Scalar(Scalar::Float(v)),
                    None => return Err(e),
                },
            },
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
                Ok(OperandSpec::Value(Scalar::Int(v.into())))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Value(Scalar::Int(v.into())))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<OperandSpec, E> {
                Ok(OperandSpec::Value(Scalar::Float(v)))
            }
        }
        d.deserialize_any(V)
    }
}
