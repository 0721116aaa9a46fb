//! NumPy's basic indexing written as text (`"100:900, :, ::-2"`, `"..., 3"`, `"None, 5:"`): the
//! parser for pipeline files and `x.slice(...)`, and the resolution of each item against an
//! array's shape with Python's slice rules. Errors name the column of the text they stop at, and
//! out-of-range indices use NumPy's wording.

use std::fmt;

use chunkwise_engine::{Error, Result};

/// One item of a basic index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexItem {
    /// `start:stop:step`, each part optional (a step of 0 is refused when resolved).
    Slice {
        /// Where to start (negative counts from the end).
        start: Option<i64>,
        /// Where to stop, exclusive (negative counts from the end).
        stop: Option<i64>,
        /// The step (negative walks backwards).
        step: Option<i64>,
    },
    /// One position: the axis is dropped (negative counts from the end).
    Int(i64),
    /// `...`: as many full slices as the other items leave axes.
    Ellipsis,
    /// `None` (`np.newaxis`): a new axis of extent 1.
    NewAxis,
}

impl IndexItem {
    /// The full slice `:`.
    pub const ALL: IndexItem = IndexItem::Slice {
        start: None,
        stop: None,
        step: None,
    };
}

impl fmt::Display for IndexItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |v: &Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        match self {
            IndexItem::Slice { start, stop, step } => {
                write!(f, "{}:{}", part(start), part(stop))?;
                match step {
                    Some(s) => write!(f, ":{s}"),
                    None => Ok(()),
                }
            }
            IndexItem::Int(i) => write!(f, "{i}"),
            IndexItem::Ellipsis => f.write_str("..."),
            IndexItem::NewAxis => f.write_str("None"),
        }
    }
}

/// The text of an index, items joined as NumPy prints them.
pub fn index_text(items: &[IndexItem]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses NumPy's basic-index syntax: items separated by commas, each an integer, a slice
/// `start:stop:step` (every part optional), `...`, or `None`. Spaces are ignored; an empty text
/// or `()` is the empty index (the whole array).
///
/// # Errors
/// [`Error::Invalid`] giving the text and the 1-based column of the first character that does
/// not fit (`index "1:x": column 3: expected an integer, found "x"`).
pub fn parse_index(text: &str) -> Result<Vec<IndexItem>> {
    let trimmed = text.trim();
    let inner = if trimmed == "()" { "" } else { text };
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Ok(items);
    }
    let mut column = 1;
    let parts: Vec<&str> = inner.split(',').collect();
    let last = parts.len() - 1;
    for (k, part) in parts.iter().enumerate() {
        // A trailing comma is allowed, as in Python ("3," is a 1-tuple).
        if k == last && k > 0 && part.trim().is_empty() {
            break;
        }
        items.push(parse_item(text, part, column)?);
        column += part.chars().count() + 1;
    }
    Ok(items)
}

/// One comma-separated item starting at `column` of `text`.
fn parse_item(text: &str, part: &str, column: usize) -> Result<IndexItem> {
    let lead = part.len() - part.trim_start().len();
    let body = part.trim();
    let at = column + part[..lead].chars().count();
    let bad = |offset: usize, what: &str| {
        Error::Invalid(format!(
            "index {text:?}: column {}: {what}",
            at + body[..offset].chars().count()
        ))
    };
    if body.is_empty() {
        return Err(bad(
            0,
            "expected an integer, a slice, ... or None, found nothing",
        ));
    }
    if body == "..." {
        return Ok(IndexItem::Ellipsis);
    }
    if body == "None" || body == "np.newaxis" {
        return Ok(IndexItem::NewAxis);
    }
    let fields: Vec<&str> = body.split(':').collect();
    if fields.len() > 3 {
        let third = body.match_indices(':').nth(2).map_or(0, |(i, _)| i);
        return Err(bad(third, "a slice has at most two ':' (start:stop:step)"));
    }
    let mut values = Vec::with_capacity(3);
    let mut offset = 0;
    for field in &fields {
        values.push(parse_int(field).map_err(|skip| {
            let found: String = field.trim_start().chars().take(8).collect();
            bad(
                offset + skip,
                &format!("expected an integer, found {found:?}"),
            )
        })?);
        offset += field.len() + 1;
    }
    if let [Some(i)] = values[..] {
        return Ok(IndexItem::Int(i));
    }
    if let [None] = values[..] {
        return Err(bad(0, "expected an integer, a slice, ... or None"));
    }
    Ok(IndexItem::Slice {
        start: values[0],
        stop: values[1],
        step: values.get(2).copied().flatten(),
    })
}

/// An optional integer (spaces around it ignored); on failure the byte offset of the first
/// character that is not part of one.
fn parse_int(field: &str) -> std::result::Result<Option<i64>, usize> {
    let lead = field.len() - field.trim_start().len();
    let s = field.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| {
        let digits = s.strip_prefix(['-', '+']).map_or(0, |_| 1);
        lead + s[digits..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(digits, |i| digits + i)
    })
}

/// What one input axis becomes after indexing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisSelect {
    /// `len` positions `start, start + step, ...` (`start` meaningless when `len` is 0).
    Range {
        /// The first position read.
        start: u64,
        /// The distance between positions read (never 0).
        step: i64,
        /// How many.
        len: u64,
    },
    /// One position; the axis is dropped.
    At(u64),
}

/// The result of resolving an index against a shape: per input axis its selection, and the
/// output axes in order (an input axis kept, or a new axis of extent 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Per input axis.
    pub axes: Vec<AxisSelect>,
    /// Per output axis: `Some(input axis)` or `None` for a new axis.
    pub output: Vec<Option<usize>>,
}

/// Resolves `items` against `shape` as NumPy does: `...` expands to full slices (one is
/// appended when absent), integers count from the end when negative, slices clip to the axis.
///
/// # Errors
/// [`Error::Index`] for too many indices or an integer out of bounds, [`Error::Invalid`] for a
/// zero step or two ellipses, with NumPy's messages (and its exception types in Python).
pub fn resolve(items: &[IndexItem], shape: &[u64]) -> Result<Resolved> {
    let ellipses = items.iter().filter(|i| **i == IndexItem::Ellipsis).count();
    if ellipses > 1 {
        return Err(Error::Invalid(
            "an index can only have a single ellipsis ('...')".into(),
        ));
    }
    let consuming = items
        .iter()
        .filter(|i| matches!(i, IndexItem::Slice { .. } | IndexItem::Int(_)))
        .count();
    if consuming > shape.len() {
        return Err(Error::Index(format!(
            "too many indices for array: array is {}-dimensional, but {consuming} were indexed",
            shape.len()
        )));
    }
    let mut expanded: Vec<IndexItem> = Vec::with_capacity(items.len() + shape.len());
    for item in items {
        if *item == IndexItem::Ellipsis {
            expanded.extend(std::iter::repeat_n(IndexItem::ALL, shape.len() - consuming));
        } else {
            expanded.push(*item);
        }
    }
    if ellipses == 0 {
        expanded.extend(std::iter::repeat_n(IndexItem::ALL, shape.len() - consuming));
    }
    let mut axes = Vec::with_capacity(shape.len());
    let mut output = Vec::with_capacity(expanded.len());
    for item in expanded {
        let d = axes.len();
        match item {
            IndexItem::NewAxis => output.push(None),
            IndexItem::Int(i) => axes.push(AxisSelect::At(position(i, d, shape[d])?)),
            IndexItem::Slice { start, stop, step } => {
                output.push(Some(d));
                axes.push(slice_axis(start, stop, step, shape[d])?);
            }
            IndexItem::Ellipsis => {}
        }
    }
    Ok(Resolved { axes, output })
}

/// Integer `i` on axis `axis` of extent `n`.
fn position(i: i64, axis: usize, n: u64) -> Result<u64> {
    let n_i = i128::from(n);
    let at = if i < 0 {
        i128::from(i) + n_i
    } else {
        i128::from(i)
    };
    if (0..n_i).contains(&at) {
        Ok(at as u64)
    } else {
        Err(Error::Index(format!(
            "index {i} is out of bounds for axis {axis} with size {n}"
        )))
    }
}

/// Python's `slice(start, stop, step).indices(n)` and the number of positions it gives.
fn slice_axis(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    n: u64,
) -> Result<AxisSelect> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::Invalid("slice step cannot be zero".into()));
    }
    let n = i128::from(n);
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: Option<i64>, default: i128| {
        v.map_or(default, |v| {
            let v = i128::from(v);
            (if v < 0 { v + n } else { v }).clamp(lo, hi)
        })
    };
    let (first, end) = if step > 0 {
        (clamp(start, 0), clamp(stop, n))
    } else {
        (clamp(start, n - 1), clamp(stop, -1))
    };
    let step_i = i128::from(step);
    let span = end - first;
    let len = if span == 0 || (span > 0) != (step > 0) {
        0
    } else {
        (span.abs() + step_i.abs() - 1) / step_i.abs()
    };
    Ok(AxisSelect::Range {
        start: if len == 0 { 0 } else { first as u64 },
        step,
        len: len as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::IndexItem::*;
    use super::*;

    fn s(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> IndexItem {
        Slice { start, stop, step }
    }

    #[test]
    fn parses_numpy_syntax() {
        assert_eq!(
            parse_index("100:900, :, ::-2").unwrap(),
            [
                s(Some(100), Some(900), None),
                s(None, None, None),
                s(None, None, Some(-2))
            ]
        );
        assert_eq!(parse_index(" ..., -1 ").unwrap(), [Ellipsis, Int(-1)]);
        assert_eq!(parse_index("None, 3,").unwrap(), [NewAxis, Int(3)]);
        assert_eq!(parse_index("").unwrap(), []);
        assert_eq!(parse_index("()").unwrap(), []);
        assert_eq!(
            index_text(&parse_index("1:5:2, ...").unwrap()),
            "1:5:2, ..."
        );
    }

    #[test]
    fn parse_errors_point_at_the_column() {
        let e = |t: &str| parse_index(t).unwrap_err().to_string();
        assert_eq!(
            e("1:x"),
            "index \"1:x\": column 3: expected an integer, found \"x\""
        );
        assert_eq!(
            e("0, 12a:"),
            "index \"0, 12a:\": column 6: expected an integer, found \"12a\""
        );
        assert!(e("1:2:3:4").contains("column 6"), "{}", e("1:2:3:4"));
        assert!(e("1,,2").contains("column 3"), "{}", e("1,,2"));
    }

    #[test]
    fn resolves_as_python_slices() {
        let r = |t: &str, shape: &[u64]| resolve(&parse_index(t).unwrap(), shape);
        let range = |start, step, len| AxisSelect::Range { start, step, len };
        assert_eq!(r("::-1", &[5]).unwrap().axes, [range(4, -1, 5)]);
        assert_eq!(r("-2:", &[5]).unwrap().axes, [range(3, 1, 2)]);
        assert_eq!(r("10:", &[5]).unwrap().axes, [range(0, 1, 0)]);
        assert_eq!(r("1:-1:3", &[10]).unwrap().axes, [range(1, 3, 3)]);
        assert_eq!(r("-100:100:-1", &[5]).unwrap().axes, [range(0, -1, 0)]);
        assert_eq!(r("3:0:-2", &[5]).unwrap().axes, [range(3, -2, 2)]);
        let res = r("None, -1, ...", &[4, 6, 7]).unwrap();
        assert_eq!(res.axes[0], AxisSelect::At(3));
        assert_eq!(res.output, [None, Some(1), Some(2)]);
    }

    #[test]
    fn bad_indices_use_numpy_wording() {
        let r = |t: &str| {
            resolve(&parse_index(t).unwrap(), &[4, 6])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            r("0, 1, 2"),
            "too many indices for array: array is 2-dimensional, but 3 were indexed"
        );
        assert_eq!(
            r("0, -7"),
            "index -7 is out of bounds for axis 1 with size 6"
        );
        assert_eq!(r("::0"), "slice step cannot be zero");
        assert_eq!(
            r("..., ..."),
            "an index can only have a single ellipsis ('...')"
        );
    }
}
