//! `chunkwise preview`: one 2-D slice of an array or of a pipeline's step as a PNG (gray,
//! viridis or magma), and optionally its histogram.
//! The slice is taken lazily ([`chunkwise_ops::slice::take`]), so on a pipeline only the
//! chunks the slice needs (through halos and resampling) are computed.

use std::path::{Path, PathBuf};

use chunkwise_engine::{Error, Registry, Result};
use chunkwise_ops::reduce::{as_f64, compute_small, stats, Stats, StatsOptions};
use chunkwise_ops::slice::take;

use crate::cli::args::ExecArgs;
use crate::cli::colormap::{Colormap, Pixels};
use crate::cli::histogram_png::{write_histogram, HistogramPlot};
use crate::cli::stats::target;
use crate::cli::Pool;

/// What `chunkwise preview` was asked.
pub(super) struct PreviewArgs {
    pub(super) step: Option<String>,
    pub(super) axis: String,
    pub(super) index: u64,
    pub(super) output: PathBuf,
    pub(super) contrast: Vec<f64>,
    pub(super) range: Option<Vec<f64>>,
    pub(super) colormap: Colormap,
    pub(super) histogram: Option<PathBuf>,
    pub(super) overwrite: bool,
}

/// An axis by number or by name (`z`, `y`, `x`: the last three axes).
fn axis_number(axis: &str, ndim: usize) -> Result<usize> {
    let from_end = match axis {
        "x" => Some(1),
        "y" => Some(2),
        "z" => Some(3),
        _ => None,
    };
    let n = match from_end {
        Some(k) if k <= ndim => ndim - k,
        Some(_) => ndim,
        None => axis.parse().map_err(|_| {
            Error::Invalid(format!(
                "--axis {axis:?} is neither z, y, x nor an axis number"
            ))
        })?,
    };
    if n >= ndim {
        return Err(Error::Invalid(format!(
            "axis {axis} is out of range for an array of {ndim} dimensions"
        )));
    }
    Ok(n)
}

/// Where the display range comes from.
enum Contrast {
    /// `--range LO,HI`.
    Fixed(f64, f64),
    /// `--contrast P,Q`: these percentiles of the slice.
    Percentiles(f64, f64),
}

impl Contrast {
    fn from_args(args: &PreviewArgs) -> Result<Contrast> {
        if let Some(r) = &args.range {
            return match r.as_slice() {
                [lo, hi] if lo < hi => Ok(Contrast::Fixed(*lo, *hi)),
                [lo, hi] => Err(Error::Invalid(format!("--range {lo},{hi} needs LO < HI"))),
                _ => Err(Error::Invalid("--range takes LO,HI".into())),
            };
        }
        match args.contrast.as_slice() {
            [a, b] if a < b => Ok(Contrast::Percentiles(*a, *b)),
            _ => Err(Error::Invalid(
                "--contrast takes two percentiles LO,HI with LO < HI".into(),
            )),
        }
    }

    /// The percentiles [`stats`] must compute.
    fn percentiles(&self) -> Vec<f64> {
        match *self {
            Contrast::Fixed(..) => Vec::new(),
            Contrast::Percentiles(a, b) => vec![a, b],
        }
    }

    /// The values shown as black and white, given the slice's [`stats`].
    fn limits(&self, summary: &Stats) -> (f64, f64) {
        match *self {
            Contrast::Fixed(lo, hi) => (lo, hi),
            Contrast::Percentiles(..) => {
                let value = |k: usize| summary.percentiles.get(k).map_or(f64::NAN, |p| p.1);
                (value(0), value(1))
            }
        }
    }
}

/// Refuses to replace `path` unless `--overwrite`.
fn check_new(path: &Path, overwrite: bool) -> Result<()> {
    if path.exists() && !overwrite {
        return Err(Error::OutputExists(path.display().to_string()));
    }
    Ok(())
}

fn write_png(path: &Path, width: u32, height: u32, pixels: &Pixels) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Invalid(format!("writing {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(pixels.color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    writer.write_image_data(&pixels.bytes).map_err(|e| fail(&e))
}

/// Runs `chunkwise preview`.
pub(super) fn run_preview(
    input: &Path,
    args: &PreviewArgs,
    exec: &ExecArgs,
    registry: &Registry,
    pool: Pool,
) -> Result<()> {
    check_new(&args.output, args.overwrite)?;
    if let Some(h) = &args.histogram {
        check_new(h, args.overwrite)?;
    }
    let contrast = Contrast::from_args(args)?;
    let x = target(input, args.step.as_deref(), registry)?;
    let axis = axis_number(&args.axis, x.shape().len())?;
    let slice = take(&x, axis, args.index)?;
    let [height, width] = slice.shape() else {
        return Err(Error::Invalid(format!(
            "a slice of a {}-d array is not 2-d; preview takes 3-d arrays",
            x.shape().len()
        )));
    };
    let (height, width) = (*height, *width);
    if width > u64::from(u32::MAX) || height > u64::from(u32::MAX) {
        return Err(Error::Invalid("the slice is too large for a PNG".into()));
    }
    let options = exec.options(pool)?;
    let values = as_f64(&compute_small(&[slice], &options)?[0]);
    let in_memory = crate::from_ndarray(
        ndarray::ArrayD::from_shape_vec(vec![height as usize, width as usize], values.clone())
            .map_err(|e| Error::Invalid(e.to_string()))?,
        &[height, width],
    )?;
    let bins = if args.histogram.is_some() { 256 } else { 0 };
    let summary = stats(
        &in_memory,
        &StatsOptions::new(bins, &contrast.percentiles()),
        &options,
    )?;
    let (lo, hi) = contrast.limits(&summary);
    let pixels = args.colormap.paint(&values, lo, hi);
    write_png(&args.output, width as u32, height as u32, &pixels)?;
    if let Some(path) = &args.histogram {
        let title = format!("{} = {}: {height} x {width} values", args.axis, args.index);
        let plot = HistogramPlot {
            edges: &summary.edges,
            counts: &summary.histogram,
            display: (lo, hi),
            title: &title,
        };
        if let Err(e) = write_histogram(path, &plot) {
            // Both images or neither: the slice alone would look like a finished preview.
            let _ = std::fs::remove_file(&args.output);
            return Err(e);
        }
    }
    if !exec.quiet {
        eprintln!(
            "{} x {} slice at {} = {} -> {} ({:?} {lo} .. {hi})",
            height,
            width,
            args.axis,
            args.index,
            args.output.display(),
            args.colormap
        );
    }
    Ok(())
}
