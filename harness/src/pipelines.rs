//! The benchmark pipelines: how chunkwise and each peer run them, and how closely their outputs
//! must agree.

use std::path::Path;

use serde_json::{json, Value};

use crate::tools::Peer;

/// A benchmark pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipeline {
    /// Copy with the same chunks and codec (chunkwise copies each stored chunk as it is, decoding
    /// it to check it; the peers decode and re-encode).
    Copy,
    /// `clip(x, 10000, 40000)`.
    Clip,
    /// `((f32(x) * 1.5 + 100).clip(0, 65535) / 2) as u16`: five element-wise ops.
    Chain,
    /// 2x2x2 mean.
    Downsample,
    /// 2x nearest.
    Upsample,
    /// 2x linear (SciPy zoom order 1).
    UpsampleLinear,
    /// `gaussian_filter(sigma=2)`, reflect, float32 out.
    Gaussian,
    /// clip -> gaussian -> astype uint16 -> 2x mean downsample.
    Seed,
    /// Three 2x mean levels.
    Pyramid,
    /// `x.sum()` (uint64), to a JSON file.
    Sum,
    /// `x.min()`, to a JSON file.
    Min,
    /// `x.max()`, to a JSON file.
    Max,
    /// `x.mean()` (float64), to a JSON file.
    Mean,
    /// `np.histogram(x, 256, range=(0, 65536))` counts, to a JSON file.
    Histogram,
    /// Exact percentiles 0.5, 50 and 99.5 (NumPy's linear method), to a JSON file.
    Percentiles,
    /// Maximum-intensity projection along z: a 2-D Zarr array.
    Mip,
}

/// How two outputs must agree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// The bound on each difference.
    pub limit: Limit,
    /// Elements this close to an array face are not compared (0: all are): for a peer whose
    /// filter extends the array differently at its edges.
    pub margin: u64,
}

/// The bound on each difference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// At most this absolute difference.
    Absolute(f64),
    /// `|a - b| <= rel * (|b| + max |b| over the array)`.
    Relative(f64),
}

impl Tolerance {
    const EXACT: Tolerance = Tolerance::absolute(0.0);

    const fn absolute(limit: f64) -> Tolerance {
        Tolerance {
            limit: Limit::Absolute(limit),
            margin: 0,
        }
    }
}

impl Pipeline {
    /// Every pipeline, in report order.
    pub const ALL: [Pipeline; 16] = [
        Pipeline::Copy,
        Pipeline::Clip,
        Pipeline::Chain,
        Pipeline::Downsample,
        Pipeline::Upsample,
        Pipeline::UpsampleLinear,
        Pipeline::Gaussian,
        Pipeline::Seed,
        Pipeline::Pyramid,
        Pipeline::Sum,
        Pipeline::Min,
        Pipeline::Max,
        Pipeline::Mean,
        Pipeline::Histogram,
        Pipeline::Percentiles,
        Pipeline::Mip,
    ];

    /// The percentiles of [`Pipeline::Percentiles`], as the peers' scripts ask for them.
    const PERCENTILES: &'static str = "0.5,50,99.5";

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Pipeline::Copy => "copy",
            Pipeline::Clip => "clip",
            Pipeline::Chain => "chain",
            Pipeline::Downsample => "downsample",
            Pipeline::Upsample => "upsample",
            Pipeline::UpsampleLinear => "upsample_linear",
            Pipeline::Gaussian => "gaussian",
            Pipeline::Seed => "seed",
            Pipeline::Pyramid => "pyramid",
            Pipeline::Sum => "sum",
            Pipeline::Min => "min",
            Pipeline::Max => "max",
            Pipeline::Mean => "mean",
            Pipeline::Histogram => "histogram",
            Pipeline::Percentiles => "percentiles",
            Pipeline::Mip => "mip",
        }
    }

    /// One line for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Pipeline::Copy => "copy, same chunks and codec (chunkwise copies stored chunks)",
            Pipeline::Clip => "clip(x, 10000, 40000)",
            Pipeline::Chain => "((f32(x) * 1.5 + 100).clip(0, 65535) / 2) as u16",
            Pipeline::Downsample => "2x2x2 mean downsample",
            Pipeline::Upsample => "2x nearest upsample",
            Pipeline::UpsampleLinear => "2x linear upsample (scipy zoom order 1)",
            Pipeline::Gaussian => "gaussian_filter sigma 2, reflect, float32",
            Pipeline::Seed => "clip -> gaussian -> uint16 -> 2x mean downsample",
            Pipeline::Pyramid => "3 levels of 2x mean, levels 1-3 written (as the peers do)",
            Pipeline::Sum => "sum of all voxels (uint64), to JSON",
            Pipeline::Min => "min of all voxels, to JSON",
            Pipeline::Max => "max of all voxels, to JSON",
            Pipeline::Mean => "mean of all voxels (float64), to JSON",
            Pipeline::Histogram => "histogram, 256 bins over [0, 65536), to JSON",
            Pipeline::Percentiles => {
                "exact percentiles 0.5, 50, 99.5 (chunkwise stats: min, max, mean and std as well, from the same one pass)"
            }
            Pipeline::Mip => "maximum-intensity projection along z (2-D Zarr)",
        }
    }

    /// True when the output is a JSON file of numbers, not a Zarr array.
    pub fn writes_json(self) -> bool {
        matches!(
            self,
            Pipeline::Sum
                | Pipeline::Min
                | Pipeline::Max
                | Pipeline::Mean
                | Pipeline::Histogram
                | Pipeline::Percentiles
        )
    }

    /// The output's file name extension.
    pub fn output_extension(self) -> &'static str {
        if self.writes_json() {
            "json"
        } else {
            "zarr"
        }
    }

    /// The numbers of a JSON output, in order: the peers' flat lists, the `value` of
    /// chunkwise's JSON outputs, the percentile values of `chunkwise stats --json`.
    pub fn json_numbers(self, value: &Value) -> Vec<f64> {
        fn flatten(v: &Value, into: &mut Vec<f64>) {
            match v {
                Value::Number(n) => into.extend(n.as_f64()),
                Value::Array(items) => items.iter().for_each(|i| flatten(i, into)),
                _ => {}
            }
        }
        let mut numbers = Vec::new();
        match (value.get("percentiles"), value.get("value")) {
            (Some(Value::Array(pairs)), _) if self == Pipeline::Percentiles => {
                for pair in pairs {
                    flatten(&pair[1], &mut numbers);
                }
            }
            (_, Some(inner)) => flatten(inner, &mut numbers),
            _ => flatten(value, &mut numbers),
        }
        numbers
    }

    /// The chunkwise steps, reading `x` and producing `y` (levels `1`-`3` for the pyramid; None
    /// for the percentiles, which run the `stats` command).
    fn steps(self) -> Option<Value> {
        let steps = match self {
            Pipeline::Copy => json!([]),
            Pipeline::Clip => {
                json!([{"id": "y", "op": "clip", "x": "x", "min": 10000, "max": 40000}])
            }
            Pipeline::Chain => json!([
                {"id": "f", "op": "astype", "x": "x", "dtype": "float32"},
                {"id": "m", "op": "mul", "x": "f", "y": 1.5},
                {"id": "a", "op": "add", "x": "m", "y": 100},
                {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
                {"id": "d", "op": "div", "x": "c", "y": 2},
                {"id": "y", "op": "astype", "x": "d", "dtype": "uint16"}
            ]),
            Pipeline::Downsample => json!([
                {"id": "y", "op": "downsample", "x": "x", "factors": [2, 2, 2], "method": "mean"}
            ]),
            Pipeline::Upsample => json!([
                {"id": "y", "op": "upsample", "x": "x", "factors": [2, 2, 2], "method": "nearest"}
            ]),
            Pipeline::UpsampleLinear => json!([
                {"id": "y", "op": "upsample", "x": "x", "factors": [2, 2, 2], "method": "linear"}
            ]),
            Pipeline::Gaussian => json!([
                {"id": "y", "op": "gaussian_filter", "x": "x", "sigma": 2.0}
            ]),
            Pipeline::Seed => json!([
                {"id": "c", "op": "clip", "x": "x", "min": 10000, "max": 40000},
                {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2.0},
                {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
                {"id": "y", "op": "downsample", "x": "u", "factors": [2, 2, 2], "method": "mean"}
            ]),
            Pipeline::Sum | Pipeline::Min | Pipeline::Max | Pipeline::Mean => json!([
                {"id": "y", "op": "reduce", "x": "x", "reduction": self.name()}
            ]),
            Pipeline::Histogram => json!([
                {"id": "y", "op": "histogram", "x": "x", "bins": 256, "range": [0, 65536]}
            ]),
            Pipeline::Mip => json!([
                {"id": "y", "op": "reduce", "x": "x", "reduction": "max", "axes": [0]}
            ]),
            // Levels 1-3 and nothing else, as the peers write them: the `pyramid` command also
            // writes level 0 (a copy of the input) and the group metadata, work the peers'
            // scripts do not do.
            Pipeline::Pyramid => json!([
                {"id": "1", "op": "downsample", "x": "x", "factors": [2, 2, 2], "method": "mean"},
                {"id": "2", "op": "downsample", "x": "1", "factors": [2, 2, 2], "method": "mean"},
                {"id": "3", "op": "downsample", "x": "2", "factors": [2, 2, 2], "method": "mean"}
            ]),
            Pipeline::Percentiles => return None,
        };
        Some(steps)
    }

    /// The chunkwise command line (after the binary) writing `out`, its pipeline file (if any)
    /// written into `work`.
    ///
    /// # Errors
    /// When the pipeline file cannot be written.
    pub fn chunkwise_args(
        self,
        src: &Path,
        out: &Path,
        work: &Path,
    ) -> Result<Vec<String>, String> {
        let s = |p: &Path| p.display().to_string();
        if self == Pipeline::Percentiles {
            return Ok(vec![
                "stats".into(),
                s(src),
                "--no-histogram".into(),
                "--percentiles".into(),
                Self::PERCENTILES.into(),
                "--json".into(),
                "-o".into(),
                s(out),
            ]);
        }
        let Some(steps) = self.steps() else {
            return Err(format!("{} has no pipeline file", self.name()));
        };
        let from = if self == Pipeline::Copy { "x" } else { "y" };
        let outputs: Vec<Value> = if self.writes_json() {
            vec![json!({"from": from, "path": s(out)})]
        } else if self == Pipeline::Pyramid {
            self.compared_arrays()
                .into_iter()
                .map(|k| {
                    json!({"from": k, "path": s(&out.join(k)), "codec": {"name": "zstd", "level": 1}})
                })
                .collect()
        } else {
            vec![json!({"from": from, "path": s(out), "codec": {"name": "zstd", "level": 1}})]
        };
        let spec = json!({"inputs": {"x": s(src)}, "steps": steps, "outputs": outputs});
        let file = work.join(format!("{}.json", self.name()));
        std::fs::write(&file, spec.to_string()).map_err(|e| e.to_string())?;
        Ok(vec!["run".into(), s(&file)])
    }

    /// The command running this pipeline in `peer`, when the peer can express it.
    pub fn peer_command(
        self,
        peer: Peer,
        src: &Path,
        out: &Path,
        threads: usize,
        work: &Path,
    ) -> Option<Vec<String>> {
        let s = |p: &Path| p.display().to_string();
        let python = |script: &str, body: &str| -> Option<Vec<String>> {
            let file = work.join(script);
            std::fs::write(&file, body).ok()?;
            Some(vec![
                "python3".into(),
                s(&file),
                self.name().into(),
                s(src),
                s(out),
                threads.to_string(),
            ])
        };
        use Pipeline::*;
        match peer {
            Peer::Dask => matches!(
                self,
                Copy | Clip
                    | Chain
                    | Downsample
                    | Upsample
                    | Gaussian
                    | Seed
                    | Pyramid
                    | Sum
                    | Min
                    | Max
                    | Mean
                    | Histogram
                    | Percentiles
                    | Mip
            )
            .then(|| python("dask_peer.py", include_str!("../peers/dask_peer.py")))?,
            Peer::TensorStore => matches!(self, Copy | Downsample | Pyramid).then(|| {
                python(
                    "tensorstore_peer.py",
                    include_str!("../peers/tensorstore_peer.py"),
                )
            })?,
            Peer::Cubed => matches!(self, Clip | Chain)
                .then(|| python("cubed_peer.py", include_str!("../peers/cubed_peer.py")))?,
            Peer::ZarrsTools => zarrs_tools(self, &s(src), &s(out), threads, work),
        }
    }

    /// How closely `peer`'s output must match chunkwise's.
    ///
    /// zarrs_tools' gaussian is not scipy's: it clamps at the edges (scipy's "nearest", where
    /// the benchmark uses "reflect") and samples its kernel its own way (within 1e-4 of scipy's
    /// results inside), so against it the 8 voxels at each face are left out.
    pub fn tolerance(self, peer: Peer) -> Tolerance {
        match (self, peer) {
            (Pipeline::Gaussian, Peer::ZarrsTools) => Tolerance {
                limit: Limit::Relative(1e-4),
                margin: 8,
            },
            (Pipeline::Gaussian, _) => Tolerance {
                limit: Limit::Relative(1e-5),
                margin: 0,
            },
            (Pipeline::Seed, Peer::ZarrsTools) => Tolerance {
                limit: Limit::Absolute(3.0),
                margin: 4,
            },
            // Dask's coarsen mean truncates where chunkwise and TensorStore round half to even;
            // zarrs_tools rounds its own way: one unit per level.
            (Pipeline::Downsample | Pipeline::Pyramid, Peer::TensorStore) => Tolerance::EXACT,
            (Pipeline::Downsample, _) => Tolerance::absolute(1.0),
            (Pipeline::Seed, _) => Tolerance::absolute(2.0),
            (Pipeline::Pyramid, _) => Tolerance::absolute(3.0),
            // Both divide the same exact sum by the same count.
            (Pipeline::Mean, _) => Tolerance::absolute(1e-9),
            _ => Tolerance::EXACT,
        }
    }

    /// The arrays to compare: (label, path under an output) pairs.
    pub fn compared_arrays(self) -> Vec<&'static str> {
        match self {
            Pipeline::Pyramid => vec!["1", "2", "3"],
            _ => vec![""],
        }
    }
}

fn zarrs_tools(
    pipeline: Pipeline,
    src: &str,
    out: &str,
    threads: usize,
    work: &Path,
) -> Option<Vec<String>> {
    let limit = format!("--chunk-limit={threads}");
    let filter = |args: &[&str]| -> Vec<String> {
        let mut cmd = vec!["zarrs_filter".to_string()];
        cmd.extend(args.iter().map(|a| a.to_string()));
        cmd.push(limit.clone());
        cmd
    };
    match pipeline {
        Pipeline::Copy => Some(vec![
            "zarrs_reencode".into(),
            src.into(),
            out.into(),
            "--concurrent-chunks".into(),
            threads.to_string(),
        ]),
        Pipeline::Clip => Some(filter(&["clamp", src, out, "10000", "40000"])),
        Pipeline::Downsample => Some(filter(&["downsample", src, out, "2,2,2"])),
        Pipeline::Gaussian => Some(filter(&[
            "gaussian",
            "-d",
            "float32",
            src,
            out,
            "2.0,2.0,2.0",
            "8,8,8",
        ])),
        Pipeline::Seed => {
            // One filter per pass, intermediates on disk (how zarrs_tools chains filters).
            let (a, b) = (work.join("zt_a.zarr"), work.join("zt_b.zarr"));
            let (a, b) = (a.display().to_string(), b.display().to_string());
            let steps = [
                filter(&["clamp", src, &a, "10000", "40000"]),
                filter(&["gaussian", "-d", "float32", &a, &b, "2.0,2.0,2.0", "8,8,8"]),
                filter(&["downsample", "-d", "uint16", &b, out, "2,2,2"]),
            ];
            let script = steps
                .iter()
                .map(|s| s.join(" "))
                .collect::<Vec<_>>()
                .join(" && ");
            Some(vec![
                "sh".into(),
                "-c".into(),
                format!("rm -rf {a} {b} && {script} && rm -rf {a} {b}"),
            ])
        }
        _ => None,
    }
}

/// The pipelines named in `wanted` (all when None), in report order.
///
/// # Errors
/// An unknown name, with the known ones.
pub fn select(wanted: Option<&[String]>) -> Result<Vec<Pipeline>, String> {
    let Some(wanted) = wanted else {
        return Ok(Pipeline::ALL.to_vec());
    };
    for name in wanted {
        if !Pipeline::ALL.iter().any(|p| p.name() == name) {
            let known: Vec<&str> = Pipeline::ALL.iter().map(|p| p.name()).collect();
            return Err(format!(
                "unknown pipeline {name:?}; known: {}",
                known.join(", ")
            ));
        }
    }
    Ok(Pipeline::ALL
        .into_iter()
        .filter(|p| wanted.iter().any(|w| w == p.name()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_are_selected_by_name_in_report_order() {
        let picked = select(Some(&["seed".to_string(), "clip".to_string()])).unwrap();
        assert_eq!(picked, vec![Pipeline::Clip, Pipeline::Seed]);
        assert!(select(Some(&["blur".to_string()]))
            .unwrap_err()
            .contains("known: copy"));
        assert_eq!(select(None).unwrap().len(), Pipeline::ALL.len());
    }
}
