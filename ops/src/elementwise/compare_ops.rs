//! The comparison functions `equal`, `not_equal`, `less`, `less_equal`, `greater`,
//! `greater_equal`: a bool per element. Two arrays compare in their promoted type, except int64
//! with uint64, which NumPy 2 compares exactly (not in float64, their promoted type). An array and
//! a scalar compare as [`crate::elementwise::compare`] says: an integer scalar outside an integer
//! array's range gives every element the same answer, not an error.

use std::cmp::Ordering;
use std::sync::Arc;

use chunkwise_engine::{
    promote, Array, ArrayMeta, DType, Error, Op, OpKind, Result, Scalar, Slice, SliceMut,
};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{describe_operands, zip_sides, Side};
use crate::elementwise::compare::{cast_for_comparison, comparand, Comparand};
use crate::elementwise::dispatch::{any_input, type_error};
use crate::elementwise::num::Num;
use crate::elementwise::{astype, operand_pair, Operand, Pair};

/// Which comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// `x == y`
    Equal,
    /// `x != y` (true where either is NaN)
    NotEqual,
    /// `x < y`
    Less,
    /// `x <= y`
    LessEqual,
    /// `x > y`
    Greater,
    /// `x >= y`
    GreaterEqual,
}

impl Comparison {
    /// Every comparison, for registries and tests.
    pub const ALL: [Comparison; 6] = [
        Comparison::Equal,
        Comparison::NotEqual,
        Comparison::Less,
        Comparison::LessEqual,
        Comparison::Greater,
        Comparison::GreaterEqual,
    ];

    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Comparison::Equal => "equal",
            Comparison::NotEqual => "not_equal",
            Comparison::Less => "less",
            Comparison::LessEqual => "less_equal",
            Comparison::Greater => "greater",
            Comparison::GreaterEqual => "greater_equal",
        }
    }

    /// The same test with the operands swapped (`s < x` is `x > s`).
    fn swapped(self) -> Self {
        match self {
            Comparison::Less => Comparison::Greater,
            Comparison::LessEqual => Comparison::GreaterEqual,
            Comparison::Greater => Comparison::Less,
            Comparison::GreaterEqual => Comparison::LessEqual,
            c => c,
        }
    }

    /// Whether the test holds for `x` ordered `order` against `y`.
    fn holds(self, order: Ordering) -> bool {
        match self {
            Comparison::Equal => order.is_eq(),
            Comparison::NotEqual => order.is_ne(),
            Comparison::Less => order.is_lt(),
            Comparison::LessEqual => order.is_le(),
            Comparison::Greater => order.is_gt(),
            Comparison::GreaterEqual => order.is_ge(),
        }
    }
}

/// Compares two arrays, or an array and a scalar; writes bool.
#[derive(Debug, Clone, Serialize)]
pub struct Compare {
    /// Which comparison.
    pub op: Comparison,
    /// The scalar operand, if one is a scalar (it may lie outside the array's type).
    pub scalar: Option<Scalar>,
    /// True for `scalar op array`.
    pub scalar_first: bool,
}

fn compare<T: Copy + PartialOrd>(op: Comparison, a: Side<'_, T>, b: Side<'_, T>, o: &mut [bool]) {
    match op {
        Comparison::Equal => zip_sides(a, b, o, |x, y| x == y),
        Comparison::NotEqual => zip_sides(a, b, o, |x, y| x != y),
        Comparison::Less => zip_sides(a, b, o, |x, y| x < y),
        Comparison::LessEqual => zip_sides(a, b, o, |x, y| x <= y),
        Comparison::Greater => zip_sides(a, b, o, |x, y| x > y),
        Comparison::GreaterEqual => zip_sides(a, b, o, |x, y| x >= y),
    }
}

/// `x op scalar` for a block: the scalar is resolved once; outside the type's range every element
/// gets the one answer.
fn with_scalar<T: Num + PartialOrd>(op: Comparison, x: &[T], s: Scalar, o: &mut [bool]) {
    match comparand::<T>(s) {
        Comparand::Value(v) => compare(op, Side::Array(x), Side::Value(v), o),
        Comparand::Outside(order) => o.fill(op.holds(order)),
    }
}

/// int64 against uint64, exactly (in i128), as NumPy 2 compares them.
fn mixed_64(op: Comparison, a: Slice<'_>, b: Slice<'_>, o: &mut [bool]) -> Result<()> {
    let wide = |s: Slice<'_>| -> Option<Vec<i128>> {
        match s {
            Slice::Int64(v) => Some(v.iter().map(|&x| i128::from(x)).collect()),
            Slice::Uint64(v) => Some(v.iter().map(|&x| i128::from(x)).collect()),
            _ => None,
        }
    };
    let (Some(a), Some(b)) = (wide(a), wide(b)) else {
        return Err(type_error(op.name(), &[a.dtype(), b.dtype()]));
    };
    compare(op, Side::Array(&a), Side::Array(&b), o);
    Ok(())
}

impl Op for Compare {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        describe_operands(self.scalar, self.scalar_first)
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let arity = if self.scalar.is_some() { 1 } else { 2 };
        crate::elementwise::common::elementwise_meta(self.op.name(), inputs, arity, DType::Bool)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let name = self.op.name();
        let (Some(&x), SliceMut::Bool(o)) = (inputs.first(), out) else {
            return Err(Error::Invalid(format!("internal: {name} writes bool")));
        };
        if let Some(s) = self.scalar {
            let op = if self.scalar_first {
                self.op.swapped()
            } else {
                self.op
            };
            return any_input!(name, x, |x| {
                with_scalar(op, x, s, o);
                Ok(())
            });
        }
        match inputs.get(1) {
            Some(&y) if y.dtype() != x.dtype() => mixed_64(self.op, x, y, o),
            y => any_input!(name, x, |x| compare_arrays(self.op, x, y.copied(), o)),
        }
    }
}

/// Two arrays of one type.
fn compare_arrays<T: Num + PartialOrd>(
    op: Comparison,
    x: &[T],
    y: Option<Slice<'_>>,
    o: &mut [bool],
) -> Result<()> {
    let y = y
        .and_then(T::from_slice)
        .ok_or_else(|| type_error(op.name(), &[T::DTYPE]))?;
    compare(op, Side::Array(x), Side::Array(y), o);
    Ok(())
}

/// `np.equal(x, y)`, `np.less(x, y)`, ...: NumPy 2's comparison with promotion (int64 with uint64
/// exactly); an integer scalar outside an integer array's range is no error.
///
/// # Errors
/// [`Error::Invalid`] for two scalars or mismatched shapes.
pub fn comparison(op: Comparison, x: impl Into<Operand>, y: impl Into<Operand>) -> Result<Array> {
    let scalar_op = |scalar, scalar_first| Compare {
        op,
        scalar: Some(scalar),
        scalar_first,
    };
    match operand_pair(op.name(), x.into(), y.into())? {
        Pair::Arrays(x, y) => {
            let (dx, dy) = (x.dtype(), y.dtype());
            let exact_64 = matches!(
                (dx, dy),
                (DType::Int64, DType::Uint64) | (DType::Uint64, DType::Int64)
            );
            let (x, y) = if exact_64 {
                (x, y)
            } else {
                let d = promote(dx, dy);
                (astype(&x, d)?, astype(&y, d)?)
            };
            let op = Compare {
                op,
                scalar: None,
                scalar_first: false,
            };
            Array::apply(Arc::new(op), vec![x, y])
        }
        Pair::WithScalar(x, s, first) => {
            let x = cast_for_comparison(&x, s)?;
            Array::apply(Arc::new(scalar_op(s, first)), vec![x])
        }
    }
}
