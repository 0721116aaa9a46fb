//! Scaling sweeps of chunkwise alone: wall time against threads (1 to all cores) and against
//! volume size for clip and gaussian (cost should grow linearly with the voxel count), and
//! against chunk size for clip (where per-task overhead starts to show).

use serde::Serialize;

use crate::data;
use crate::measure::{median, timed, Context};
use crate::pipelines::Pipeline;
use crate::Args;

/// One curve of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    /// "threads", "size" or "chunk".
    pub axis: String,
    /// The pipeline.
    pub pipeline: String,
    /// (x, median seconds) points; x is threads, voxels or chunk edge.
    pub points: Vec<(f64, f64)>,
}

/// Runs the sweeps; each point is the median of up to three runs.
///
/// # Errors
/// When a volume cannot be generated or chunkwise fails.
pub fn run(ctx: &Context, args: &Args) -> Result<Vec<Sweep>, String> {
    let reps = args.reps.clamp(1, 3);
    let point = |pipeline: Pipeline, volume: &data::Volume, threads: usize| {
        // Fresh output names, deleted after the point (see measure::compare on why).
        let mut times = Vec::new();
        let outs: Vec<_> = (0..reps)
            .map(|r| ctx.work.join(format!("sweep-{}-{r}.zarr", pipeline.name())))
            .collect();
        for out in &outs {
            let cmd = ctx.chunkwise_command(pipeline, &volume.zstd, out, threads)?;
            times.push(timed(&cmd, out)?.process_seconds);
        }
        for out in &outs {
            let _ = std::fs::remove_dir_all(out);
        }
        median(times).ok_or_else(|| "no successful run".to_string())
    };
    let mut sweeps = Vec::new();
    let main = data::volume(&args.data, args.size, args.chunk, &ctx.chunkwise)?;
    for pipeline in [Pipeline::Clip, Pipeline::Gaussian] {
        let mut points = Vec::new();
        for threads in 1..=ctx.threads {
            points.push((threads as f64, point(pipeline, &main, threads)?));
        }
        println!("threads sweep {}: {points:?}", pipeline.name());
        sweeps.push(Sweep {
            axis: "threads".into(),
            pipeline: pipeline.name().into(),
            points,
        });
    }
    for pipeline in [Pipeline::Clip, Pipeline::Gaussian] {
        let mut points = Vec::new();
        for &size in &args.sizes {
            let volume = data::volume(&args.data, size, args.chunk.min(size), &ctx.chunkwise)?;
            points.push((size.pow(3) as f64, point(pipeline, &volume, ctx.threads)?));
        }
        println!("size sweep {}: {points:?}", pipeline.name());
        sweeps.push(Sweep {
            axis: "size".into(),
            pipeline: pipeline.name().into(),
            points,
        });
    }
    let mut points = Vec::new();
    for &chunk in &args.chunks {
        let volume = data::volume(&args.data, args.size, chunk, &ctx.chunkwise)?;
        points.push((chunk as f64, point(Pipeline::Clip, &volume, ctx.threads)?));
    }
    println!("chunk sweep clip: {points:?}");
    sweeps.push(Sweep {
        axis: "chunk".into(),
        pipeline: "clip".into(),
        points,
    });
    Ok(sweeps)
}
