//! Binary arithmetic, between two arrays of one type or an array and a scalar: `np.add`,
//! `np.subtract`, `np.multiply`, `np.true_divide`, `np.minimum`, `np.maximum`, `np.power`,
//! `np.floor_divide`, `np.remainder`, and the float functions `np.copysign`, `np.hypot`,
//! `np.logaddexp`, `np.arctan2`. The builder has already cast the operands to the promoted type
//! (float for the float functions), so kernels see one type.

use chunkwise_engine::{ArrayMeta, DType, Error, Op, OpKind, Result, Scalar, Slice, SliceMut};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{elementwise_meta, sides, zip_sides, Side};
use crate::elementwise::dispatch::{type_error, unary_same};
use crate::elementwise::num::{Float, Num};

/// Which arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arith {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (true division; float types only)
    Div,
    /// `np.minimum(a, b)`
    Minimum,
    /// `np.maximum(a, b)`
    Maximum,
    /// `a ** b` (`np.pow`); integers wrap, a negative integer exponent is an error as in NumPy.
    Pow,
    /// `a // b` (`np.floor_divide`).
    FloorDivide,
    /// `a % b` (`np.remainder`), with the divisor's sign.
    Remainder,
    /// `np.copysign(a, b)` (float types only)
    Copysign,
    /// `np.hypot(a, b)` (float types only)
    Hypot,
    /// `np.logaddexp(a, b)` (float types only)
    Logaddexp,
    /// `np.atan2(a, b)` (float types only)
    Atan2,
}

impl Arith {
    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Arith::Add => "add",
            Arith::Sub => "sub",
            Arith::Mul => "mul",
            Arith::Div => "div",
            Arith::Minimum => "minimum",
            Arith::Maximum => "maximum",
            Arith::Pow => "pow",
            Arith::FloorDivide => "floor_divide",
            Arith::Remainder => "remainder",
            Arith::Copysign => "copysign",
            Arith::Hypot => "hypot",
            Arith::Logaddexp => "logaddexp",
            Arith::Atan2 => "atan2",
        }
    }

    /// Every variant, for registries and tests.
    pub const ALL: [Arith; 13] = [
        Arith::Add,
        Arith::Sub,
        Arith::Mul,
        Arith::Div,
        Arith::Minimum,
        Arith::Maximum,
        Arith::Pow,
        Arith::FloorDivide,
        Arith::Remainder,
        Arith::Copysign,
        Arith::Hypot,
        Arith::Logaddexp,
        Arith::Atan2,
    ];

    /// Functions defined on floats only: the builder casts integer and bool operands to float
    /// (true division computes in float64 as NumPy's; the others in
    /// [`float_type`](crate::elementwise::float_type)).
    pub fn float_only(self) -> bool {
        matches!(
            self,
            Arith::Div | Arith::Copysign | Arith::Hypot | Arith::Logaddexp | Arith::Atan2
        )
    }
}

/// The error NumPy raises for an integer raised to a negative integer power.
pub(crate) fn negative_power_error() -> Error {
    Error::Invalid(
        "pow: integers to negative integer powers are not allowed (NumPy raises ValueError too); \
         cast to float first"
            .into(),
    )
}

/// The ops every type has, for one block.
fn num_op<T: Num>(op: Arith, a: Side<'_, T>, b: Side<'_, T>, o: &mut [T]) -> Result<()> {
    match op {
        Arith::Add => zip_sides(a, b, o, T::add),
        Arith::Sub => zip_sides(a, b, o, T::sub),
        Arith::Mul => zip_sides(a, b, o, T::mul),
        Arith::Minimum => zip_sides(a, b, o, T::minimum),
        Arith::Maximum => zip_sides(a, b, o, T::maximum),
        Arith::FloorDivide => zip_sides(a, b, o, T::floor_div),
        Arith::Remainder => zip_sides(a, b, o, T::rem),
        Arith::Pow => {
            if b.any(T::negative_exponent) {
                return Err(negative_power_error());
            }
            zip_sides(a, b, o, T::pow);
        }
        op => return Err(type_error(op.name(), &[T::DTYPE])),
    }
    Ok(())
}

/// The float-only ops, then the rest, for one block.
fn float_op<T: Float>(op: Arith, a: Side<'_, T>, b: Side<'_, T>, o: &mut [T]) -> Result<()> {
    match op {
        // Division, not multiplication by the reciprocal: results must match NumPy's bit for bit.
        Arith::Div => zip_sides(a, b, o, T::div),
        Arith::Copysign => zip_sides(a, b, o, T::copysign),
        Arith::Hypot => zip_sides(a, b, o, T::hypot),
        Arith::Logaddexp => zip_sides(a, b, o, T::logaddexp),
        Arith::Atan2 => zip_sides(a, b, o, T::atan2),
        op => return num_op(op, a, b, o),
    }
    Ok(())
}

/// One block of `op` whatever the operands: the float types take [`float_op`], the others
/// [`num_op`].
fn eval(
    op: Arith,
    inputs: &[Slice<'_>],
    scalar: Option<Scalar>,
    scalar_first: bool,
    out: SliceMut<'_>,
) -> Result<()> {
    let name = op.name();
    match out {
        SliceMut::Float32(o) => {
            let (a, b) = sides::<f32>(name, inputs, scalar, scalar_first)?;
            float_op(op, a, b, o)
        }
        SliceMut::Float64(o) => {
            let (a, b) = sides::<f64>(name, inputs, scalar, scalar_first)?;
            float_op(op, a, b, o)
        }
        out => {
            let first = inputs
                .first()
                .copied()
                .ok_or_else(|| type_error(name, &[]))?;
            unary_same!(name, first, out, |_x, o| {
                let (a, b) = sides(name, inputs, scalar, scalar_first)?;
                num_op(op, a, b, o)
            })
        }
    }
}

/// `a op b` for two arrays of one type.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    /// Which arithmetic.
    pub op: Arith,
}

impl Op for Binary {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        "array, array".into()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Float64, |m| m.dtype);
        elementwise_meta(self.op.name(), inputs, 2, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        eval(self.op, inputs, None, false, out)
    }
}

/// `a op s` (or `s op a` when `scalar_first`) for an array and a scalar.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryScalar {
    /// Which arithmetic.
    pub op: Arith,
    /// The scalar operand (fits the array type; checked by the builder).
    pub scalar: Scalar,
    /// True for `s op a`.
    pub scalar_first: bool,
}

impl Op for BinaryScalar {
    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn describe(&self) -> String {
        if self.scalar_first {
            format!("{}, array", self.scalar)
        } else {
            self.scalar.to_string()
        }
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let dtype = inputs.first().map_or(DType::Float64, |m| m.dtype);
        elementwise_meta(self.op.name(), inputs, 1, dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        eval(self.op, inputs, Some(self.scalar), self.scalar_first, out)
    }
}
