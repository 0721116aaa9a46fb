//! `chunkwise-bench`: runs every pipeline in chunkwise and in each installed peer (Dask,
//! TensorStore, zarrs_tools, Cubed) on the same generated volume, alternating tools over several
//! rounds, checks that the outputs agree before any time counts, measures each pipeline's floors
//! (see [`floor`]), and writes a Markdown report, a JSON file with every sample and PNG plots of
//! the scaling sweeps.
//!
//! ```text
//! cargo run --release -p chunkwise-bench -- --size 512 --results bench-results
//! ```

mod data;
mod floor;
mod measure;
mod pipelines;
mod plot;
mod report;
mod scaling;
mod tools;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// As chunkwise's CLI allocates (less its per-thread counting): freed multi-MiB buffers recycled by
/// size in front of mimalloc, with the CLI's process settings (`main`), so the floors measured in
/// this process pay for their large buffers what chunkwise pays.
#[global_allocator]
static GLOBAL: chunkwise::RecyclingAllocator<mimalloc::MiMalloc> =
    chunkwise::RecyclingAllocator::new(mimalloc::MiMalloc, 32 << 20);

/// Command-line options.
#[derive(Parser, Debug, Clone)]
#[command(version, about = "Benchmark chunkwise against its peers, side by side")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// The harness's own helpers, run by it as separate processes.
    #[command(subcommand)]
    pub helper: Option<Helper>,
    /// Edge of the cubic uint16 test volume.
    #[arg(long, default_value_t = 512)]
    pub size: u64,
    /// Edge of its cubic chunks.
    #[arg(long, default_value_t = 128)]
    pub chunk: u64,
    /// Worker threads for every tool (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed rounds; each round runs every tool once, in alternating order.
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// Pipelines to run (default: all): clip, chain, downsample, upsample, upsample_linear,
    /// gaussian, seed, pyramid, copy.
    #[arg(long, value_delimiter = ',')]
    pub pipelines: Option<Vec<String>>,
    /// Peers to try (default: all): dask, tensorstore, zarrs_tools, cubed.
    #[arg(long, value_delimiter = ',')]
    pub peers: Option<Vec<String>>,
    /// Where the generated volumes are kept between runs.
    #[arg(long, default_value = "/tmp/chunkwise-bench")]
    pub data: PathBuf,
    /// Folder for report.md, samples.json and the plots.
    #[arg(long, default_value = "bench-results")]
    pub results: PathBuf,
    /// Memory limit passed to chunkwise.
    #[arg(long, default_value = "2GiB")]
    pub memory_limit: String,
    /// Skip the scaling sweeps (threads, volume size, chunk size).
    #[arg(long)]
    pub no_scaling: bool,
    /// Volume edges of the size sweep.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512")]
    pub sizes: Vec<u64>,
    /// Chunk edges of the chunk-size sweep.
    #[arg(long, value_delimiter = ',', default_value = "32,64,128,256")]
    pub chunks: Vec<u64>,
}

/// Commands the harness runs itself; hidden from `--help`.
#[derive(Subcommand, Debug, Clone)]
pub enum Helper {
    /// Measure one floor of a pipeline (see the `floor` module).
    #[command(hide = true)]
    Floor(floor::FloorArgs),
}

fn main() {
    chunkwise::process_memory::tune_for_chunked_work();
    let args = Args::parse();
    let done = match &args.helper {
        Some(Helper::Floor(floor)) => floor::run(floor),
        None => run(&args),
    };
    if let Err(e) = done {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    std::fs::create_dir_all(&args.results)
        .map_err(|e| format!("cannot create {}: {e}", args.results.display()))?;
    let chunkwise = tools::chunkwise_binary()?;
    let volume = data::volume(&args.data, args.size, args.chunk, &chunkwise)?;
    let peers = tools::available_peers(args.peers.as_deref());
    for (peer, why) in &peers.skipped {
        println!("skipping {peer}: {why}");
    }
    let selected = pipelines::select(args.pipelines.as_deref())?;
    // Made before any pipeline: the peers' scripts and pipeline files are written into it.
    let work = args.data.join("work");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let context = measure::Context {
        chunkwise,
        harness: std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?,
        threads,
        memory_limit: args.memory_limit.clone(),
        work,
    };
    let mut comparisons = Vec::new();
    for pipeline in &selected {
        comparisons.push(measure::compare(
            &context,
            *pipeline,
            &volume,
            &peers.found,
            args.reps,
        )?);
    }
    let sweeps = if args.no_scaling {
        Vec::new()
    } else {
        scaling::run(&context, args)?
    };
    let written = report::write(&args.results, args, threads, &volume, &comparisons, &sweeps)?;
    let plots = plot::write(&args.results, &sweeps)?;
    for path in written.iter().chain(&plots) {
        println!("wrote {}", path.display());
    }
    if comparisons.iter().any(measure::Comparison::mismatched) {
        return Err("some outputs differ from a peer's (see the report)".into());
    }
    Ok(())
}
