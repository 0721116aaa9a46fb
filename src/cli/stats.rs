//! `chunkwise stats`: summary statistics of an array or of a pipeline's step, as text or JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chunkwise_engine::{Array, Error, Registry, Result};
use chunkwise_ops::reduce::compute_small;
use chunkwise_store::{json_value, JSON_MAX_ELEMENTS};
use serde_json::json;

use crate::cli::args::ExecArgs;
use crate::cli::Pool;
use crate::pipeline::{load_with, OutputSettings};
use crate::prelude::*;

/// What `chunkwise stats` was asked.
pub(super) struct StatsArgs {
    pub(super) step: Option<String>,
    pub(super) axis: Option<Vec<usize>>,
    pub(super) percentiles: Vec<f64>,
    pub(super) bins: u32,
    pub(super) no_histogram: bool,
    pub(super) json: bool,
    pub(super) output: Option<PathBuf>,
    pub(super) overwrite: bool,
}

/// The array `input` names: a Zarr array, or a pipeline file's step (default: its first
/// output's).
pub(super) fn target(input: &Path, step: Option<&str>, registry: &Registry) -> Result<Array> {
    let is_pipeline = input
        .extension()
        .is_some_and(|e| e == "json" || e == "yaml" || e == "yml");
    if !is_pipeline {
        if step.is_some() {
            return Err(Error::Invalid("--step needs a pipeline file".into()));
        }
        return crate::open(input);
    }
    let loaded = load_with(input, &OutputSettings::default(), registry)?;
    let name = match step {
        Some(s) => s.to_string(),
        None => loaded
            .spec
            .outputs
            .first()
            .map(|o| o.from.clone())
            .ok_or_else(|| Error::Invalid("the pipeline has no outputs".into()))?,
    };
    loaded.arrays.get(&name).cloned().ok_or_else(|| {
        let mut known: Vec<&String> = loaded.arrays.keys().collect();
        known.sort();
        Error::Invalid(format!(
            "no step or input {name:?} in the pipeline; it has {known:?}"
        ))
    })
}

/// Runs `chunkwise stats`.
pub(super) fn run_stats(
    input: &Path,
    args: &StatsArgs,
    exec: &ExecArgs,
    registry: &Registry,
    pool: Pool,
) -> Result<()> {
    if args.bins == 0 {
        return Err(Error::Invalid(
            "--bins must be at least 1 (--no-histogram leaves it out)".into(),
        ));
    }
    if let Some(path) = &args.output {
        if path.exists() && !args.overwrite {
            return Err(Error::OutputExists(path.display().to_string()));
        }
    }
    let x = target(input, args.step.as_deref(), registry)?;
    let options = exec.options(pool)?;
    let text = match &args.axis {
        Some(axes) => along_axes(&x, axes, args.json, &options)?,
        None => summary(&x, args, &options)?,
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::Invalid(format!("writing {}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// The whole-array summary, as text or JSON.
fn summary(x: &Array, args: &StatsArgs, options: &ExecOptions) -> Result<String> {
    let bins = if args.no_histogram { 0 } else { args.bins };
    let s = stats(x, &StatsOptions::new(bins, &args.percentiles), options)?;
    if args.json {
        let text = serde_json::to_string_pretty(&s).map_err(|e| Error::Invalid(e.to_string()))?;
        return Ok(text + "\n");
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "shape:  {:?} ({}), {} elements",
        x.shape(),
        x.dtype(),
        s.count
    );
    let _ = writeln!(out, "min:    {}", s.min);
    let _ = writeln!(out, "max:    {}", s.max);
    let _ = writeln!(out, "mean:   {}", s.mean);
    let _ = writeln!(out, "std:    {}", s.std);
    for (p, v) in &s.percentiles {
        let _ = writeln!(out, "p{p:<6} {v}");
    }
    if !s.histogram.is_empty() {
        let top = s.histogram.iter().copied().max().unwrap_or(1).max(1);
        let _ = writeln!(out, "histogram ({} bins):", s.histogram.len());
        // At most 32 lines: neighbouring bins summed.
        let per = s.histogram.len().div_ceil(32);
        for (i, group) in s.histogram.chunks(per).enumerate() {
            let count: u64 = group.iter().sum();
            let bar =
                "#".repeat((count * 50 / (top * per as u64)).max(u64::from(count > 0)) as usize);
            let _ = writeln!(out, "  {:>14.6} {count:>12} {bar}", s.edges[i * per]);
        }
    }
    Ok(out)
}

/// min, max, mean and std over `axes`: one value per index of the other axes.
fn along_axes(x: &Array, axes: &[usize], as_json: bool, options: &ExecOptions) -> Result<String> {
    let along = Axes::along(axes);
    let names = ["min", "max", "mean", "std"];
    // One read for all four (they share a partial).
    let arrays = reduce_many(
        x,
        &[
            Reduction::Min,
            Reduction::Max,
            Reduction::Mean,
            Reduction::Std { ddof: 0 },
        ],
        &along,
    )?;
    let shape = arrays[0].shape().to_vec();
    let n: u64 = shape.iter().product();
    if n > JSON_MAX_ELEMENTS {
        return Err(Error::Invalid(format!(
            "statistics along {axes:?} give {n} values per statistic, more than the {JSON_MAX_ELEMENTS} \
             printed; reduce over more axes, or write the reduction to Zarr from a pipeline"
        )));
    }
    let values = compute_small(&arrays, options)?;
    if as_json {
        let mut doc = serde_json::Map::new();
        doc.insert("shape".into(), json!(shape));
        for (n, v) in names.iter().zip(&values) {
            doc.insert((*n).into(), json_value(v, &shape));
        }
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Invalid(e.to_string()))?;
        return Ok(text + "\n");
    }
    let mut out = String::new();
    for (n, v) in names.iter().zip(&values) {
        let _ = writeln!(out, "{n}: {}", json_value(v, &shape));
    }
    Ok(out)
}
