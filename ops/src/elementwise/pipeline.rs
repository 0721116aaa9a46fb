//! The element-wise ops in pipeline files: each op's parameters (its schema) and builder,
//! registered under its name.

use chunkwise_engine::{DType, Registry, Result, Scalar, Steps};
use serde::Deserialize;

use crate::elementwise::{self as ew, Arith, UnaryFn};
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

/// `add`, `sub`, `mul`, `div`, `minimum`, `maximum`: `x op y`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Binary {
    x: OperandSpec,
    y: OperandSpec,
}

/// `abs`, `sqrt`, `exp`, `log`.
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

fn binary(op: Arith) -> impl Fn(Binary, &Steps<'_>) -> Result<chunkwise_engine::Array> {
    move |p, s| ew::binary(op, p.x.resolve(s)?, p.y.resolve(s)?)
}

fn unary(f: UnaryFn) -> impl Fn(Unary, &Steps<'_>) -> Result<chunkwise_engine::Array> {
    move |p, s| ew::unary(f, &s.array(&p.x)?)
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
    for op in [
        Arith::Add,
        Arith::Sub,
        Arith::Mul,
        Arith::Div,
        Arith::Minimum,
        Arith::Maximum,
    ] {
        r.register(op.name(), binary(op));
    }
    for f in [UnaryFn::Abs, UnaryFn::Sqrt, UnaryFn::Exp, UnaryFn::Log] {
        r.register(f.name(), unary(f));
    }
    r.register("where", |p: Where, s: &Steps<'_>| {
        ew::where_(&s.array(&p.mask)?, p.a.resolve(s)?, p.b.resolve(s)?)
    })
}
