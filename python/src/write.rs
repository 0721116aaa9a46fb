//! Writing results: one array with `to_zarr`, several in one run with `Pipeline`, an OME-Zarr
//! pyramid with `write_pyramid`. An interrupted write removes what it created unless it was
//! asked to `resume` (the engine keeps it for a resume; a notebook user who pressed stop does
//! not expect half an array left behind).

use std::path::{Path, PathBuf};

use chunkwise::prelude::*;
use chunkwise::RunStats;
use pyo3::prelude::*;

use crate::array::LazyArray;
use crate::convert::{choice, codec, per_axis};
use crate::errors::invalid;
use crate::run::RunArgs;

/// The Zarr output settings every writing call takes, as keyword arguments.
fn write_options(
    ndim: usize,
    chunks: Option<&Bound<'_, PyAny>>,
    shards: Option<&Bound<'_, PyAny>>,
    codec_arg: Option<&Bound<'_, PyAny>>,
    zarr_format: u8,
    overwrite: bool,
    resume: bool,
) -> PyResult<WriteOptions> {
    let axes = |v: Option<&Bound<'_, PyAny>>, what| -> PyResult<Option<Vec<u64>>> {
        v.filter(|v| !v.is_none())
            .map(|v| per_axis(v, ndim, what))
            .transpose()
    };
    if overwrite && resume {
        return Err(invalid("pass overwrite=True or resume=True, not both"));
    }
    Ok(WriteOptions {
        zarr_format: ZarrFormat::try_from(zarr_format).map_err(invalid)?,
        chunks: axes(chunks, "chunks")?,
        shards: axes(shards, "shards")?,
        codec: codec_arg
            .filter(|c| !c.is_none())
            .map(codec)
            .transpose()?
            .unwrap_or_default(),
        overwrite: if resume {
            Overwrite::Resume
        } else if overwrite {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        },
        ..WriteOptions::default()
    })
}

/// Runs a write; when the user interrupts it, removes `outputs` unless resuming (they did not
/// exist before the call, or `overwrite=True` gave them up).
fn write<R: Send>(
    py: Python<'_>,
    args: &RunArgs<'_>,
    label: &str,
    outputs: &[&Path],
    resume: bool,
    work: impl FnOnce(&ExecOptions) -> chunkwise::Result<R> + Send,
) -> PyResult<R> {
    let result = args.run(py, label, work);
    if let Err(e) = &result {
        if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) && !resume {
            for path in outputs {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
    result
}

/// Run statistics as a dict: tasks, skipped_tasks (already stored when resuming), seconds,
/// peak projected memory and bytes spilled.
fn stats_dict<'py>(py: Python<'py>, stats: &RunStats) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("tasks", stats.tasks)?;
    d.set_item("skipped_tasks", stats.skipped_tasks)?;
    d.set_item("seconds", stats.elapsed.as_secs_f64())?;
    d.set_item("peak_projected_bytes", stats.peak_projected_bytes)?;
    d.set_item("spilled_bytes", stats.spilled_bytes)?;
    Ok(d)
}

#[pymethods]
impl LazyArray {
    /// Computes the array chunk by chunk and writes it to a new Zarr array at `path`
    /// (`zarr_format` 3 or 2; `chunks`/`shards` default to the expression's chunking;
    /// `codec` "zstd" (default), "gzip", "blosc", "none" or a dict such as
    /// `{"name": "zstd", "level": 3}`). Returns run statistics as a dict.
    #[pyo3(signature = (path, *, chunks=None, shards=None, codec=None, zarr_format=3, overwrite=false, resume=false, threads=None, memory_limit=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn to_zarr<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        chunks: Option<Bound<'py, PyAny>>,
        shards: Option<Bound<'py, PyAny>>,
        codec: Option<Bound<'py, PyAny>>,
        zarr_format: u8,
        overwrite: bool,
        resume: bool,
        threads: Option<usize>,
        memory_limit: Option<Bound<'py, PyAny>>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let options = write_options(
            self.inner.shape().len(),
            chunks.as_ref(),
            shards.as_ref(),
            codec.as_ref(),
            zarr_format,
            overwrite,
            resume,
        )?;
        let args = RunArgs {
            threads,
            memory_limit,
            progress,
        };
        let x = &self.inner;
        let stats = write(py, &args, "to_zarr", &[&path], resume, |exec| {
            x.to_zarr(&path, &options, exec)
        })?;
        stats_dict(py, &stats)
    }
}

/// Writes `x` and `levels` downsampled levels as an OME-Zarr multiscale image at `path`
/// (arrays "0", "1", ...): `method` mean, min, max, median, mode or stride; `factors` per axis
/// (default 2 on space axes); `axes` such as `["z", "y", "x"]` or `"c:channel"` entries; `unit`
/// and `scale` for the NGFF metadata; v2 gives NGFF 0.4, v3 NGFF 0.5.
#[pyfunction]
#[pyo3(signature = (x, path, *, levels=3, method="mean", factors=None, axes=None, unit=None, scale=None, chunks=None, shards=None, codec=None, zarr_format=3, overwrite=false, resume=false, threads=None, memory_limit=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn write_pyramid<'py>(
    py: Python<'py>,
    x: &Bound<'py, LazyArray>,
    path: PathBuf,
    levels: usize,
    method: &str,
    factors: Option<Bound<'py, PyAny>>,
    axes: Option<Vec<String>>,
    unit: Option<String>,
    scale: Option<Bound<'py, PyAny>>,
    chunks: Option<Bound<'py, PyAny>>,
    shards: Option<Bound<'py, PyAny>>,
    codec: Option<Bound<'py, PyAny>>,
    zarr_format: u8,
    overwrite: bool,
    resume: bool,
    threads: Option<usize>,
    memory_limit: Option<Bound<'py, PyAny>>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let x = &x.get().inner;
    let ndim = x.shape().len();
    let options = PyramidOptions {
        levels,
        method: choice(method, "method", "mean, min, max, median, mode or stride")?,
        factors: factors
            .filter(|f| !f.is_none())
            .map(|f| per_axis(&f, ndim, "factors"))
            .transpose()?,
        axes,
        unit,
        scale: scale
            .filter(|s| !s.is_none())
            .map(|s| per_axis(&s, ndim, "scale"))
            .transpose()?,
        write: write_options(
            ndim,
            chunks.as_ref(),
            shards.as_ref(),
            codec.as_ref(),
            zarr_format,
            overwrite,
            resume,
        )?,
    };
    let args = RunArgs {
        threads,
        memory_limit,
        progress,
    };
    let stats = write(py, &args, "pyramid", &[&path], resume, |exec| {
        chunkwise::prelude::write_pyramid(x, &path, &options, exec)
    })?;
    stats_dict(py, &stats)
}

/// Several outputs computed in one run: sub-expressions they share are computed once per chunk
/// when the outputs share a chunk grid. `p.to_zarr(x, "a.zarr"); p.to_zarr(y, "b.zarr");
/// p.run()`.
#[pyclass(module = "chunkwise")]
#[derive(Default)]
pub struct Pipeline {
    outputs: Vec<(Array, PathBuf, WriteOptions)>,
}

#[pymethods]
impl Pipeline {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Adds `x` written to a Zarr array at `path`, with `to_zarr`'s output settings.
    #[pyo3(name = "to_zarr", signature = (x, path, *, chunks=None, shards=None, codec=None, zarr_format=3, overwrite=false))]
    #[allow(clippy::too_many_arguments)]
    fn add_zarr_output(
        &mut self,
        x: &Bound<'_, LazyArray>,
        path: PathBuf,
        chunks: Option<Bound<'_, PyAny>>,
        shards: Option<Bound<'_, PyAny>>,
        codec: Option<Bound<'_, PyAny>>,
        zarr_format: u8,
        overwrite: bool,
    ) -> PyResult<()> {
        let x = x.get().inner.clone();
        let options = write_options(
            x.shape().len(),
            chunks.as_ref(),
            shards.as_ref(),
            codec.as_ref(),
            zarr_format,
            overwrite,
            false,
        )?;
        self.outputs.push((x, path, options));
        Ok(())
    }

    /// Runs every output in one run; returns run statistics as a dict.
    #[pyo3(signature = (*, threads=None, memory_limit=None, progress=None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        threads: Option<usize>,
        memory_limit: Option<Bound<'py, PyAny>>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        if self.outputs.is_empty() {
            return Err(invalid(
                "the pipeline has no outputs; add them with to_zarr",
            ));
        }
        let args = RunArgs {
            threads,
            memory_limit,
            progress,
        };
        let paths: Vec<&Path> = self.outputs.iter().map(|(_, p, _)| p.as_path()).collect();
        let outputs = &self.outputs;
        let stats = write(py, &args, "pipeline", &paths, false, |exec| {
            let mut p = chunkwise::Pipeline::new();
            for (x, path, options) in outputs {
                p.write_zarr(x, path, options)?;
            }
            p.run(exec)
        })?;
        stats_dict(py, &stats)
    }

    fn __len__(&self) -> usize {
        self.outputs.len()
    }
}
