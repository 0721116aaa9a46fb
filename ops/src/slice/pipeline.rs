//! Indexing and manipulation ops in pipeline files, under NumPy's and the array API's names and
//! parameter names (`axis` takes an integer or a list where NumPy takes an int or a tuple).

use chunkwise_engine::exec::{default_memory_limit, parse_bytes};
use chunkwise_engine::{Error, Registry, Result, Scalar, Steps};
use serde::Deserialize;

use super::{
    broadcast_to, concat, expand_dims, flip, moveaxis, pad, permute_dims, rechunk, repeat, reshape,
    roll, slice, squeeze, stack, tile, PadMode,
};
use crate::pipeline::PerAxis;

/// `slice`: `x[index]`, the index in NumPy's syntax (`"100:900, :, ::-2"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Slice {
    x: String,
    index: String,
}

/// `flip` and `squeeze`: `f(x, axis=None)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionalAxes {
    x: String,
    #[serde(default)]
    axis: Option<PerAxis<i64>>,
}

/// `roll(x, shift, axis=None)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Roll {
    x: String,
    shift: PerAxis<i64>,
    #[serde(default)]
    axis: Option<PerAxis<i64>>,
}

/// `permute_dims(x, axes)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermuteDims {
    x: String,
    axes: Vec<i64>,
}

/// `moveaxis(x, source, destination)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveAxis {
    x: String,
    source: PerAxis<i64>,
    destination: PerAxis<i64>,
}

/// `expand_dims(x, axis)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpandDims {
    x: String,
    axis: PerAxis<i64>,
}

/// `broadcast_to(x, shape)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastTo {
    x: String,
    shape: Vec<u64>,
}

/// `reshape(x, shape)` (one extent may be -1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reshape {
    x: String,
    shape: Vec<i64>,
}

/// `rechunk(x, chunks, max_mem)`: `max_mem` the run's memory limit (a size such as "256MiB" or
/// a byte count; half of RAM when left out, as the run's default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rechunk {
    x: String,
    chunks: Vec<u64>,
    #[serde(default)]
    max_mem: Option<Size>,
}

/// A size in bytes: a count or text such as "256MiB".
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

impl Rechunk {
    fn max_mem(&self) -> Result<u64> {
        match &self.max_mem {
            None => Ok(default_memory_limit()),
            Some(Size::Bytes(n)) => Ok(*n),
            Some(Size::Text(text)) => parse_bytes(text),
        }
    }
}

/// `repeat(x, repeats, axis=None)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    x: String,
    repeats: i64,
    #[serde(default)]
    axis: Option<i64>,
}

/// `tile(x, reps)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tile {
    x: String,
    reps: PerAxis<i64>,
}

/// `pad_width` as NumPy takes it: `n`, `[n]`, `[before, after]`, or `[[before, after], ...]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum PadWidth {
    One(i64),
    Flat(Vec<i64>),
    Pairs(Vec<Vec<i64>>),
}

impl PadWidth {
    /// The `(before, after)` pairs.
    fn pairs(&self) -> Result<Vec<[i64; 2]>> {
        let pair = |v: &[i64]| match *v {
            [n] => Ok([n, n]),
            [b, a] => Ok([b, a]),
            _ => Err(Error::Invalid(format!(
                "pad_width: {v:?} is not a width or a (before, after) pair"
            ))),
        };
        match self {
            PadWidth::One(n) => Ok(vec![[*n, *n]]),
            PadWidth::Flat(v) => Ok(vec![pair(v)?]),
            PadWidth::Pairs(v) => v.iter().map(|p| pair(p)).collect(),
        }
    }
}

/// `pad(x, pad_width, mode="constant", constant_values=0)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pad {
    x: String,
    pad_width: PadWidth,
    #[serde(default)]
    mode: PadMode,
    #[serde(default)]
    constant_values: Option<Scalar>,
}

/// `concat(arrays, axis=0)` and `stack(arrays, axis=0)`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    arrays: Vec<String>,
    #[serde(default)]
    axis: i64,
}

impl Join {
    fn arrays(&self, s: &Steps<'_>) -> Result<Vec<chunkwise_engine::Array>> {
        self.arrays.iter().map(|a| s.array(a)).collect()
    }
}

/// Registers the indexing and manipulation ops.
pub fn register(r: &mut Registry) -> &mut Registry {
    r.register("slice", |p: Slice, s: &Steps<'_>| {
        slice(&s.array(&p.x)?, &p.index)
    })
    .register("flip", |p: OptionalAxes, s: &Steps<'_>| {
        flip(&s.array(&p.x)?, p.axis.map(|a| a.to_vec()).as_deref())
    })
    .register("squeeze", |p: OptionalAxes, s: &Steps<'_>| {
        squeeze(&s.array(&p.x)?, p.axis.map(|a| a.to_vec()).as_deref())
    })
    .register("roll", |p: Roll, s: &Steps<'_>| {
        let axis = p.axis.map(|a| a.to_vec());
        roll(&s.array(&p.x)?, &p.shift.to_vec(), axis.as_deref())
    })
    .register("permute_dims", |p: PermuteDims, s: &Steps<'_>| {
        permute_dims(&s.array(&p.x)?, &p.axes)
    })
    .register("moveaxis", |p: MoveAxis, s: &Steps<'_>| {
        moveaxis(&s.array(&p.x)?, &p.source.to_vec(), &p.destination.to_vec())
    })
    .register("expand_dims", |p: ExpandDims, s: &Steps<'_>| {
        expand_dims(&s.array(&p.x)?, &p.axis.to_vec())
    })
    .register("broadcast_to", |p: BroadcastTo, s: &Steps<'_>| {
        broadcast_to(&s.array(&p.x)?, &p.shape)
    })
    .register("reshape", |p: Reshape, s: &Steps<'_>| {
        reshape(&s.array(&p.x)?, &p.shape)
    })
    .register("rechunk", |p: Rechunk, s: &Steps<'_>| {
        rechunk(&s.array(&p.x)?, &p.chunks, p.max_mem()?)
    })
    .register("repeat", |p: Repeat, s: &Steps<'_>| {
        repeat(&s.array(&p.x)?, p.repeats, p.axis)
    })
    .register("tile", |p: Tile, s: &Steps<'_>| {
        tile(&s.array(&p.x)?, &p.reps.to_vec())
    })
    .register("pad", |p: Pad, s: &Steps<'_>| {
        pad(
            &s.array(&p.x)?,
            &p.pad_width.pairs()?,
            p.mode,
            p.constant_values,
        )
    })
    .register("concat", |p: Join, s: &Steps<'_>| {
        concat(&p.arrays(s)?, p.axis)
    })
    .register("stack", |p: Join, s: &Steps<'_>| {
        stack(&p.arrays(s)?, p.axis)
    })
}
