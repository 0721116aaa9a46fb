//! What the element-wise ops share: output validation, and the loop shapes of their kernels
//! ([`Side`], [`zip_sides`], [`map`]) so that every kernel is one tight slice loop.

use chunkwise_engine::{ArrayMeta, DType, Error, Result};
use multiversion::multiversion;

/// The output metadata of an element-wise op: the inputs' common shape, the first input's
/// chunking, and `dtype`.
///
/// # Errors
/// [`Error::Invalid`] when the count of inputs is not `arity` or the shapes differ.
pub fn elementwise_meta(
    op: &str,
    inputs: &[ArrayMeta],
    arity: usize,
    dtype: DType,
) -> Result<ArrayMeta> {
    if inputs.len() != arity {
        return Err(Error::Invalid(format!(
            "{op} takes {arity} array input(s), got {}",
            inputs.len()
        )));
    }
    let first = &inputs[0];
    if let Some(other) = inputs.iter().find(|m| m.shape != first.shape) {
        return Err(Error::Invalid(format!(
            "shape mismatch in {op}: {:?} vs {:?}; element-wise operands must have the same shape",
            first.shape, other.shape
        )));
    }
    ArrayMeta::new(first.shape.clone(), first.chunks.clone(), dtype)
}

/// One operand of a binary kernel: a block of an array, or a scalar already converted to the
/// element type.
#[derive(Clone, Copy)]
pub(crate) enum Side<'a, T> {
    /// The operand's elements for this block.
    Array(&'a [T]),
    /// The same value for every element.
    Value(T),
}

impl<T: Copy> Side<'_, T> {
    /// The operand at element `i`.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> T {
        match self {
            Side::Array(v) => v[i],
            Side::Value(v) => *v,
        }
    }

    /// True when any element satisfies `p` (for checks a kernel makes before its loop).
    pub(crate) fn any(&self, p: impl Fn(T) -> bool) -> bool {
        match self {
            Side::Array(v) => v.iter().any(|&x| p(x)),
            Side::Value(v) => p(*v),
        }
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn zip2<T: Copy, U>(a: &[T], b: &[T], o: &mut [U], f: impl Fn(T, T) -> U) {
    for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
fn zip1<T: Copy, U>(a: &[T], o: &mut [U], f: impl Fn(T) -> U) {
    for (o, &a) in o.iter_mut().zip(a) {
        *o = f(a);
    }
}

/// `o[i] = f(a[i], b[i])` for every combination of array and scalar operands: one tight loop per
/// case, with the scalar hoisted out of it, so every binary kernel shares one vectorizable shape.
#[inline(always)]
pub(crate) fn zip_sides<T: Copy, U>(
    a: Side<'_, T>,
    b: Side<'_, T>,
    o: &mut [U],
    f: impl Fn(T, T) -> U,
) {
    match (a, b) {
        (Side::Array(a), Side::Array(b)) => zip2(a, b, o, f),
        (Side::Array(a), Side::Value(s)) => zip1(a, o, |a| f(a, s)),
        (Side::Value(s), Side::Array(b)) => zip1(b, o, |b| f(s, b)),
        (Side::Value(s), Side::Value(t)) => o.iter_mut().for_each(|o| *o = f(s, t)),
    }
}

/// `o[i] = f(x[i])`, the unary counterpart of [`zip_sides`].
#[inline(always)]
pub(crate) fn map<T: Copy, U>(x: &[T], o: &mut [U], f: impl Fn(T) -> U) {
    zip1(x, o, f);
}

/// The two operands of a binary op's block: arrays from `inputs` in order, the scalar (if any,
/// converted to `T`) on its side.
pub(crate) fn sides<'a, T: crate::elementwise::num::Num>(
    op: &str,
    inputs: &[chunkwise_engine::Slice<'a>],
    scalar: Option<chunkwise_engine::Scalar>,
    scalar_first: bool,
) -> Result<(Side<'a, T>, Side<'a, T>)> {
    let array = |k: usize| {
        inputs
            .get(k)
            .copied()
            .and_then(T::from_slice)
            .map(Side::Array)
            .ok_or_else(|| crate::elementwise::dispatch::type_error(op, &[T::DTYPE]))
    };
    Ok(match scalar {
        None => (array(0)?, array(1)?),
        Some(s) if scalar_first => (Side::Value(T::from_scalar(s)), array(0)?),
        Some(s) => (array(0)?, Side::Value(T::from_scalar(s))),
    })
}

/// What `explain` shows of a binary op's operands: the scalar on its side (`0.5` for `x op 0.5`,
/// `0.5, array` for `0.5 op x`), nothing for two arrays.
pub(crate) fn describe_operands(
    scalar: Option<chunkwise_engine::Scalar>,
    scalar_first: bool,
) -> String {
    match (scalar, scalar_first) {
        (None, _) => String::new(),
        (Some(s), true) => format!("{s}, array"),
        (Some(s), false) => s.to_string(),
    }
}
