//! The Markdown report and the JSON file with every sample.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::data::Volume;
use crate::floor::Floor;
use crate::measure::{Check, Comparison, ToolRuns};
use crate::scaling::Sweep;
use crate::tools::Tool;
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
        "timing": "process_seconds: the whole process; inside_seconds: the tool's own time from \
                   opening its input to its output written (Python peers and floors; null for \
                   native binaries, timed as whole processes)",
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
         threads for every tool; {} alternating rounds, medians; chunkwise memory limit {}.\n\n\
         The Python peers (Dask, TensorStore, Cubed) are timed from inside: each reports the time \
         from opening the input to the output written, without starting Python and importing its \
         libraries; that is their `median s`, the figure `peer / chunkwise` uses, and `process s` \
         is their whole process beside it. chunkwise and zarrs_tools are native binaries, timed \
         as whole processes. `peer / chunkwise` above 1 means chunkwise is faster.\n\n\
         Each pipeline's floors are measured with chunkwise's own Zarr reader and writer on all \
         threads, timed from inside: `read` decodes every input chunk and writes nothing; `codec \
         floor` is that read plus encoding and writing the output (same dtype, shape, chunks and \
         codec; for the pyramid its three levels) from values already in memory. `x floor` is a \
         time as a multiple of its pipeline's codec floor: the rest is computing and scheduling \
         (except for copy, where chunkwise stores the input's chunks without re-encoding them \
         and may beat the floor).\n\n\
         `projected MiB` is chunkwise's own model of its peak (running tasks, results held \
         between stages, chunk cache): next to the measured RSS it calibrates the model (the \
         difference is the process baseline and allocator slack).\n",
        volume.size,
        volume.mib(),
        volume.chunk,
        args.reps,
        args.memory_limit
    );
    let _ = writeln!(
        s,
        "| pipeline | tool | median s | timed | process s | MiB/s of input | peak RSS MiB | projected MiB | x floor | peer / chunkwise | output check |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    for c in comparisons {
        let ours = counted(c, Tool::Chunkwise.name());
        // A JSON output has no codec floor: it is read against the read floor.
        let floor = counted(c, Floor::Codec.name()).or_else(|| counted(c, Floor::Read.name()));
        for t in &c.tools {
            let median = t.median_seconds();
            let ratio = match (median, ours) {
                (Some(m), Some(o)) if matches!(t.check, Check::Agrees(_)) => {
                    format!("{:.2}x", m / o)
                }
                _ => "-".into(),
            };
            let check = match &t.check {
                Check::Reference => "reference".to_string(),
                Check::Floor => "-".to_string(),
                Check::Agrees(d) => format!("agrees ({d})"),
                Check::Mismatch(d) => format!("**MISMATCH** ({d})"),
                Check::Failed(e) => format!("failed: {e}"),
            };
            let projected = t
                .samples
                .iter()
                .filter_map(|x| x.projected_mib)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            // A floor's RSS is mostly the values it holds to write, not a working set.
            let rss = Some(t.peak_rss_mib())
                .filter(|v| v.is_finite() && !matches!(t.check, Check::Floor));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {ratio} | {check} |",
                c.pipeline,
                t.tool,
                cell(median, 3),
                if t.timed_inside() {
                    "inside"
                } else {
                    "process"
                },
                cell(t.median_process_seconds(), 3),
                cell(median.map(|m| volume.mib() / m), 0),
                cell(rss, 0),
                cell(projected, 0),
                cell(median.zip(floor).map(|(m, f)| m / f), 2),
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## Where chunkwise's time goes\n\n`encode + write` is the codec floor less the read; \
         `rest` is chunkwise's time less the codec floor. Each is a difference of separate runs: \
         on a small volume or a noisy machine it can come out negative.\n\n\
         | pipeline | read s | encode + write s | rest s | chunkwise s | x floor |\n\
         |---|---|---|---|---|---|"
    );
    for c in comparisons {
        let read = counted(c, Floor::Read.name());
        let floor = counted(c, Floor::Codec.name());
        let ours = counted(c, Tool::Chunkwise.name());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            c.pipeline,
            cell(read, 3),
            cell(floor.zip(read).map(|(f, r)| f - r), 3),
            cell(ours.zip(floor).map(|(o, f)| o - f), 3),
            cell(ours, 3),
            cell(ours.zip(floor).map(|(o, f)| o / f), 2),
        );
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

/// `v` with `digits` decimals, or `-`.
fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.digits$}"))
}

/// The median time of `tool` in `comparison`, when it ran and its times count.
fn counted(comparison: &Comparison, tool: &str) -> Option<f64> {
    comparison
        .tools
        .iter()
        .find(|t| t.tool == tool && t.counts())
        .and_then(ToolRuns::median_seconds)
}
