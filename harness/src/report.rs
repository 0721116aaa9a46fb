//! The Markdown report and the JSON file with every sample.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::data::Volume;
use crate::measure::{Check, Comparison};
use crate::scaling::Sweep;
use crate::Args;

/// Writes `report.md` and `samples.json` into `dir`; returns their paths.
///
/// # Errors
/// When a file cannot be written.
pub fn write(
    dir: &Path,
    args: &Args,
    threads: usize,
    volume: &Volume,
    comparisons: &[Comparison],
    sweeps: &[Sweep],
) -> Result<Vec<PathBuf>, String> {
    let markdown = markdown(args, threads, volume, comparisons, sweeps);
    let md = dir.join("report.md");
    std::fs::write(&md, &markdown).map_err(|e| format!("writing {}: {e}", md.display()))?;
    println!("\n{markdown}");
    let samples = json!({
        "size": args.size,
        "chunk": args.chunk,
        "threads": threads,
        "reps": args.reps,
        "memory_limit": args.memory_limit,
        "volume_mib": volume.mib(),
        "comparisons": comparisons,
        "sweeps": sweeps,
    });
    let js = dir.join("samples.json");
    let text = serde_json::to_string_pretty(&samples).map_err(|e| e.to_string())?;
    std::fs::write(&js, text).map_err(|e| format!("writing {}: {e}", js.display()))?;
    Ok(vec![md, js])
}

fn markdown(
    args: &Args,
    threads: usize,
    volume: &Volume,
    comparisons: &[Comparison],
    sweeps: &[Sweep],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# chunkwise benchmark\n\n{}^3 uint16 volume ({:.0} MiB), {}^3 chunks, zstd level 1; {threads} \
         threads for every tool; {} alternating rounds, median wall time per process; chunkwise \
         memory limit {}. `x copy` is the time as a multiple of the fastest copy (the I/O floor); \
         `peer / chunkwise` above 1 means chunkwise is faster. `projected MiB` is chunkwise's own \
         model of its peak (running tasks, results held between stages, chunk cache): next to the \
         measured RSS it calibrates the model (the difference is the process baseline and \
         allocator slack).\n",
        volume.size,
        volume.mib(),
        volume.chunk,
        args.reps,
        args.memory_limit
    );
    let floor = comparisons
        .iter()
        .filter(|c| c.pipeline == "copy")
        .flat_map(|c| c.tools.iter().filter(|t| t.counts()))
        .filter_map(|t| t.median_seconds())
        .fold(f64::INFINITY, f64::min);
    let _ = writeln!(
        s,
        "| pipeline | tool | median s | MiB/s of input | peak RSS MiB | projected MiB | x copy | peer / chunkwise | output check |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for c in comparisons {
        let ours = c.tools.first().and_then(|t| t.median_seconds());
        for t in &c.tools {
            let median = t.median_seconds();
            let cell = |v: Option<f64>, digits: usize| {
                v.map_or("-".to_string(), |v| format!("{v:.digits$}"))
            };
            let ratio = match (median, ours) {
                (Some(m), Some(o)) if t.tool != "chunkwise" && t.counts() => {
                    format!("{:.2}x", m / o)
                }
                _ => "-".into(),
            };
            let check = match &t.check {
                Check::Reference => "reference".to_string(),
                Check::Agrees(d) => format!("agrees ({d})"),
                Check::Mismatch(d) => format!("**MISMATCH** ({d})"),
                Check::Failed(e) => format!("failed: {e}"),
            };
            let projected = t
                .samples
                .iter()
                .filter_map(|x| x.projected_mib)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {ratio} | {check} |",
                c.pipeline,
                t.tool,
                cell(median, 3),
                cell(median.map(|m| volume.mib() / m), 0),
                cell(Some(t.peak_rss_mib()).filter(|v| v.is_finite()), 0),
                cell(projected, 0),
                cell(median.filter(|_| floor.is_finite()).map(|m| m / floor), 2),
            );
        }
    }
    let _ = writeln!(s, "\nPipelines:\n");
    for c in comparisons {
        let _ = writeln!(s, "- `{}`: {}", c.pipeline, c.description);
    }
    if !sweeps.is_empty() {
        let _ = writeln!(s, "\n## Scaling (chunkwise)\n");
        for sweep in sweeps {
            let unit = match sweep.axis.as_str() {
                "size" => "voxels",
                "chunk" => "chunk edge",
                _ => "threads",
            };
            let _ = writeln!(s, "{} vs {unit}:\n", sweep.pipeline);
            let _ = writeln!(s, "| {unit} | median s | ns per voxel |\n|---|---|---|");
            for &(x, secs) in &sweep.points {
                let voxels = if sweep.axis == "size" {
                    x
                } else {
                    volume.size.pow(3) as f64
                };
                let _ = writeln!(s, "| {x} | {secs:.3} | {:.2} |", secs * 1e9 / voxels);
            }
            let _ = writeln!(s);
        }
    }
    s
}
