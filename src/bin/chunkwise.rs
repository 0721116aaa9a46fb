//! The `chunkwise` command line: run, plan and inspect pipelines over Zarr arrays.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chunkwise::engine::exec::{parse_bytes, Progress};
use chunkwise::engine::plan::StencilChains;
use chunkwise::engine::store::{inspect_zarr, Codec, Overwrite, WriteOptions};
use chunkwise::interrupt::Interrupts;
use chunkwise::memory_report::{memory_report, peak_rss_bytes};
use chunkwise::pipeline::{load, OutputSettings};
use chunkwise::prelude::*;
use chunkwise::synthetic::SyntheticVolume;
use chunkwise::{CountingAllocator, HeapMeter, RecyclingAllocator, RunStats};
use chunkwise::{Error, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// Chunk-by-chunk, parallel, memory-bounded processing of Zarr arrays.
#[derive(Parser)]
#[command(name = "chunkwise", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline file (JSON or YAML).
    Run {
        /// The pipeline file.
        pipeline: PathBuf,
        #[command(flatten)]
        exec: ExecArgs,
        /// Replace outputs that already exist.
        #[arg(long, conflicts_with = "resume")]
        overwrite: bool,
        /// Continue an interrupted run of this pipeline: keep the chunks it stored, compute the
        /// rest.
        #[arg(long)]
        resume: bool,
        /// Flush every chunk to the disk before going on, so a resume after a power loss or a
        /// crashed machine finds every chunk it lists (slower).
        #[arg(long)]
        durable: bool,
    },
    /// Show how a pipeline would run: stages, fused ops, tasks, memory per task.
    Plan {
        /// The pipeline file.
        pipeline: PathBuf,
        #[command(flatten)]
        exec: ExecArgs,
        /// Print the graph in Graphviz DOT instead.
        #[arg(long)]
        dot: bool,
    },
    /// Write a multiscale OME-Zarr pyramid (NGFF 0.5 on Zarr v3, 0.4 on v2) of a Zarr array.
    Pyramid {
        /// The input array.
        input: PathBuf,
        /// The output OME-Zarr group (arrays 0, 1, ... inside).
        output: PathBuf,
        /// Downsampled levels below the full-resolution level 0.
        #[arg(long, default_value_t = 3)]
        levels: usize,
        /// mean, min, max, median, mode or stride.
        #[arg(long, default_value = "mean")]
        method: String,
        /// Factor per axis, comma separated (default 2 on space axes).
        #[arg(long, value_delimiter = ',')]
        factors: Option<Vec<u64>>,
        /// Axes, comma separated, each `name` or `name:type` with type space, time or channel
        /// (default y,x / z,y,x / c,z,y,x / t,c,z,y,x; `t` is time, `c` and `ch` are channels).
        #[arg(long, value_delimiter = ',')]
        axes: Option<Vec<String>>,
        /// Unit of the space axes, an NGFF unit name such as micrometer or nanometer.
        #[arg(long)]
        unit: Option<String>,
        /// Pixel size of level 0 per axis, comma separated.
        #[arg(long, value_delimiter = ',')]
        scale: Option<Vec<f64>>,
        /// Zarr format of the output: 3 (NGFF 0.5) or 2 (NGFF 0.4).
        #[arg(long, default_value_t = 3)]
        zarr_format: u8,
        /// Chunk shape of every level, comma separated (default: the input's).
        #[arg(long, value_delimiter = ',')]
        chunks: Option<Vec<u64>>,
        /// Shard shape of every level (Zarr v3), comma separated, each a multiple of the chunk
        /// shape: one file per shard instead of per chunk, which volumes of millions of chunks
        /// need.
        #[arg(long, value_delimiter = ',')]
        shards: Option<Vec<u64>>,
        #[command(flatten)]
        exec: ExecArgs,
        /// Replace the output if it exists.
        #[arg(long, conflicts_with = "resume")]
        overwrite: bool,
        /// Continue an interrupted pyramid with the same input and options: keep the chunks each
        /// level stored, compute the rest.
        #[arg(long)]
        resume: bool,
        /// Flush every chunk to the disk before going on (see `run --durable`).
        #[arg(long)]
        durable: bool,
    },
    /// Describe a Zarr array: shape, chunks, shards, dtype, codecs, format.
    Info {
        /// The array directory.
        array: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the synthetic tomography-like uint16 test volume (smooth structure plus noise) that
    /// the demo and the benchmarks use.
    Generate {
        /// The output array.
        output: PathBuf,
        /// Edge length of the cubic volume.
        #[arg(long, default_value_t = 512)]
        size: u64,
        /// Edge length of the cubic chunks.
        #[arg(long, default_value_t = 128)]
        chunk: u64,
        /// zstd (level 1) or none.
        #[arg(long, default_value = "zstd")]
        codec: String,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// The main job on a generated volume: writes a tomography-like uint16 volume (if absent),
    /// then runs clip and the 5-op chain on it and reports the timings.
    Demo {
        /// Working directory for the volume and the outputs.
        #[arg(long, default_value = "chunkwise-demo")]
        dir: PathBuf,
        /// Edge length of the cubic volume.
        #[arg(long, default_value_t = 512)]
        size: u64,
        /// Edge length of the cubic chunks.
        #[arg(long, default_value_t = 128)]
        chunk: u64,
        #[command(flatten)]
        exec: ExecArgs,
    },
}

#[derive(Args)]
struct ExecArgs {
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Memory limit, e.g. 512MiB or 2GB (default: half of RAM).
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Stencils feeding stencils: recomputed per task, materialized in memory, or chosen by
    /// projected cost (auto).
    #[arg(long, value_enum, default_value = "auto")]
    stencil_chains: Chains,
    /// After the run, print each stage's projected memory per task beside the measured one, and
    /// the whole run's projected peak beside the measured peak RSS.
    #[arg(long)]
    memory_report: bool,
}

/// `--stencil-chains` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Chains {
    Auto,
    Recompute,
    Materialize,
}

impl ExecArgs {
    fn options(&self) -> Result<ExecOptions> {
        let mut o = ExecOptions {
            stencil_chains: match self.stencil_chains {
                Chains::Auto => StencilChains::Auto,
                Chains::Recompute => StencilChains::Recompute,
                Chains::Materialize => StencilChains::Materialize,
            },
            buffer_pool: Some(&GLOBAL.0),
            cancel: Interrupts::install()
                .map_err(|e| Error::Invalid(format!("cannot handle Ctrl-C: {e}")))?
                .cancel_flag(),
            ..ExecOptions::default()
        };
        if let Some(t) = self.threads {
            if t == 0 {
                return Err(Error::Invalid("--threads must be at least 1".into()));
            }
            o.threads = t;
        }
        if let Some(m) = &self.memory_limit {
            o.memory_limit =
                parse_bytes(m).map_err(|e| Error::Invalid(format!("--memory-limit: {e}")))?;
        }
        if self.memory_report {
            o.task_meter = Some(Arc::new(HeapMeter));
        }
        Ok(o)
    }

    /// Prints the memory report of a finished run when `--memory-report` was given.
    fn report(&self, stats: &RunStats) -> Result<()> {
        if self.memory_report {
            let limit = self.options()?.memory_limit;
            print!("{}", memory_report(stats, limit, peak_rss_bytes()));
        }
        Ok(())
    }

    /// Runs `work` with these options and a progress bar (unless quiet), cleared afterwards
    /// whatever the outcome.
    fn with_progress<T>(
        &self,
        label: &str,
        work: impl FnOnce(&ExecOptions) -> Result<T>,
    ) -> Result<T> {
        let mut o = self.options()?;
        if self.quiet {
            return work(&o);
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        let b = bar.clone();
        let progress: Progress = Arc::new(move |done, total| {
            b.set_length(total);
            b.set_position(done);
        });
        o.progress = Some(progress);
        let result = work(&o);
        bar.finish_and_clear();
        result
    }
}

fn main() -> ExitCode {
    return_freed_memory_promptly();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHUNKWISE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let resumable = matches!(cli.command, Command::Run { .. } | Command::Pyramid { .. });
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Cancelled { done, total }) => {
            let signal = Interrupts::install().ok().and_then(Interrupts::exit_code);
            let next = if resumable {
                "rerun with --resume to continue, or --overwrite to start over"
            } else {
                "run it again to start over"
            };
            eprintln!("interrupted: {done} of {total} chunks stored; {next}");
            ExitCode::from(signal.unwrap_or(1))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// " (N already stored)" after a resumed run's task count; nothing otherwise.
fn already_stored(stats: &RunStats) -> String {
    match stats.skipped_tasks {
        0 => String::new(),
        n => format!(" ({n} already stored)"),
    }
}

/// What `--overwrite` / `--resume` ask for (clap keeps them exclusive).
fn overwrite_mode(overwrite: bool, resume: bool) -> Overwrite {
    match (overwrite, resume) {
        (true, _) => Overwrite::Replace,
        (_, true) => Overwrite::Resume,
        _ => Overwrite::Refuse,
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            pipeline,
            exec,
            overwrite,
            resume,
            durable,
        } => {
            let overwrite = overwrite_mode(overwrite, resume);
            let loaded = load(&pipeline, &OutputSettings { overwrite, durable })?;
            let (stats, threads) = exec.with_progress("run", |options| {
                let plan = loaded.pipeline.plan(options)?;
                Ok((chunkwise::engine::execute(&plan, options)?, options.threads))
            })?;
            if !exec.quiet {
                eprintln!(
                    "done: {} chunks{} in {:.2} s with {} threads",
                    stats.tasks,
                    already_stored(&stats),
                    stats.elapsed.as_secs_f64(),
                    threads
                );
            }
            exec.report(&stats)?;
            Ok(())
        }
        Command::Plan {
            pipeline,
            exec,
            dot,
        } => {
            let settings = OutputSettings {
                overwrite: Overwrite::Replace,
                durable: false,
            };
            let loaded = load(&pipeline, &settings)?;
            let plan = loaded.pipeline.plan(&exec.options()?)?;
            if dot {
                print!("{}", plan.dot());
            } else {
                print!("{}", plan.explain());
            }
            Ok(())
        }
        Command::Info { array, json } => {
            let info = inspect_zarr(&array)?;
            if json {
                let text = serde_json::to_string_pretty(&info)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
                println!("{text}");
            } else {
                println!("array:      {}", array.display());
                println!("zarr:       v{}", info.zarr_format);
                println!("shape:      {:?}", info.shape);
                println!("chunks:     {:?}", info.chunks);
                match &info.shards {
                    Some(s) => println!("shards:     {s:?}"),
                    None => println!("shards:     none"),
                }
                println!("dtype:      {}", info.data_type);
                println!("fill value: {}", info.fill_value);
                println!("codecs:     {}", info.codecs);
                if let Some(names) = &info.dimension_names {
                    println!("dimensions: {names}");
                }
            }
            Ok(())
        }
        Command::Pyramid {
            input,
            output,
            levels,
            method,
            factors,
            axes,
            unit,
            scale,
            zarr_format,
            chunks,
            shards,
            exec,
            overwrite,
            resume,
            durable,
        } => {
            let method: DownsampleMethod =
                serde_json::from_value(serde_json::Value::String(method.clone())).map_err(
                    |_| {
                        Error::Invalid(format!(
                    "unknown --method {method:?}; use mean, min, max, median, mode or stride"))
                    },
                )?;
            let zarr_format = ZarrFormat::try_from(zarr_format).map_err(Error::Invalid)?;
            let options = PyramidOptions {
                levels,
                method,
                factors,
                axes,
                unit,
                scale,
                write: WriteOptions {
                    zarr_format,
                    chunks,
                    shards,
                    overwrite: overwrite_mode(overwrite, resume),
                    durable,
                    ..WriteOptions::default()
                },
            };
            let x = chunkwise::open(&input)?;
            let stats = exec.with_progress("pyramid", |exec_options| {
                write_pyramid(&x, &output, &options, exec_options)
            })?;
            exec.report(&stats)?;
            if !exec.quiet {
                eprintln!(
                    "done: {} levels, {} chunks{} in {:.2} s -> {}",
                    levels + 1,
                    stats.tasks,
                    already_stored(&stats),
                    stats.elapsed.as_secs_f64(),
                    output.display()
                );
            }
            Ok(())
        }
        Command::Generate {
            output,
            size,
            chunk,
            codec,
            exec,
        } => generate(&output, size, chunk, &codec, &exec),
        Command::Demo {
            dir,
            size,
            chunk,
            exec,
        } => demo(&dir, size, chunk, &exec),
    }
}

fn generate(output: &Path, size: u64, chunk: u64, codec: &str, exec: &ExecArgs) -> Result<()> {
    let codec = match codec {
        "zstd" => Codec::Zstd { level: 1 },
        "none" => Codec::None,
        other => {
            return Err(Error::Invalid(format!(
                "--codec {other:?}: expected zstd or none"
            )))
        }
    };
    let write = WriteOptions {
        chunks: Some(vec![chunk; 3]),
        dimension_names: Some(vec!["z".into(), "y".into(), "x".into()]),
        codec,
        overwrite: Overwrite::Replace,
        ..WriteOptions::default()
    };
    let volume = SyntheticVolume::new(size, chunk)?.into_array();
    exec.with_progress("generate", |options| {
        volume.to_zarr(output, &write, options)
    })?;
    Ok(())
}

fn demo(dir: &Path, size: u64, chunk: u64, exec: &ExecArgs) -> Result<()> {
    let volume = dir.join(format!("volume_{size}.zarr"));
    let write = WriteOptions {
        chunks: Some(vec![chunk; 3]),
        dimension_names: Some(vec!["z".into(), "y".into(), "x".into()]),
        ..WriteOptions::default()
    };
    if chunkwise::open(&volume).is_err() {
        let replace = WriteOptions {
            overwrite: Overwrite::Replace,
            ..write.clone()
        };
        let volume_array = SyntheticVolume::new(size, chunk)?.into_array();
        let stats = exec.with_progress("generate", |options| {
            volume_array.to_zarr(&volume, &replace, options)
        })?;
        println!(
            "generated {} ({size}^3 uint16, zstd) in {:.2} s",
            volume.display(),
            stats.elapsed.as_secs_f64()
        );
    }
    let x = chunkwise::open(&volume)?;
    let clip = x.clip(10000, 40000)?;
    let chain = x
        .astype(DType::Float32)?
        .mul(1.5)?
        .add(100)?
        .clip(0, 65535)?
        .div(2)?
        .astype(DType::Uint16)?;
    let replace = WriteOptions {
        overwrite: Overwrite::Replace,
        ..write
    };
    for (name, array) in [("clip", clip), ("chain", chain)] {
        let out = dir.join(format!("{name}.zarr"));
        let stats = exec.with_progress(name, |options| {
            println!("{}", array.explain(options)?.trim_end());
            array.to_zarr(&out, &replace, options)
        })?;
        let mib = (size * size * size * 2) as f64 / (1 << 20) as f64;
        let secs = stats.elapsed.as_secs_f64();
        println!(
            "{name}: {} chunks in {secs:.2} s ({:.0} MiB/s of input) -> {}\n",
            stats.tasks,
            mib / secs,
            out.display()
        );
    }
    Ok(())
}

/// mimalloc for everything, with freed multi-MiB task buffers recycled by size class before they
/// reach it (see [`RecyclingAllocator`]): up to 32 MiB outside runs, and during a run what the
/// executor sets (one task's projected bytes, [`chunkwise::engine::exec::BufferPool`]).
/// Counted per thread for `--memory-report` ([`CountingAllocator`]).
#[global_allocator]
static GLOBAL: CountingAllocator<RecyclingAllocator<mimalloc::MiMalloc>> =
    CountingAllocator(RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20));

/// mimalloc 3 keeps freed memory for a second before returning it to the system (its
/// `purge_delay`, 1000 ms); with the large task buffers recycled above, what it gets back is small
/// or odd-sized, and holding it a second only adds to the resident set. 10 ms (mimalloc 2's
/// default) returns it promptly. The `MIMALLOC_PURGE_DELAY` variable still wins when set.
fn return_freed_memory_promptly() {
    /// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (libmimalloc-sys 0.1.49).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const MILLISECONDS: std::ffi::c_long = 10;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one option to a value mimalloc documents; no memory is touched.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, MILLISECONDS);
        }
    }
}
