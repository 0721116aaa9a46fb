//! `chunkwise preview`: one 2-D slice of an array or of a pipeline's step as a grayscale PNG.
//! The slice is taken lazily ([`chunkwise_ops::slice::take`]), so on a pipeline only the
//! chunks the slice needs (through halos and resampling) are computed.

use std::path::{Path, PathBuf};

use chunkwise_engine::{Error, Registry, Result};
use chunkwise_ops::reduce::{as_f64, compute_small};
use chunkwise_ops::slice::take;

use crate::cli::args::ExecArgs;
use crate::cli::stats::target;
use crate::cli::Pool;
use crate::prelude::*;

/// What `chunkwise preview` was asked.
pub(super) struct PreviewArgs {
    pub(super) step: Option<String>,
    pub(super) axis: String,
    pub(super) index: u64,
    pub(super) output: PathBuf,
    pub(super) contrast: Vec<f64>,
    pub(super) range: Option<Vec<f64>>,
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

/// The display range: `--range`, or the `--contrast` percentiles of the slice.
fn display_range(values: &Array, args: &PreviewArgs, exec: &ExecOptions) -> Result<(f64, f64)> {
    let (lo, hi) = match &args.range {
        Some(r) => match r.as_slice() {
            [lo, hi] => (*lo, *hi),
            _ => return Err(Error::Invalid("--range takes LO,HI".into())),
        },
        None => match args.contrast.as_slice() {
            [a, b] if a < b => {
                let p = percentiles(values, &[*a, *b], exec)?;
                (p[0], p[1])
            }
            _ => {
                return Err(Error::Invalid(
                    "--contrast takes two percentiles LO,HI with LO < HI".into(),
                ))
            }
        },
    };
    if args.range.is_some() && (lo >= hi || lo.is_nan() || hi.is_nan()) {
        return Err(Error::Invalid(format!("--range {lo},{hi} needs LO < HI")));
    }
    Ok((lo, hi))
}

/// Gray levels: `lo` -> 0, `hi` -> 255, clamped; NaN -> 0.
pub(super) fn gray(values: &[f64], lo: f64, hi: f64) -> Vec<u8> {
    let span = if hi > lo { hi - lo } else { 1.0 };
    values
        .iter()
        .map(|&v| {
            let t = ((v - lo) / span).clamp(0.0, 1.0);
            if t.is_nan() {
                0
            } else {
                (t * 255.0).round() as u8
            }
        })
        .collect()
}

fn write_png(path: &Path, width: u32, height: u32, pixels: &[u8]) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Invalid(format!("writing {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    writer.write_image_data(pixels).map_err(|e| fail(&e))
}

/// Runs `chunkwise preview`.
pub(super) fn run_preview(
    input: &Path,
    args: &PreviewArgs,
    exec: &ExecArgs,
    registry: &Registry,
    pool: Pool,
) -> Result<()> {
    if args.output.exists() && !args.overwrite {
        return Err(Error::OutputExists(args.output.display().to_string()));
    }
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
    let (lo, hi) = display_range(&in_memory, args, &options)?;
    write_png(
        &args.output,
        width as u32,
        height as u32,
        &gray(&values, lo, hi),
    )?;
    if !exec.quiet {
        eprintln!(
            "{} x {} slice at {} = {} -> {} (gray {lo} .. {hi})",
            height,
            width,
            args.axis,
            args.index,
            args.output.display()
        );
    }
    Ok(())
}
