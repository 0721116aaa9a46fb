//! `chunkwise._chunkwise`: the Python extension module, a thin layer over the `chunkwise`
//! facade. It converts arguments and errors and releases the GIL while the engine runs; the
//! engine decides everything else. The `chunkwise` Python package around it (`pysrc/`) adds
//! the defaults (`chunkwise.config`), the progress bar and `open` for zarr-python arrays.

mod array;
mod convert;
mod dtypes;
mod errors;
mod io;
mod ndimage;
mod run;
mod user_fn;
mod write;

use pyo3::prelude::*;

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
    use super::write::{write_pyramid, Pipeline};
}
