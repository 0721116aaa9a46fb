//! `map_regions`: the general form. The user gives the output's shape, chunks and type, the
//! chunk mapping (output region -> the region of each input it needs) and the function; the op
//! is an [`OpKind::Region`] op like a downsample, so the planner projects its memory from the
//! declared regions, orders and holds its tasks as it does the built-in ones.

use std::fmt::{self, Debug, Display};
use std::sync::Arc;

use chunkwise_engine::{
    Array, ArrayMeta, Buffer, Element, Error, Op, OpKind, Region, RegionData, Result,
};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use serde::Serialize;

use crate::user::call::{into_c_order, Signature};
use crate::user::{check_inputs, region_text, UserFn};

/// The chunk mapping: one region per input.
type MappingFn = dyn Fn(&Region) -> Vec<Region> + Send + Sync;

/// The closure over the input blocks and the output region, its error made text.
type RegionsFn<T, U> =
    dyn Fn(&[ArrayViewD<'_, T>], &Region) -> std::result::Result<ArrayD<U>, String> + Send + Sync;

/// A user's region function.
#[derive(Serialize)]
pub(crate) struct MapRegions<T, U> {
    #[serde(flatten)]
    signature: Signature,
    /// The output's shape and chunks (its type is the signature's).
    shape: Vec<u64>,
    chunks: Vec<u64>,
    /// The inputs' shapes, to check the mapping's regions against.
    input_shapes: Vec<Vec<u64>>,
    #[serde(skip)]
    mapping: Arc<MappingFn>,
    #[serde(skip)]
    f: Arc<RegionsFn<T, U>>,
}

impl<T, U> Debug for MapRegions<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapRegions")
            .field("signature", &self.signature)
            .field("shape", &self.shape)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

/// Computes an array of `shape` in chunks of `chunks` from `inputs` (all of element type `T`):
/// `mapping` says which region of each input (one per input, inside its bounds) an output
/// region needs, and `f` computes the output region (its second argument) from those input
/// blocks, in input order. A 3x mean downsample, a crop with a transform, a custom pyramid
/// level: anything whose input region is a computable function of the output region.
///
/// Both closures may be called on any output region (a chunk, a block of chunks, a chunk grown
/// by a consumer's halo), in any order, on several threads at once. The mapping is called
/// when planning as well as when running, and must answer the same each time.
///
/// # Errors
/// At build time, [`Error::Invalid`] for no inputs, a type mismatch (as
/// [`crate::user::UserFnExt::map_blocks`]), a bad shape or chunking, or a mapping that answers
/// badly for the first or last output chunk (wrong count, rank, or a region outside an
/// input). While running, an error naming the function and the output region when either
/// closure fails, panics, or `f` returns a block of another shape than the region's.
pub fn map_regions<T, U, E, M, F>(
    inputs: &[&Array],
    shape: &[u64],
    chunks: &[u64],
    function: impl Into<UserFn>,
    mapping: M,
    f: F,
) -> Result<Array>
where
    T: Element,
    U: Element,
    E: Display,
    M: Fn(&Region) -> Vec<Region> + Send + Sync + 'static,
    F: Fn(&[ArrayViewD<'_, T>], &Region) -> std::result::Result<ArrayD<U>, E>
        + Send
        + Sync
        + 'static,
{
    let signature = Signature::new::<T, U>("map_regions", &function.into())?;
    if inputs.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: map_regions needs at least one input array",
            signature.name
        )));
    }
    check_inputs::<T>(&signature.name, inputs)?;
    let meta = ArrayMeta::new(shape.to_vec(), chunks.to_vec(), U::DTYPE)
        .map_err(|e| Error::Invalid(format!("{}: {e}", signature.name)))?;
    let op = MapRegions {
        signature,
        shape: shape.to_vec(),
        chunks: chunks.to_vec(),
        input_shapes: inputs.iter().map(|x| x.shape().to_vec()).collect(),
        mapping: Arc::new(mapping),
        f: Arc::new(move |blocks: &[ArrayViewD<'_, T>], region: &Region| {
            f(blocks, region).map_err(|e| e.to_string())
        }),
    };
    // Most mapping mistakes show on the first or the last chunk: report them now, not mid-run.
    let grid = meta.grid();
    if grid.num_chunks() > 0 {
        let last: Vec<u64> = grid.grid_shape().iter().map(|n| n - 1).collect();
        for idx in [vec![0; shape.len()], last] {
            op.regions(&grid.chunk_region(&idx))?;
        }
    }
    Array::apply(Arc::new(op), inputs.iter().map(|&x| x.clone()).collect())
}

impl<T: Element, U: Element> MapRegions<T, U> {
    /// The mapping's answer for `output`, checked: one region per input, of its rank, inside
    /// its bounds.
    fn regions(&self, output: &Region) -> Result<Vec<Region>> {
        let name = &self.signature.name;
        let at = format!(" for output region {}", region_text(output));
        let regions = self
            .signature
            .call(&at, || Ok::<_, String>((self.mapping)(output)))?;
        if regions.len() != self.input_shapes.len() {
            return Err(Error::Invalid(format!(
                "the region mapping of {name} gave {} regions{at}; expected one per input ({})",
                regions.len(),
                self.input_shapes.len()
            )));
        }
        for (k, (r, shape)) in regions.iter().zip(&self.input_shapes).enumerate() {
            let inside = r.ndim() == shape.len()
                && r.start.len() == r.shape.len()
                && r.start
                    .iter()
                    .zip(&r.shape)
                    .zip(shape)
                    .all(|((s, n), len)| s.checked_add(*n).is_some_and(|e| e <= *len));
            if !inside {
                return Err(Error::Invalid(format!(
                    "the region mapping of {name} asked for {} of input {k}{at}, which is not \
                     inside its shape {shape:?}",
                    region_text(r)
                )));
            }
        }
        Ok(regions)
    }
}

impl<T: Element, U: Element> Op for MapRegions<T, U> {
    fn name(&self) -> &str {
        &self.signature.name
    }

    fn describe(&self) -> String {
        format!(
            "{}, shape={:?}, chunks={:?}",
            self.signature.describe(),
            self.shape,
            self.chunks
        )
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let shapes: Vec<&Vec<u64>> = inputs.iter().map(|m| &m.shape).collect();
        if shapes.len() != self.input_shapes.len()
            || shapes.iter().zip(&self.input_shapes).any(|(a, b)| *a != b)
        {
            return Err(Error::Invalid(format!(
                "internal: {} was built for inputs of shapes {:?}, given {shapes:?}",
                self.signature.name, self.input_shapes
            )));
        }
        ArrayMeta::new(self.shape.clone(), self.chunks.clone(), U::DTYPE)
    }

    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        // A bad answer cannot be an error here; a one-element stand-in lets planning go on,
        // and `compute_region` asks again and reports it.
        self.regions(output).unwrap_or_else(|_| {
            self.input_shapes
                .iter()
                .map(|s| Region::new(vec![0; s.len()], vec![1; s.len()]))
                .collect()
        })
    }

    fn scratch_bytes(&self, output: &Region) -> u64 {
        output.num_elements() * U::DTYPE.size() as u64 + self.signature.scratch
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        self.regions(output)?;
        let internal =
            |what: &str| Error::Invalid(format!("internal: {}: {what}", self.signature.name));
        let views = inputs
            .iter()
            .map(|d| {
                let data = T::slice_of(d.data).ok_or_else(|| internal("input of another type"))?;
                let shape: Vec<usize> = d.region.shape.iter().map(|&n| n as usize).collect();
                let mut view = ArrayViewD::from_shape(IxDyn(&shape), data)
                    .map_err(|e| internal(&e.to_string()))?;
                // The data may cover more than asked (a block task's shared read): view the box.
                view.slice_each_axis_inplace(|ax| {
                    let k = ax.axis.index();
                    let from = (d.asked.start[k] - d.region.start[k]) as isize;
                    Slice::from(from..from + d.asked.shape[k] as isize)
                });
                Ok(view)
            })
            .collect::<Result<Vec<_>>>()?;
        let at = format!(" for output region {}", region_text(output));
        let block = self.signature.call(&at, || (self.f)(&views, output))?;
        let expected: Vec<usize> = output.shape.iter().map(|&n| n as usize).collect();
        self.signature.check_shape(&block, &expected, &at)?;
        Ok(U::into_buffer(into_c_order(block)))
    }
}
