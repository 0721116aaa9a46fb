//! `logical_and`, `logical_or`, `logical_xor`, `logical_not`: truth values of any type (non-zero,
//! NaN included, is true, as NumPy's), a bool per element. The builder casts the operands to bool,
//! so the kernels are plain bool loops.

use std::sync::Arc;

use chunkwise_engine::{Array, ArrayMeta, DType, Error, Op, OpKind, Result, Slice, SliceMut};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{elementwise_meta, map, zip_sides, Side};
use crate::elementwise::{astype, operand_pair, Operand, Pair};

/// Which logical function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogicalOp {
    /// `x and y`
    And,
    /// `x or y`
    Or,
    /// `x xor y`
    Xor,
    /// `not x` (one operand)
    Not,
}

impl LogicalOp {
    /// Every logical function, for registries and tests.
    pub const ALL: [LogicalOp; 4] = [
        LogicalOp::And,
        LogicalOp::Or,
        LogicalOp::Xor,
        LogicalOp::Not,
    ];

    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            LogicalOp::And => "logical_and",
            LogicalOp::Or => "logical_or",
            LogicalOp::Xor => "logical_xor",
            LogicalOp::Not => "logical_not",
        }
    }
}

/// A logical function of bool arrays (or a bool array and a truth value).
#[derive(Debug, Clone, Serialize)]
pub struct Logical {
    /// Which function.
    pub op: LogicalOp,
    /// The scalar operand's truth value, if one operand is a scalar (the functions commute).
    pub scalar: Option<bool>,
}

impl Op for Logical {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        self.scalar.map(|s| s.to_string()).unwrap_or_default()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        if inputs.iter().any(|m| m.dtype != DType::Bool) {
            return Err(Error::Invalid(format!(
                "internal: {} takes bool arrays",
                self.op.name()
            )));
        }
        let arity = if self.op == LogicalOp::Not || self.scalar.is_some() {
            1
        } else {
            2
        };
        elementwise_meta(self.op.name(), inputs, arity, DType::Bool)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let bad = || Error::Invalid(format!("internal: {} takes bool arrays", self.op.name()));
        let (Some(Slice::Bool(x)), SliceMut::Bool(o)) = (inputs.first().copied(), out) else {
            return Err(bad());
        };
        let y = match (self.scalar, inputs.get(1).copied()) {
            (Some(s), _) => Side::Value(s),
            (None, Some(Slice::Bool(y))) => Side::Array(y),
            _ if self.op == LogicalOp::Not => Side::Value(false),
            _ => return Err(bad()),
        };
        let x = Side::Array(x);
        match self.op {
            LogicalOp::And => zip_sides(x, y, o, |a, b| a & b),
            LogicalOp::Or => zip_sides(x, y, o, |a, b| a | b),
            LogicalOp::Xor => zip_sides(x, y, o, |a, b| a ^ b),
            LogicalOp::Not => {
                if let Side::Array(x) = x {
                    map(x, o, |a: bool| !a);
                }
            }
        }
        Ok(())
    }
}

/// `np.logical_and(x, y)` and its kin; either operand may be a scalar (its truth value is used).
///
/// # Errors
/// [`Error::Invalid`] for two scalars or mismatched shapes, and for [`LogicalOp::Not`] (use
/// [`logical_not`]).
pub fn logical(op: LogicalOp, x: impl Into<Operand>, y: impl Into<Operand>) -> Result<Array> {
    if op == LogicalOp::Not {
        return Err(Error::Invalid(
            "logical_not takes one operand; use logical_not".into(),
        ));
    }
    let (inputs, scalar) = match operand_pair(op.name(), x.into(), y.into())? {
        Pair::Arrays(x, y) => (
            vec![astype(&x, DType::Bool)?, astype(&y, DType::Bool)?],
            None,
        ),
        Pair::WithScalar(x, s, _) => (vec![astype(&x, DType::Bool)?], Some(s.as_f64() != 0.0)),
    };
    Array::apply(Arc::new(Logical { op, scalar }), inputs)
}

/// `np.logical_not(x)`.
///
/// # Errors
/// None in practice; kept fallible like every builder.
pub fn logical_not(x: &Array) -> Result<Array> {
    let op = Logical {
        op: LogicalOp::Not,
        scalar: None,
    };
    Array::apply(Arc::new(op), vec![astype(x, DType::Bool)?])
}
