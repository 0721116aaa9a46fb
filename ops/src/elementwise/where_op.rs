//! `where(mask, a, b)`: `np.where` without broadcasting; `a` and `b` are arrays or scalars of the
//! output type, the mask is bool (the builder casts other types with `!= 0`).

use chunkwise_engine::{ArrayMeta, DType, Error, Op, OpKind, Result, Scalar, Slice, SliceMut};
use multiversion::multiversion;
use serde::Serialize;

use crate::elementwise::common::{elementwise_meta, Side};
use crate::elementwise::dispatch::{any_output, type_error};
use crate::elementwise::num::Num;

/// Picks `a` where the mask is true, else `b`. Inputs: the mask, then `a` unless it is a scalar,
/// then `b` unless it is a scalar.
#[derive(Debug, Clone, Serialize)]
pub struct Where {
    /// `a` as a scalar, when it is one.
    pub a: Option<Scalar>,
    /// `b` as a scalar, when it is one.
    pub b: Option<Scalar>,
    /// Output type.
    pub dtype: DType,
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn select<T: Num>(mask: &[bool], a: Side<'_, T>, b: Side<'_, T>, o: &mut [T]) {
    for (i, (o, &m)) in o.iter_mut().zip(mask).enumerate() {
        *o = if m { a.at(i) } else { b.at(i) };
    }
}

impl Where {
    fn arity(&self) -> usize {
        1 + usize::from(self.a.is_none()) + usize::from(self.b.is_none())
    }
}

fn side<'a, T: Num>(
    scalar: Option<Scalar>,
    arrays: &mut impl Iterator<Item = Slice<'a>>,
) -> Result<Side<'a, T>> {
    match scalar {
        Some(s) => Ok(Side::Value(T::from_scalar(s))),
        None => arrays
            .next()
            .and_then(T::from_slice)
            .map(Side::Array)
            .ok_or_else(|| type_error("where", &[T::DTYPE])),
    }
}

impl Op for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn describe(&self) -> String {
        let show = |s: Option<Scalar>| s.map_or("array".to_string(), |v| v.to_string());
        format!("mask, {}, {}", show(self.a), show(self.b))
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        if inputs.first().is_some_and(|m| m.dtype != DType::Bool) {
            return Err(Error::Invalid("where: the mask must be bool".into()));
        }
        if inputs.iter().skip(1).any(|m| m.dtype != self.dtype) {
            return Err(Error::Invalid(format!(
                "where: operands must be {}",
                self.dtype
            )));
        }
        elementwise_meta("where", inputs, self.arity(), self.dtype)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let Slice::Bool(mask) = inputs[0] else {
            return Err(type_error("where", &[inputs[0].dtype()]));
        };
        let mut arrays = inputs[1..].iter().copied();
        any_output!(out, |o| {
            let a = side(self.a, &mut arrays)?;
            let b = side(self.b, &mut arrays)?;
            select(mask, a, b, o);
            Ok(())
        })
    }
}
