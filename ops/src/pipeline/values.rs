//! Parameter shapes of pipeline files beyond plain numbers: a value per axis given once for all
//! axes, and nested arrays (kernels, footprints).

use std::fmt;

use chunkwise_engine::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One value for every axis, or one per axis (scipy accepts both).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerAxis<T> {
    /// The same for every axis.
    One(T),
    /// One per axis.
    Each(Vec<T>),
}

impl<T: Clone> PerAxis<T> {
    /// The value per axis of an `ndim`-d array (a list is passed on as given; the op checks its
    /// length).
    pub fn resolve(&self, ndim: usize) -> Vec<T> {
        match self {
            PerAxis::One(v) => vec![v.clone(); ndim],
            PerAxis::Each(v) => v.clone(),
        }
    }

    /// The values as a list, a single one as a list of one (NumPy's `int or tuple of ints`).
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            PerAxis::One(v) => vec![v.clone()],
            PerAxis::Each(v) => v.clone(),
        }
    }
}

/// A nested JSON array of numbers (or booleans), as its shape and C-order values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Nested {
    /// Extent per nesting level.
    pub shape: Vec<usize>,
    /// The values, C order.
    pub values: Vec<f64>,
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Nested::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl Nested {
    fn from_value(value: &Value) -> Result<Self> {
        let mut shape = Vec::new();
        let mut level = value;
        while let Value::Array(items) = level {
            shape.push(items.len());
            match items.first() {
                Some(first) => level = first,
                None => break,
            }
        }
        if shape.is_empty() || shape.contains(&0) {
            return Err(Error::Invalid(
                "expected a non-empty (nested) array of numbers".into(),
            ));
        }
        // No reservation from the first row's shape: a ragged file could claim terabytes.
        let mut values = Vec::new();
        collect(value, &shape, &mut values)?;
        Ok(Nested { shape, values })
    }
}

fn collect(value: &Value, shape: &[usize], out: &mut Vec<f64>) -> Result<()> {
    match (value, shape.split_first()) {
        (Value::Array(items), Some((&n, rest))) if items.len() == n => {
            items.iter().try_for_each(|item| collect(item, rest, out))
        }
        (Value::Array(_), _) => Err(Error::Invalid(
            "the nested array is ragged: every row must have the same length".into(),
        )),
        (Value::Number(x), None) => {
            out.push(x.as_f64().unwrap_or(f64::NAN));
            Ok(())
        }
        (Value::Bool(b), None) => {
            out.push(f64::from(u8::from(*b)));
            Ok(())
        }
        (other, _) => Err(Error::Invalid(format!(
            "expected numbers in the nested array, found {}",
            Short(other)
        ))),
    }
}

struct Short<'a>(&'a Value);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => f.write_str("null"),
            Value::String(s) => write!(f, "the string {s:?}"),
            Value::Object(_) => f.write_str("an object"),
            _ => f.write_str("an array nested deeper than the first row"),
        }
    }
}
