//! The element-wise ops in pipeline files: each op's parameters (its schema) and builder,
//! registered under its name.

use chunkwise_engine::{Array, DType, Registry, Result, Scalar, Steps};
use serde::Deserialize;

use crate::elementwise::{
    self as ew, Arith, BitOp, Comparison, LogicalOp, Operand, Predicate, UnaryFn,
};
use crate::pipeline::OperandSpec;

/// `astype`: `x` cast to `dtype`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Astype {
    x: String,
    dtype: DType,
}

/// `clip`: `np.clip(x, min, max)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clip {
    x: String,
    #[serde(default)]
    min: Option<Scalar>,
    #[serde(default)]
    max: Option<Scalar>,
}

/// `threshold`: `(x > value).astype(uint8)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Threshold {
    x: String,
    value: Scalar,
}

/// The binary functions (`add`, `greater`, `logical_and`, `bitwise_and`, `atan2`, ...):
/// `f(x, y)`, either a step's name or a number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Binary {
    x: OperandSpec,
    y: OperandSpec,
}

/// The unary functions (`abs`, `sqrt`, `sin`, `isnan`, `logical_not`, ...): `f(x)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unary {
    x: String,
}

/// `where`: `np.where(mask, a, b)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Where {
    mask: String,
    a: OperandSpec,
    b: OperandSpec,
}

/// A registry builder for a binary function `f(op, x, y)`.
fn binary<O: Copy + 'static>(
    op: O,
    f: fn(O, Operand, Operand) -> Result<Array>,
) -> impl Fn(Binary, &Steps<'_>) -> Result<Array> {
    move |p, s| f(op, p.x.resolve(s)?, p.y.resolve(s)?)
}

/// A registry builder for a unary function `f(op, x)`.
fn unary<O: Copy + 'static>(
    op: O,
    f: fn(O, &Array) -> Result<Array>,
) -> impl Fn(Unary, &Steps<'_>) -> Result<Array> {
    move |p, s| f(op, &s.array(&p.x)?)
}

/// Registers the element-wise ops.
pub fn register(r: &mut Registry) -> &mut Registry {
    r.register("astype", |p: Astype, s: &Steps<'_>| {
        ew::astype(&s.array(&p.x)?, p.dtype)
    })
    .register("clip", |p: Clip, s: &Steps<'_>| {
        ew::clip(&s.array(&p.x)?, p.min, p.max)
    })
    .register("threshold", |p: Threshold, s: &Steps<'_>| {
        ew::threshold(&s.array(&p.x)?, p.value)
    });
    for op in Arith::ALL {
        r.register(op.name(), binary(op, ew::binary));
    }
    // The array API standard's names for the first three, which chunkwise spelled short.
    for (name, op) in [
        ("subtract", Arith::Sub),
        ("multiply", Arith::Mul),
        ("divide", Arith::Div),
    ] {
        r.register(name, binary(op, ew::binary));
    }
    for op in Comparison::ALL {
        r.register(op.name(), binary(op, ew::comparison));
    }
    for op in [LogicalOp::And, LogicalOp::Or, LogicalOp::Xor] {
        r.register(op.name(), binary(op, ew::logical));
    }
    for op in BitOp::ALL.into_iter().filter(|&o| o != BitOp::Invert) {
        r.register(op.name(), binary(op, ew::bitwise));
    }
    for f in UnaryFn::ALL {
        r.register(f.name(), unary(f, ew::unary));
    }
    for f in Predicate::ALL {
        r.register(f.name(), unary(f, ew::predicate));
    }
    r.register("positive", unary((), |(), x| ew::positive(x)))
        .register("logical_not", unary((), |(), x| ew::logical_not(x)))
        .register("bitwise_invert", unary((), |(), x| ew::bitwise_invert(x)))
        .register("where", |p: Where, s: &Steps<'_>| {
            ew::where_(&s.array(&p.mask)?, p.a.resolve(s)?, p.b.resolve(s)?)
        })
}
