//! The command line's arguments (clap) and the run settings they make.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chunkwise_engine::exec::{parse_bytes, peak_resident_bytes, Progress};
use chunkwise_engine::plan::StencilChains;
use chunkwise_engine::{Error, ExecOptions, Result, RunStats};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::Pool;
use crate::interrupt::Interrupts;
use crate::memory_report::memory_report;
use crate::HeapMeter;

/// Chunk-by-chunk, parallel, memory-bounded processing of Zarr arrays.
#[derive(Parser)]
#[command(name = "chunkwise", version, about)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
    #[command(flatten)]
    pub(super) remote: RemoteArgs,
}

/// How arrays at `s3://` URLs are reached (every path may be a URL: `s3://bucket/a.zarr`,
/// `https://host/a.zarr`). Credentials and region come from the standard AWS environment
/// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION), else
/// from the instance metadata service.
#[derive(Args)]
pub(super) struct RemoteArgs {
    /// S3 endpoint for s3:// URLs, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL, else
    /// AWS itself).
    #[arg(long, global = true, value_name = "URL")]
    pub(super) s3_endpoint: Option<String>,
    /// Send unsigned requests to s3:// (public buckets): no credentials are looked up.
    #[arg(long, global = true)]
    pub(super) anonymous: bool,
}

#[derive(Subcommand)]
pub(super) enum Command {
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
    /// Plan a pipeline as stages of independent tasks and submit one job array per stage
    /// (each depending on the one before), then a job that finalizes the outputs.
    Submit(super::distributed::SubmitArgs),
    /// Run one array element's range of a planned stage's tasks (what each job runs); tasks
    /// already stored are skipped.
    RunTask {
        /// The plan file (or the run folder holding plan.json).
        plan: PathBuf,
        /// The stage.
        #[arg(long)]
        stage: usize,
        /// The array index (default: SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or
        /// AWS_BATCH_JOB_ARRAY_INDEX).
        #[arg(long)]
        index: Option<u64>,
    },
    /// Per stage of a submitted run: tasks stored of all, and array elements failed or missing.
    Status {
        /// The plan file (or the run folder).
        plan: PathBuf,
    },
    /// Write the outputs' metadata once every task of a submitted run is stored, and remove
    /// its scratch arrays (the last job of a submitted run).
    Finalize {
        /// The plan file (or the run folder).
        plan: PathBuf,
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
    /// Summary statistics of a Zarr array or of a pipeline's step: min, max, mean, std,
    /// percentiles and a histogram (or, with --axis, min, max, mean and std along those axes).
    Stats {
        /// A Zarr array, or a pipeline file (.json, .yaml, .yml).
        input: PathBuf,
        /// The pipeline step (or input) to look at (default: the first output's).
        #[arg(long)]
        step: Option<String>,
        /// Reduce over these axes only, comma separated: per-slice statistics.
        #[arg(long, value_delimiter = ',')]
        axis: Option<Vec<usize>>,
        /// Percentiles, comma separated, each in 0-100.
        #[arg(long, value_delimiter = ',', default_value = "0.5,50,99.5")]
        percentiles: Vec<f64>,
        /// Histogram bins over [min, max].
        #[arg(long, default_value_t = 256, conflicts_with = "no_histogram")]
        bins: u32,
        /// No histogram (one pass over the data fewer).
        #[arg(long)]
        no_histogram: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Write the summary to this file instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Replace `--output` if it exists.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// One 2-D slice of a 3-d array or pipeline step as a PNG (gray, viridis, magma); on a pipeline only the
    /// chunks the slice needs are computed.
    Preview {
        /// A Zarr array, or a pipeline file (.json, .yaml, .yml).
        input: PathBuf,
        /// The pipeline step (or input) to look at (default: the first output's).
        #[arg(long)]
        step: Option<String>,
        /// The axis to slice: z, y, x (the last three) or a number.
        #[arg(long, default_value = "z")]
        axis: String,
        /// The index along the axis.
        #[arg(long)]
        index: u64,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Percentiles of the slice shown as black and white.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "0.5,99.5",
            conflicts_with = "range"
        )]
        contrast: Vec<f64>,
        /// Values shown as black and white, LO,HI.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        range: Option<Vec<f64>>,
        /// How values are coloured between the contrast limits.
        #[arg(long, value_enum, default_value_t)]
        colormap: crate::cli::colormap::Colormap,
        /// Also draw the slice's histogram (256 bins, display range shaded) into this PNG.
        #[arg(long)]
        histogram: Option<PathBuf>,
        /// Replace the PNG(s) if they exist.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        exec: ExecArgs,
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
pub(super) struct ExecArgs {
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Memory limit, e.g. 512MiB or 2GB (default: half of RAM).
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// What the memory limit bounds: the whole process's resident set (its own size, each
    /// worker thread and the allocator's slack are left out of what the plan may use), or only
    /// the run's accounted memory (tasks, held results, chunk cache), when another budget
    /// covers the rest.
    #[arg(long, value_enum, default_value = "process")]
    memory_limit_covers: Covers,
    /// Requests kept in flight against an object store, apart from the worker threads: writes
    /// go on behind compute, their bytes within the memory limit (default: 32 for object
    /// stores; local files are written by the workers themselves).
    #[arg(long, value_name = "N")]
    io_concurrency: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
    /// Stencils feeding stencils: recomputed per task, materialized in memory, or chosen by
    /// projected cost (auto).
    #[arg(long, value_enum, default_value = "auto")]
    stencil_chains: Chains,
    /// After the run, print each stage's projected memory per task beside the measured one, and
    /// the whole run's projected peak beside the measured peak RSS.
    #[arg(long)]
    memory_report: bool,
}

/// `--memory-limit-covers` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Covers {
    Process,
    Run,
}

/// `--stencil-chains` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Chains {
    Auto,
    Recompute,
    Materialize,
}

impl ExecArgs {
    pub(super) fn options(&self, pool: Pool) -> Result<ExecOptions> {
        let mut o = ExecOptions {
            stencil_chains: match self.stencil_chains {
                Chains::Auto => StencilChains::Auto,
                Chains::Recompute => StencilChains::Recompute,
                Chains::Materialize => StencilChains::Materialize,
            },
            buffer_pool: pool,
            // By default the limit is the process's: what `time -v` or a batch system measures.
            limit_covers_process: matches!(self.memory_limit_covers, Covers::Process),
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
        if let Some(n) = self.io_concurrency {
            if n == 0 {
                return Err(Error::Invalid("--io-concurrency must be at least 1".into()));
            }
            o.io_concurrency = Some(n);
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
    pub(super) fn report(&self, pool: Pool, stats: &RunStats) -> Result<()> {
        if self.memory_report {
            let limit = self.options(pool)?.memory_limit;
            print!("{}", memory_report(stats, limit, peak_resident_bytes()));
        }
        Ok(())
    }

    /// Runs `work` with these options and a progress bar (unless quiet), cleared afterwards
    /// whatever the outcome.
    pub(super) fn with_progress<T>(
        &self,
        pool: Pool,
        label: &str,
        work: impl FnOnce(&ExecOptions) -> Result<T>,
    ) -> Result<T> {
        let mut o = self.options(pool)?;
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
