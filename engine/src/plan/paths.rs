//! Checks on where outputs go. Replacing an output deletes its directory first, so no output
//! may hold, or lie inside, an array the pipeline reads; and two outputs may not share a path.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::graph::ExprGraph;
use super::Output;
use crate::error::{Error, Result};
use crate::expr::{Array, NodeKind};

/// Checks every output's shape and type against its expression, and its path against the
/// inputs and the other outputs.
pub(super) fn validate_outputs(graph: &ExprGraph, outputs: &[Output]) -> Result<()> {
    let sources = source_locations(graph);
    let mut written = HashSet::new();
    for o in outputs {
        let (want, have) = (o.array.meta(), o.sink.meta());
        if want.shape != have.shape || want.dtype != have.dtype {
            return Err(Error::Invalid(format!(
                "output {} is {} {:?} but the expression gives {} {:?}",
                o.sink.describe(),
                have.dtype,
                have.shape,
                want.dtype,
                want.shape
            )));
        }
        if let Some(p) = o.sink.location() {
            let p = canonical(&p);
            if overlaps_any(&sources, &p) {
                return Err(Error::Invalid(format!(
                    "output {} is an input, or contains or lies inside one; write to another path",
                    o.sink.describe()
                )));
            }
            if !written.insert(p) {
                return Err(Error::Invalid(format!(
                    "two outputs write to {}; give each its own path",
                    o.sink.describe()
                )));
            }
        }
        o.sink.validate()?;
    }
    Ok(())
}

/// Checks that deleting `root` (to replace it, as a pyramid replaces its whole group) cannot
/// touch any array that `arrays` read.
///
/// # Errors
/// [`Error::Invalid`] when `root` is an input, contains one, or lies inside one.
pub fn check_replaceable(root: &Path, arrays: &[&Array]) -> Result<()> {
    let sources = source_locations(&ExprGraph::collect(arrays.iter().copied()));
    if overlaps_any(&sources, &canonical(root)) {
        return Err(Error::Invalid(format!(
            "output {} is an input, or contains or lies inside one; write to another path",
            root.display()
        )));
    }
    Ok(())
}

fn source_locations(graph: &ExprGraph) -> HashSet<PathBuf> {
    graph
        .graph
        .node_indices()
        .filter_map(|ix| match graph.graph[ix].node() {
            NodeKind::Source(s) => s.location().map(|p| canonical(&p)),
            _ => None,
        })
        .collect()
}

fn overlaps_any(sources: &HashSet<PathBuf>, path: &Path) -> bool {
    sources
        .iter()
        .any(|s| s.starts_with(path) || path.starts_with(s))
}

/// The absolute, symlink-resolved form of a path that may not exist yet.
fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical(parent).join(name)
        }
        _ => std::env::current_dir().unwrap_or_default().join(p),
    }
}
