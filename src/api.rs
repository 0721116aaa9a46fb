//! The Rust API: open or wrap arrays, then write or compute results, one output or several.

use std::path::Path;
use std::sync::Arc;

use chunkwise_engine::plan::human_bytes;
use chunkwise_engine::store::{MemorySink, MemorySource, Sink};
use chunkwise_engine::{
    execute, Array, Element, Error, ExecOptions, Output, Plan, Result, RunStats,
};
use chunkwise_store::{open_zarr, WriteOptions, ZarrSink};
use ndarray::ArrayD;

/// Opens the Zarr array (v2 or v3) at `path` as a lazy [`Array`].
///
/// # Errors
/// [`Error::MissingArray`] when no array is there; [`Error::Invalid`] for unsupported data types.
pub fn open(path: impl AsRef<Path>) -> Result<Array> {
    Ok(Array::from_source(Arc::new(open_zarr(path)?)))
}

/// Wraps an in-memory array as a lazy [`Array`] cut into chunks of `chunks`.
///
/// # Errors
/// [`Error::Invalid`] when `chunks` does not match the array's dimensionality or has a zero.
pub fn from_ndarray<T: Element>(data: ArrayD<T>, chunks: &[u64]) -> Result<Array> {
    let shape: Vec<u64> = data.shape().iter().map(|&n| n as u64).collect();
    let flat: Vec<T> = if data.is_standard_layout() {
        data.into_raw_vec_and_offset().0
    } else {
        data.iter().copied().collect()
    };
    let source = MemorySource::new(T::into_buffer(flat), shape, chunks.to_vec())?;
    Ok(Array::from_source(Arc::new(source)))
}

/// Several outputs computed in one run; sub-expressions they share are computed once per chunk
/// when the outputs share a chunk grid.
#[derive(Debug, Default)]
pub struct Pipeline {
    outputs: Vec<Output>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an output written to a Zarr array at `path`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for bad chunk, shard or codec options.
    pub fn write_zarr(
        &mut self,
        array: &Array,
        path: impl AsRef<Path>,
        options: &WriteOptions,
    ) -> Result<&mut Self> {
        let sink = zarr_sink(array, path, options)?;
        self.outputs.push(Output {
            array: array.clone(),
            sink: Arc::new(sink),
        });
        Ok(self)
    }

    /// The outputs added so far.
    pub fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    /// Adds an output to any sink.
    pub fn write_to(&mut self, array: &Array, sink: Arc<dyn Sink>) -> &mut Self {
        self.outputs.push(Output {
            array: array.clone(),
            sink,
        });
        self
    }

    /// Validates and plans the run without touching data.
    ///
    /// # Errors
    /// See [`Plan::build`].
    pub fn plan(&self, exec: &ExecOptions) -> Result<Plan> {
        Plan::build(self.outputs.clone(), exec)
    }

    /// Plans and runs.
    ///
    /// # Errors
    /// Planning errors, then the first task error (outputs are removed on failure).
    pub fn run(&self, exec: &ExecOptions) -> Result<RunStats> {
        execute(&self.plan(exec)?, exec)
    }
}

/// The Zarr sink writing `array` to `path`, its run identity ([`ZarrSink::run_identity`])
/// recording the expression.
///
/// # Errors
/// [`Error::Invalid`] for bad chunk, shard or codec options.
pub(crate) fn zarr_sink(
    array: &Array,
    path: impl AsRef<Path>,
    options: &WriteOptions,
) -> Result<ZarrSink> {
    Ok(ZarrSink::new(
        path,
        array.shape().to_vec(),
        array.meta().chunks.clone(),
        array.dtype(),
        options,
    )?
    .with_expression(chunkwise_engine::identity::expression(array)))
}

/// Running methods on [`Array`].
pub trait ArrayExt {
    /// Computes and writes the array to a new Zarr array at `path`.
    ///
    /// # Errors
    /// As [`Pipeline::run`].
    fn to_zarr(
        &self,
        path: impl AsRef<Path>,
        options: &WriteOptions,
        exec: &ExecOptions,
    ) -> Result<RunStats>;

    /// Computes the whole array into memory as an `ndarray` of element type `T` (which must be
    /// the array's dtype). The result counts against `exec.memory_limit`: the run gets what
    /// the result leaves.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `T` is not the array's type, or when the result alone does not fit
    /// in the memory limit (write it with [`ArrayExt::to_zarr`] instead); run errors.
    fn compute<T: Element>(&self, exec: &ExecOptions) -> Result<ArrayD<T>>;

    /// The plan [`ArrayExt::compute`] would run with, as text (stages, fused ops, tasks, memory).
    ///
    /// # Errors
    /// Planning errors.
    fn explain(&self, exec: &ExecOptions) -> Result<String>;

    /// The plan computing this array into memory would run with (stages, tasks, memory), under
    /// the memory limit less the result, as [`ArrayExt::compute`] runs it.
    ///
    /// # Errors
    /// Planning errors; as [`ArrayExt::compute`] when the result alone does not fit.
    fn plan(&self, exec: &ExecOptions) -> Result<Plan>;
}

impl ArrayExt for Array {
    fn to_zarr(
        &self,
        path: impl AsRef<Path>,
        options: &WriteOptions,
        exec: &ExecOptions,
    ) -> Result<RunStats> {
        Pipeline::new().write_zarr(self, path, options)?.run(exec)
    }

    fn compute<T: Element>(&self, exec: &ExecOptions) -> Result<ArrayD<T>> {
        if T::DTYPE != self.dtype() {
            return Err(Error::Invalid(format!(
                "compute::<{}>() on an array of {}; call astype first or use the matching type",
                T::DTYPE,
                self.dtype()
            )));
        }
        let run_options = in_memory_options(self, exec)?;
        let sink = Arc::new(MemorySink::new(self.meta().clone()));
        Pipeline::new()
            .write_to(self, sink.clone())
            .run(&run_options)?;
        let data = T::from_buffer(sink.take())
            .ok_or_else(|| Error::Invalid("internal: memory sink changed type".into()))?;
        let shape: Vec<usize> = self.shape().iter().map(|&n| n as usize).collect();
        ArrayD::from_shape_vec(shape, data).map_err(|e| Error::Invalid(e.to_string()))
    }

    fn explain(&self, exec: &ExecOptions) -> Result<String> {
        Ok(ArrayExt::plan(self, exec)?.explain())
    }

    fn plan(&self, exec: &ExecOptions) -> Result<Plan> {
        let sink = Arc::new(MemorySink::new(self.meta().clone()));
        Pipeline::new()
            .write_to(self, sink)
            .plan(&in_memory_options(self, exec)?)
    }
}

/// The run settings for computing `array` into memory: the result is held whole, so the run gets
/// the memory limit less the result.
///
/// # Errors
/// [`Error::Invalid`] when the result alone does not fit in the limit.
fn in_memory_options(array: &Array, exec: &ExecOptions) -> Result<ExecOptions> {
    let result_bytes = array
        .meta()
        .num_elements()
        .saturating_mul(array.dtype().size() as u64);
    if result_bytes >= exec.memory_limit {
        return Err(Error::Invalid(format!(
            "the result is {} and does not fit in the memory limit of {}; write it to Zarr with \
             to_zarr, or raise the limit",
            human_bytes(result_bytes),
            human_bytes(exec.memory_limit)
        )));
    }
    Ok(ExecOptions {
        memory_limit: exec.memory_limit - result_bytes,
        ..exec.clone()
    })
}
