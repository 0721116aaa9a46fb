//! The tools under test: chunkwise's own CLI, the peers found on this machine and the floors. The
//! harness installs nothing; a peer that is missing is reported as skipped.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::floor::Floor;

/// One row of a pipeline's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// The chunkwise CLI, timed as a whole process (it starts in milliseconds).
    Chunkwise,
    /// A peer: Python ones report their own time from inside, zarrs_tools is timed as a process.
    Peer(Peer),
    /// A floor of the pipeline, measured with chunkwise's reader and writer.
    Floor(Floor),
}

impl Tool {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Chunkwise => "chunkwise",
            Tool::Peer(peer) => peer.name(),
            Tool::Floor(floor) => floor.name(),
        }
    }
}

/// A peer system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Dask (threaded scheduler), with SciPy for the filters.
    Dask,
    /// TensorStore.
    TensorStore,
    /// zarrs_tools' `zarrs_filter` and `zarrs_reencode` (eager, one pass per filter).
    ZarrsTools,
    /// Cubed (bounded-memory array API), threads executor.
    Cubed,
}

impl Peer {
    /// Every peer, in report order.
    pub const ALL: [Peer; 4] = [Peer::Dask, Peer::TensorStore, Peer::ZarrsTools, Peer::Cubed];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Dask => "dask",
            Peer::TensorStore => "tensorstore",
            Peer::ZarrsTools => "zarrs_tools",
            Peer::Cubed => "cubed",
        }
    }

    /// Why the peer cannot run here, or None when it can.
    fn missing(self) -> Option<String> {
        let python = |module: &str, install: &str| {
            let ok = Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            (!ok).then(|| format!("python3 cannot import {module} (pip install {install})"))
        };
        match self {
            Peer::Dask => python("dask.array, scipy, zarr", "\"dask[array]\" scipy zarr"),
            Peer::TensorStore => python("tensorstore", "tensorstore"),
            Peer::Cubed => python("cubed, zarr", "cubed zarr"),
            Peer::ZarrsTools => {
                let ok = ["zarrs_filter", "zarrs_reencode"].iter().all(|b| {
                    Command::new(b)
                        .arg("--version")
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok()
                });
                (!ok).then(|| {
                    "zarrs_filter/zarrs_reencode not on PATH (cargo install zarrs_tools \
                     --features filter)"
                        .to_string()
                })
            }
        }
    }
}

/// Peers that can run here, and the others with the reason.
pub struct Peers {
    /// Usable peers.
    pub found: Vec<Peer>,
    /// (name, reason) of the others.
    pub skipped: Vec<(String, String)>,
}

/// The peers among `wanted` (all when None) that are installed.
pub fn available_peers(wanted: Option<&[String]>) -> Peers {
    let mut peers = Peers {
        found: Vec::new(),
        skipped: Vec::new(),
    };
    for peer in Peer::ALL {
        if wanted.is_some_and(|w| !w.iter().any(|n| n == peer.name())) {
            continue;
        }
        match peer.missing() {
            None => peers.found.push(peer),
            Some(why) => peers.skipped.push((peer.name().to_string(), why)),
        }
    }
    if let Some(w) = wanted {
        for name in w {
            if !Peer::ALL.iter().any(|p| p.name() == name) {
                peers
                    .skipped
                    .push((name.clone(), "not a known peer".to_string()));
            }
        }
    }
    peers
}

/// The `chunkwise` CLI beside this binary, built first with cargo (same profile) so the
/// figures are always of the current source.
///
/// # Errors
/// When it cannot be built.
pub fn chunkwise_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.with_file_name("chunkwise");
    let release = exe.parent().is_some_and(|d| d.ends_with("release"));
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "--quiet", "-p", "chunkwise", "--bin", "chunkwise"]);
    if release {
        cargo.arg("--release");
    }
    cargo.current_dir(env!("CARGO_MANIFEST_DIR"));
    let built = cargo.status().is_ok_and(|s| s.success());
    if built && path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "could not build {} (run cargo build --release in the chunkwise checkout)",
            path.display()
        ))
    }
}
