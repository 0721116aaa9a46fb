//! The axes of an OME-Zarr image and the NGFF rules they must follow (0.4 and 0.5 agree on
//! these): 2 to 5 axes with unique names; at most one time axis, first; at most one channel
//! axis, before the space axes; 2 or 3 space axes, last; units from the NGFF (UDUNITS-2) list.
//! Readers such as napari and neuroglancer rely on these, so breaking one is an error here
//! rather than a file that opens wrongly elsewhere.

use chunkwise_engine::{Error, Result};

/// What an axis measures; NGFF's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisKind {
    /// A spatial axis: downsampled by default, carries the unit.
    Space,
    /// Time: never downsampled by default.
    Time,
    /// Channels: never downsampled by default.
    Channel,
}

impl AxisKind {
    /// NGFF's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            AxisKind::Space => "space",
            AxisKind::Time => "time",
            AxisKind::Channel => "channel",
        }
    }
}

/// One named axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// Its name in the metadata (and in v3 `dimension_names`).
    pub name: String,
    /// Its type.
    pub kind: AxisKind,
}

/// NGFF's space units: the UDUNITS-2 names its specification lists (the JSON schemas accept any
/// string, but viewers only know these).
const SPACE_UNITS: &[&str] = &[
    "angstrom",
    "attometer",
    "centimeter",
    "decimeter",
    "exameter",
    "femtometer",
    "foot",
    "gigameter",
    "hectometer",
    "inch",
    "kilometer",
    "megameter",
    "meter",
    "micrometer",
    "mile",
    "millimeter",
    "nanometer",
    "parsec",
    "petameter",
    "picometer",
    "terameter",
    "yard",
    "yoctometer",
    "yottameter",
    "zeptometer",
    "zettameter",
];

/// The axes of an `ndim`-d image: from `spec` (one `name` or `name:type` per axis, type
/// `space`, `time` or `channel`; without a type, `t`/`time` are time, `c`/`ch`/`channel` are
/// channels, anything else is space), or NGFF's usual names (`y,x`, `z,y,x`, `c,z,y,x`,
/// `t,c,z,y,x`).
///
/// # Errors
/// [`Error::Invalid`] naming the broken rule: a count other than `ndim`, an unknown type, or
/// axes NGFF does not allow (see the module documentation).
pub fn parse_axes(spec: Option<&[String]>, ndim: usize) -> Result<Vec<Axis>> {
    let names = match spec {
        Some(names) if names.len() != ndim => {
            return Err(Error::Invalid(format!(
                "{} axis names given for a {ndim}-d array; give one per axis",
                names.len()
            )))
        }
        Some(names) => names.to_vec(),
        None => default_names(ndim)?,
    };
    let axes: Vec<Axis> = names.iter().map(|s| parse_axis(s)).collect::<Result<_>>()?;
    check_ngff(&axes)?;
    Ok(axes)
}

/// Checks `unit` against NGFF's list of space units.
///
/// # Errors
/// [`Error::Invalid`] for a unit not in the list (e.g. `um` instead of `micrometer`).
pub fn check_space_unit(unit: &str) -> Result<()> {
    if SPACE_UNITS.contains(&unit) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "unit {unit:?} is not an NGFF space unit; use one of {}",
        SPACE_UNITS.join(", ")
    )))
}

fn default_names(ndim: usize) -> Result<Vec<String>> {
    let names: &[&str] = match ndim {
        2 => &["y", "x"],
        3 => &["z", "y", "x"],
        4 => &["c", "z", "y", "x"],
        5 => &["t", "c", "z", "y", "x"],
        _ => {
            return Err(Error::Invalid(format!(
                "OME-Zarr images have 2 to 5 axes; this array has {ndim}"
            )))
        }
    };
    Ok(names.iter().map(|s| s.to_string()).collect())
}

fn parse_axis(spec: &str) -> Result<Axis> {
    let (name, kind) = match spec.split_once(':') {
        Some((name, kind)) => {
            let kind = match kind {
                "space" => AxisKind::Space,
                "time" => AxisKind::Time,
                "channel" => AxisKind::Channel,
                other => {
                    return Err(Error::Invalid(format!(
                        "axis {spec:?}: unknown type {other:?}; use space, time or channel"
                    )))
                }
            };
            (name, kind)
        }
        None => {
            let kind = match spec {
                "t" | "time" => AxisKind::Time,
                "c" | "ch" | "channel" => AxisKind::Channel,
                _ => AxisKind::Space,
            };
            (spec, kind)
        }
    };
    if name.is_empty() {
        return Err(Error::Invalid(format!("axis {spec:?} has no name")));
    }
    Ok(Axis {
        name: name.to_string(),
        kind,
    })
}

fn check_ngff(axes: &[Axis]) -> Result<()> {
    let listed = || {
        axes.iter()
            .map(|a| format!("{}:{}", a.name, a.kind.name()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let bad = |rule: &str| Err(Error::Invalid(format!("axes {}: {rule}", listed())));
    if !(2..=5).contains(&axes.len()) {
        return bad("OME-Zarr images have 2 to 5 axes");
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.name == a.name) {
            return bad(&format!("the name {:?} is used twice", a.name));
        }
    }
    let count = |k: AxisKind| axes.iter().filter(|a| a.kind == k).count();
    if !(2..=3).contains(&count(AxisKind::Space)) {
        return bad("NGFF needs 2 or 3 space axes");
    }
    if count(AxisKind::Time) > 1 || count(AxisKind::Channel) > 1 {
        return bad("NGFF allows at most one time and one channel axis");
    }
    // Order: time, then channel, then space.
    let rank = |k: AxisKind| match k {
        AxisKind::Time => 0,
        AxisKind::Channel => 1,
        AxisKind::Space => 2,
    };
    if axes.windows(2).any(|w| rank(w[0].kind) > rank(w[1].kind)) {
        return bad("NGFF orders axes time first, then channel, then space");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_typed_names() {
        let axes = parse_axes(None, 4).unwrap();
        let kinds: Vec<AxisKind> = axes.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                AxisKind::Channel,
                AxisKind::Space,
                AxisKind::Space,
                AxisKind::Space
            ]
        );
        let axes = parse_axes(Some(&spec(&["stain:channel", "row", "col"])), 3).unwrap();
        assert_eq!(axes[0].name, "stain");
        assert_eq!(axes[0].kind, AxisKind::Channel);
        assert_eq!(axes[2].kind, AxisKind::Space);
        assert_eq!(
            parse_axes(Some(&spec(&["ch", "y", "x"])), 3).unwrap()[0].kind,
            AxisKind::Channel
        );
    }

    #[test]
    fn ngff_rules_are_errors_that_name_the_rule() {
        let cases: &[(&[&str], &str)] = &[
            (&["x"], "2 to 5 axes"),
            (&["y", "y"], "used twice"),
            (&["c", "x"], "2 or 3 space axes"),
            (&["a", "b", "c2", "d"], "2 or 3 space axes"),
            (&["t", "time:time", "y", "x"], "at most one time"),
            (&["z", "c", "y", "x"], "time first, then channel"),
            (&["c", "t", "y", "x"], "time first, then channel"),
            (&["z:depth", "y", "x"], "unknown type \"depth\""),
            (&[":space", "y", "x"], "has no name"),
        ];
        for (names, want) in cases {
            let err = parse_axes(Some(&spec(names)), names.len()).unwrap_err();
            assert!(err.to_string().contains(want), "{names:?}: {err}");
        }
        let err = parse_axes(Some(&spec(&["y", "x"])), 3).unwrap_err();
        assert!(
            err.to_string().contains("2 axis names given for a 3-d"),
            "{err}"
        );
        let err = parse_axes(None, 6).unwrap_err();
        assert!(err.to_string().contains("2 to 5 axes"), "{err}");
    }

    #[test]
    fn units_come_from_the_ngff_list() {
        check_space_unit("micrometer").unwrap();
        let err = check_space_unit("um").unwrap_err();
        assert!(err.to_string().contains("micrometer"), "{err}");
    }
}
