//! The floors a pipeline's time is read against, measured with chunkwise's own Zarr reader and
//! writer on all threads, each in its own process like every tool (the hidden
//! `chunkwise-bench floor` subcommand):
//!
//! - `read`: decode every input chunk the pipeline reads; nothing is written.
//! - `codec floor`: that read, then encode and write the pipeline's output arrays (same dtype,
//!   shape, chunks and codec) from values already in memory.
//!
//! What a pipeline takes beyond its codec floor is its computing and scheduling. Each floor prints
//! `inside_seconds=` for its timed part only: loading the output values into memory beforehand
//! (from chunkwise's own output of the pipeline) is not timed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use chunkwise::engine::store::{IoContext, Sink, Source};
use chunkwise::engine::ChunkGrid;
use chunkwise::store::{open_zarr, WriteOptions, ZarrSink};
use chunkwise::{Buffer, Region};

/// Decoded output values held at once by the codec floor: it writes its output in batches of
/// this many bytes, so an output of any size fits in memory.
const BATCH_BYTES: u64 = 1 << 30;

/// A floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Floor {
    /// Decode every input chunk.
    Read,
    /// Decode every input chunk, then encode and write the output.
    Codec,
}

impl Floor {
    /// Both floors, in report order.
    pub const ALL: [Floor; 2] = [Floor::Read, Floor::Codec];

    /// The row name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Floor::Read => "read",
            Floor::Codec => "codec floor",
        }
    }

    /// The command measuring this floor with `harness` (this binary): reading `input`, and for
    /// the codec floor writing `arrays` of `output` (chunkwise's output of the pipeline; "" for
    /// the array itself) again under `out`.
    pub fn command(
        self,
        harness: &Path,
        input: &Path,
        output: &Path,
        arrays: &[&str],
        out: &Path,
        threads: usize,
    ) -> Vec<String> {
        let s = |p: &Path| p.display().to_string();
        let mut cmd = vec![s(harness), "floor".into()];
        match self {
            Floor::Read => cmd.push("read".into()),
            Floor::Codec => {
                cmd.extend(["codec".into(), "--like".into(), s(output)]);
                cmd.extend(["--out".into(), s(out)]);
                for array in arrays.iter().filter(|a| !a.is_empty()) {
                    cmd.extend(["--array".into(), (*array).into()]);
                }
            }
        }
        cmd.extend([s(input), "--threads".into(), threads.to_string()]);
        cmd
    }
}

/// The hidden `floor` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct FloorArgs {
    /// Which floor.
    pub floor: Floor,
    /// The pipeline's input array.
    pub input: PathBuf,
    /// Codec floor: the pipeline's output, whose values are written again.
    #[arg(long, required_if_eq("floor", "codec"))]
    pub like: Option<PathBuf>,
    /// Codec floor: an array under `--like` to write (repeated; none: `--like` itself).
    #[arg(long = "array")]
    pub arrays: Vec<String>,
    /// Codec floor: where to write.
    #[arg(long, required_if_eq("floor", "codec"))]
    pub out: Option<PathBuf>,
    /// Worker threads.
    #[arg(long)]
    pub threads: usize,
}

/// Measures the floor and prints `inside_seconds=` on stdout (read by `measure::timed`).
///
/// # Errors
/// When an array cannot be read or written.
pub fn run(args: &FloorArgs) -> Result<(), String> {
    let threads = args.threads.max(1);
    let mut seconds = read(&args.input, threads)?;
    if let (Floor::Codec, Some(like), Some(out)) = (args.floor, &args.like, &args.out) {
        let arrays = if args.arrays.is_empty() {
            vec![String::new()]
        } else {
            args.arrays.clone()
        };
        for array in &arrays {
            seconds += write_again(&like.join(array), &out.join(array), threads)?;
        }
    }
    println!("inside_seconds={seconds:.6}");
    Ok(())
}

/// The I/O settings chunkwise's executor gives each of `threads` workers.
fn io_context(threads: usize) -> IoContext {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    IoContext {
        codec_threads: (cores / threads).max(1),
        cache_bytes: 0,
        ..IoContext::default()
    }
}

/// Seconds to open `input` and decode every chunk of it.
fn read(input: &Path, threads: usize) -> Result<f64, String> {
    let start = Instant::now();
    let source = open_zarr(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let meta = source.meta();
    let grid = ChunkGrid::new(meta.shape.clone(), meta.chunks.clone());
    let io = io_context(threads);
    on_threads(threads, grid.num_chunks(), |i| {
        let region = grid.chunk_region(&grid.unravel(i));
        source
            .read(&region, &io)
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds to encode and write the values of `reference` again at `out`, through the sink
/// chunkwise writes its outputs with (same shape, chunks and dtype; the default codec, which is
/// checked to be the reference's). Loading the values is not timed.
fn write_again(reference: &Path, out: &Path, threads: usize) -> Result<f64, String> {
    let source = open_zarr(reference).map_err(|e| format!("{}: {e}", reference.display()))?;
    let meta = source.meta();
    let sink = ZarrSink::new(
        out,
        meta.shape.clone(),
        meta.chunks.clone(),
        meta.dtype,
        &WriteOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    if sink.chunk_encoding() != source.chunk_encoding() {
        return Err(format!(
            "{} is not encoded as the floor writes ({:?})",
            reference.display(),
            WriteOptions::default().codec
        ));
    }
    let io = io_context(threads);
    let grid = sink.write_grid();
    let unit_bytes = grid.chunk_shape().iter().product::<u64>() * meta.dtype.size() as u64;
    let batch = (BATCH_BYTES / unit_bytes.max(1)).max(threads as u64);
    let mut timed = Instant::now();
    sink.prepare().map_err(|e| e.to_string())?;
    let mut seconds = timed.elapsed().as_secs_f64();
    let mut first = 0;
    while first < grid.num_chunks() {
        let units: Vec<(Vec<u64>, Region)> = (first..grid.num_chunks().min(first + batch))
            .map(|i| {
                let unit = grid.unravel(i);
                let region = grid.chunk_region(&unit);
                (unit, region)
            })
            .collect();
        let values: Vec<OnceLock<Buffer>> = units.iter().map(|_| OnceLock::new()).collect();
        on_threads(threads, units.len() as u64, |i| {
            let i = i as usize;
            let data = source.read(&units[i].1, &io).map_err(|e| e.to_string())?;
            let _ = values[i].set(data);
            Ok(())
        })?;
        timed = Instant::now();
        on_threads(threads, units.len() as u64, |i| {
            let i = i as usize;
            let (unit, region) = &units[i];
            let data = values[i]
                .get()
                .ok_or_else(|| "a value was not loaded".to_string())?;
            sink.write(unit, region, data, &io)
                .map_err(|e| e.to_string())
        })?;
        seconds += timed.elapsed().as_secs_f64();
        first += batch;
    }
    timed = Instant::now();
    sink.finish()
        .and_then(|()| sink.forget_progress())
        .map_err(|e| e.to_string())?;
    Ok(seconds + timed.elapsed().as_secs_f64())
}

/// Runs `job(0..n)` on `threads` threads, each taking the next number as it finishes one.
///
/// # Errors
/// The first error a job returned (the others still run).
fn on_threads(
    threads: usize,
    n: u64,
    job: impl Fn(u64) -> Result<(), String> + Sync,
) -> Result<(), String> {
    let next = AtomicU64::new(0);
    let failed = OnceLock::new();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                if let Err(e) = job(i) {
                    let _ = failed.set(e);
                }
            });
        }
    });
    failed.into_inner().map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Args, Helper};
    use chunkwise::DType;
    use clap::Parser;

    /// A 10x12 uint16 array in 4x5 chunks (edge chunks partial) at `path`.
    fn small_array(path: &Path) -> Buffer {
        let values = Buffer::Uint16((0..120u16).map(|v| v * 7).collect());
        let sink = ZarrSink::new(
            path,
            vec![10, 12],
            vec![4, 5],
            DType::Uint16,
            &WriteOptions::default(),
        )
        .unwrap();
        sink.prepare().unwrap();
        let grid = sink.write_grid();
        let whole = Region::whole(&[10, 12]);
        for i in 0..grid.num_chunks() {
            let unit = grid.unravel(i);
            let region = grid.chunk_region(&unit);
            let part = chunkwise::engine::geometry::extract_region(&values, &whole, &region);
            sink.write(&unit, &region, &part, &io_context(2)).unwrap();
        }
        sink.finish().and_then(|()| sink.forget_progress()).unwrap();
        values
    }

    #[test]
    fn the_codec_floor_writes_the_reference_again_as_chunkwise_would() {
        let dir = std::env::temp_dir().join(format!("chunkwise-floor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let values = small_array(&dir.join("in.zarr"));
        small_array(&dir.join("ref.zarr/1"));
        let cmd = Floor::Codec.command(
            Path::new("chunkwise-bench"),
            &dir.join("in.zarr"),
            &dir.join("ref.zarr"),
            &["1"],
            &dir.join("out.zarr"),
            2,
        );
        let Some(Helper::Floor(args)) = Args::try_parse_from(&cmd).unwrap().helper else {
            panic!("{cmd:?} is not the floor command");
        };
        run(&args).unwrap();
        let written = open_zarr(dir.join("out.zarr/1")).unwrap();
        assert_eq!(written.meta().chunks, vec![4, 5]);
        assert_eq!(
            written.chunk_encoding(),
            open_zarr(dir.join("in.zarr")).unwrap().chunk_encoding()
        );
        let read = written
            .read(&Region::whole(&[10, 12]), &io_context(1))
            .unwrap();
        assert_eq!(read, values);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_read_floor_needs_no_output() {
        let cmd = Floor::Read.command(
            Path::new("chunkwise-bench"),
            Path::new("in.zarr"),
            Path::new("ref.zarr"),
            &[""],
            Path::new("out.zarr"),
            3,
        );
        let Some(Helper::Floor(args)) = Args::try_parse_from(&cmd).unwrap().helper else {
            panic!("{cmd:?} is not the floor command");
        };
        assert_eq!((args.floor, args.threads), (Floor::Read, 3));
        assert!(args.like.is_none() && args.out.is_none());
    }
}
