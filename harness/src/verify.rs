//! The correctness guard: a peer's output must equal chunkwise's (within the pipeline's
//! tolerance) before its times count. Arrays are compared slab by slab through chunkwise's Zarr
//! reader, so any size fits in memory.

use std::path::Path;

use chunkwise::engine::dispatch;
use chunkwise::engine::store::{IoContext, Source};
use chunkwise::store::open_zarr;
use chunkwise::{Buffer, Region};

use crate::pipelines::{Limit, Pipeline, Tolerance};
use crate::tools::Peer;

/// Planes per slab read.
const SLAB: u64 = 32;

/// Compares `ours` with `theirs` (under each of `arrays`, "" for the array itself).
///
/// # Errors
/// A description of the first mismatch (shape, or values beyond `tolerance`).
pub fn outputs_agree(
    ours: &Path,
    theirs: &Path,
    arrays: &[&str],
    tolerance: Tolerance,
) -> Result<String, String> {
    let mut details = Vec::new();
    for sub in arrays {
        let (a, b) = (ours.join(sub), theirs.join(sub));
        let a = open_zarr(&a).map_err(|e| format!("reading {}: {e}", a.display()))?;
        let b = open_zarr(&b).map_err(|e| format!("reading {}: {e}", b.display()))?;
        let (shape_a, shape_b) = (&a.meta().shape, &b.meta().shape);
        if shape_a != shape_b || shape_a.is_empty() {
            return Err(format!("{sub}: shape {shape_a:?} vs {shape_b:?}"));
        }
        let worst = max_difference(&a, &b, tolerance)?;
        let label = if sub.is_empty() {
            String::new()
        } else {
            format!("level {sub}: ")
        };
        details.push(format!("{label}{worst}"));
    }
    Ok(details.join(", "))
}

/// Compares the numbers of two JSON outputs of `pipeline` (chunkwise's `ours`, `peer`'s
/// `theirs`) within the pipeline's absolute tolerance.
///
/// # Errors
/// A description of the first mismatch (count, or a value beyond the tolerance).
pub fn numbers_agree(
    pipeline: Pipeline,
    ours: &Path,
    theirs: &Path,
    peer: Peer,
) -> Result<String, String> {
    let read = |p: &Path| -> Result<Vec<f64>, String> {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
        let value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(pipeline.json_numbers(&value))
    };
    let (a, b) = (read(ours)?, read(theirs)?);
    if a.len() != b.len() || a.is_empty() {
        return Err(format!("{} numbers vs {}", a.len(), b.len()));
    }
    let worst = a
        .iter()
        .zip(&b)
        .map(|(p, q)| if p == q { 0.0 } else { (p - q).abs() })
        .fold(
            0.0,
            |m: f64, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
        );
    let Limit::Absolute(limit) = pipeline.tolerance(peer).limit else {
        return Err("a JSON output takes an absolute tolerance".into());
    };
    let text = format!("{} numbers, max difference {worst}", a.len());
    if worst <= limit {
        Ok(text)
    } else {
        Err(format!("{text} (allowed {limit})"))
    }
}

fn max_difference(a: &dyn Source, b: &dyn Source, tolerance: Tolerance) -> Result<String, String> {
    let shape = a.meta().shape.clone();
    let io = IoContext {
        codec_threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        cache_bytes: 0,
        ..IoContext::default()
    };
    let (mut worst, mut excess, mut largest) = (0.0f64, f64::NEG_INFINITY, 0.0f64);
    let mut start = 0;
    while start < shape[0] {
        let mut region = Region::whole(&shape);
        region.start[0] = start;
        region.shape[0] = SLAB.min(shape[0] - start);
        let x = values(&a.read(&region, &io).map_err(|e| e.to_string())?);
        let y = values(&b.read(&region, &io).map_err(|e| e.to_string())?);
        let strides = chunkwise::engine::geometry::strides(&region.shape);
        for (i, (&p, &q)) in x.iter().zip(&y).enumerate() {
            if (p.is_nan() && q.is_nan())
                || near_face(i, &region, &strides, &shape, tolerance.margin)
            {
                continue;
            }
            let d = (p - q).abs();
            worst = worst.max(if d.is_nan() { f64::INFINITY } else { d });
            largest = largest.max(q.abs());
            if let Limit::Relative(rel) = tolerance.limit {
                // A NaN on one side only is a mismatch, not a value to skip.
                let over = if d.is_nan() {
                    f64::INFINITY
                } else {
                    d - rel * q.abs()
                };
                excess = excess.max(over);
            }
        }
        start += SLAB;
    }
    let ok = match tolerance.limit {
        Limit::Absolute(limit) => worst <= limit,
        Limit::Relative(rel) => excess <= rel * largest,
    };
    let text = format!("max difference {worst}");
    if ok {
        Ok(text)
    } else {
        Err(format!("{text} (allowed {tolerance:?})"))
    }
}

/// Whether element `i` of a C-order block over `region` lies within `margin` of a face of an
/// array of `shape`.
fn near_face(i: usize, region: &Region, strides: &[usize], shape: &[u64], margin: u64) -> bool {
    margin > 0
        && strides.iter().enumerate().any(|(d, &s)| {
            let at = region.start[d] + ((i / s) as u64 % region.shape[d]);
            at < margin || at + margin >= shape[d]
        })
}

fn values(b: &Buffer) -> Vec<f64> {
    dispatch!(Buffer, b, v => v.iter().map(|&x| as_f64(x)).collect())
}

/// A value as f64 (bools as 0/1).
fn as_f64<T: Into<Number>>(x: T) -> f64 {
    x.into().0
}

/// f64 conversion for every element type.
struct Number(f64);

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn from(v: $t) -> Self {
                Number(v as f64)
            }
        }
    )*};
}
number_from!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl From<bool> for Number {
    fn from(v: bool) -> Self {
        Number(f64::from(u8::from(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_leaves_out_elements_near_any_face() {
        let shape = [10u64, 10];
        let region = Region::new(vec![2, 0], vec![3, 10]);
        let strides = chunkwise::engine::geometry::strides(&region.shape);
        // Row 2 (absolute) is within 3 of the face at 0; element (3, 5) is not near any face.
        assert!(near_face(5, &region, &strides, &shape, 3));
        assert!(!near_face(15, &region, &strides, &shape, 3));
        assert!(near_face(10, &region, &strides, &shape, 3), "column 0");
        assert!(!near_face(5, &region, &strides, &shape, 0));
    }
}
