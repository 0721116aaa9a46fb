//! `chunkwise._chunkwise`: the Python extension module, a thin layer over the `chunkwise`
//! facade. It converts arguments and errors and releases the GIL while the engine runs; the
//! engine decides everything else. The `chunkwise` Python package around it (`pysrc/`) adds
//! the defaults (`chunkwise.config`), the progress bar and `open` for zarr-python arrays.

mod array;
mod convert;
mod dtypes;
mod errors;
mod index;
mod io;
mod ndimage;
mod operators;
mod reduce;
mod run;
mod shape_methods;
mod strong;
mod user_fn;
mod vocab;
mod write;

use pyo3::prelude::*;

/// The allocator the CLI runs with (see `chunkwise::RecyclingAllocator` for what it saves: a
/// run's large buffers recycled by size instead of faulted in again, 10-20% of a clip), for the
/// Rust side of the module only; NumPy and Python keep theirs. Runs hand it their freed task
/// buffers through `ExecOptions::buffer_pool` (see [`run`]).
#[global_allocator]
static ALLOCATOR: chunkwise::RecyclingAllocator<mimalloc::MiMalloc> =
    chunkwise::RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20);

/// The extension module; `chunkwise/__init__.py` re-exports its public names.
#[pymodule]
mod _chunkwise {
    #[pymodule_export]
    use super::array::{where_, LazyArray};
    #[pymodule_export]
    use super::errors::ChunkwiseError;
    #[pymodule_export]
    use super::io::{from_numpy, open};
    #[pymodule_export]
    use super::ndimage::{
        convolve, correlate, gaussian_filter, gaussian_gradient_magnitude, laplace, maximum_filter,
        median_filter, minimum_filter, sobel, uniform_filter,
    };
    #[pymodule_export]
    use super::reduce::{bincount, histogram, percentile, quantile, stats};
    #[pymodule_export]
    use super::vocab::{op, op_names};
    #[pymodule_export]
    use super::write::{write_pyramid, Pipeline};
}
