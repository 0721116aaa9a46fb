//! Computing small results (full reductions, histograms) into memory, several in one run.

use std::sync::Arc;

use chunkwise_engine::store::MemorySink;
use chunkwise_engine::{execute, Array, Buffer, ExecOptions, Output, Plan, Result};

/// Computes `arrays` (small: reductions) in one run and returns their values, C order.
///
/// # Errors
/// Planning and run errors.
pub fn compute_small(arrays: &[Array], exec: &ExecOptions) -> Result<Vec<Buffer>> {
    let sinks: Vec<Arc<MemorySink>> = arrays
        .iter()
        .map(|a| Arc::new(MemorySink::new(a.meta().clone())))
        .collect();
    let outputs = arrays
        .iter()
        .zip(&sinks)
        .map(|(a, s)| Output {
            array: a.clone(),
            sink: s.clone(),
        })
        .collect();
    execute(&Plan::build(outputs, exec)?, exec)?;
    Ok(sinks.iter().map(|s| s.take()).collect())
}

/// The values of a small result as float64 (bool as 0/1).
pub fn as_f64(b: &Buffer) -> Vec<f64> {
    chunkwise_engine::dispatch!(Buffer, b, v => v.iter().map(|&x| to_f64(x)).collect())
}

fn to_f64<T: Copy + 'static>(x: T) -> f64 {
    let any = &x as &dyn std::any::Any;
    macro_rules! try_as {
        ($($t:ty),*) => {$(
            if let Some(v) = any.downcast_ref::<$t>() {
                return *v as f64;
            }
        )*};
    }
    if let Some(b) = any.downcast_ref::<bool>() {
        return f64::from(u8::from(*b));
    }
    try_as!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    f64::NAN
}
