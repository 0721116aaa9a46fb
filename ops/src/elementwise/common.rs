//! Validation shared by the element-wise ops.

use chunkwise_engine::{ArrayMeta, DType, Error, Result};

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
