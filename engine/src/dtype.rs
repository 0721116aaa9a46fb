//! Element types and NumPy 2 type promotion (NEP 50), the rules every operation's output type
//! follows.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The element types chunkwise computes with: the numeric Zarr data types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// `bool`, stored as one byte 0 or 1.
    Bool,
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `uint8`
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64`
    Uint64,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
}

/// The kind of a type, in NumPy's order of promotion: bool < integer < float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `bool`
    Bool,
    /// signed or unsigned integers
    Int,
    /// floating point
    Float,
}

impl DType {
    /// Every supported type, in declaration order.
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Float32,
        DType::Float64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::Int8 | DType::Uint8 => 1,
            DType::Int16 | DType::Uint16 => 2,
            DType::Int32 | DType::Uint32 | DType::Float32 => 4,
            DType::Int64 | DType::Uint64 | DType::Float64 => 8,
        }
    }

    /// Bool, integer or float.
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::Float32 | DType::Float64 => Kind::Float,
            _ => Kind::Int,
        }
    }

    /// True for the signed integer types.
    pub fn is_signed_int(self) -> bool {
        matches!(
            self,
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64
        )
    }

    /// The lowercase name used in Zarr v3 metadata and pipeline files (`"uint16"`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// The NumPy type string of Zarr v2 metadata (`"<u2"`).
    pub fn v2_name(self) -> &'static str {
        match self {
            DType::Bool => "|b1",
            DType::Int8 => "|i1",
            DType::Int16 => "<i2",
            DType::Int32 => "<i4",
            DType::Int64 => "<i8",
            DType::Uint8 => "|u1",
            DType::Uint16 => "<u2",
            DType::Uint32 => "<u4",
            DType::Uint64 => "<u8",
            DType::Float32 => "<f4",
            DType::Float64 => "<f8",
        }
    }

    /// Parses a name as written in pipeline files or Zarr v3 metadata.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the accepted types when `name` is none of them.
    pub fn parse(name: &str) -> Result<DType> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown dtype {name:?}; expected one of {}",
                    DType::ALL.map(|d| d.name()).join(", ")
                ))
            })
    }

    /// The smallest float type that holds every value of an integer type exactly enough for
    /// NumPy's mixed int/float promotion (`np.result_type(int16, float32) == float32`).
    fn float_for_int(self) -> DType {
        if self.size() <= 2 {
            DType::Float32
        } else {
            DType::Float64
        }
    }

    /// The smallest and the largest value of an integer type; `None` for bool and the floats.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
            DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
            DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
            DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
            DType::Uint8 => (0, u8::MAX.into()),
            DType::Uint16 => (0, u16::MAX.into()),
            DType::Uint32 => (0, u32::MAX.into()),
            DType::Uint64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    fn int_of(signed: bool, size: usize) -> Option<DType> {
        Some(match (signed, size) {
            (true, 1) => DType::Int8,
            (true, 2) => DType::Int16,
            (true, 4) => DType::Int32,
            (true, 8) => DType::Int64,
            (false, 1) => DType::Uint8,
            (false, 2) => DType::Uint16,
            (false, 4) => DType::Uint32,
            (false, 8) => DType::Uint64,
            _ => return None,
        })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `np.result_type(a, b)` for two array dtypes.
pub fn promote(a: DType, b: DType) -> DType {
    use Kind::*;
    if a == b {
        return a;
    }
    match (a.kind(), b.kind()) {
        (Bool, _) => b,
        (_, Bool) => a,
        (Float, Float) => DType::Float64,
        (Float, Int) => promote_float_int(a, b),
        (Int, Float) => promote_float_int(b, a),
        (Int, Int) => {
            let (sa, sb) = (a.is_signed_int(), b.is_signed_int());
            if sa == sb {
                return if a.size() >= b.size() { a } else { b };
            }
            let (signed, unsigned) = if sa { (a, b) } else { (b, a) };
            if signed.size() > unsigned.size() {
                signed
            } else {
                DType::int_of(true, unsigned.size() * 2).unwrap_or(DType::Float64)
            }
        }
    }
}

fn promote_float_int(float: DType, int: DType) -> DType {
    if float == DType::Float64 {
        DType::Float64
    } else {
        int.float_for_int()
    }
}

/// A Python-style scalar operand. Under NEP 50 it is "weak": it takes the array's type when it is
/// of the same or a lower kind.
///
/// Serialized as a JSON number or boolean; a non-finite float as its text (`"nan"`, `"inf"`,
/// `"-inf"`, see [`crate::nonfinite`]), which is also read back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// `True` / `False`
    Bool(bool),
    /// A Python int: any value of int64 or uint64 (wider than both, so `2**64 - 1` reaches a
    /// uint64 array as NumPy 2 takes it; [`Scalar::fits`] checks a type's range).
    Int(i128),
    /// A Python float.
    Float(f64),
}

impl Scalar {
    /// The value as f64 (for float arithmetic and display).
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }

    /// False only for an integer scalar outside the range of an integer `dtype`; bools fit every
    /// type, and a float converts to any (as NumPy converts it).
    pub fn fits(self, dtype: DType) -> bool {
        match (self, dtype.int_range()) {
            (Scalar::Int(v), Some((lo, hi))) => (lo..=hi).contains(&v),
            _ => true,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Scalar::Bool(_) => Kind::Bool,
            Scalar::Int(_) => Kind::Int,
            Scalar::Float(_) => Kind::Float,
        }
    }
}

impl Serialize for Scalar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            Scalar::Bool(b) => s.serialize_bool(b),
            // As i64 where it fits (the run identity of existing pipelines stays the same),
            // else as u64, the only other range a scalar comes from.
            Scalar::Int(i) => match (i64::try_from(i), u64::try_from(i)) {
                (Ok(v), _) => s.serialize_i64(v),
                (_, Ok(v)) => s.serialize_u64(v),
                _ => s.serialize_i128(i),
            },
            Scalar::Float(f) => crate::nonfinite::serialize(&f, s),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Reads a JSON/YAML number or boolean, or the text of a non-finite float (`"nan"`), as a
/// [`Scalar`], with an error that says so otherwise.
pub struct ScalarVisitor;

impl serde::de::Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a boolean, or {}", crate::nonfinite::EXPECTING_FLOAT)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
        crate::nonfinite::parse(v)
            .map(Scalar::Float)
            .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}

impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v.into())
    }
}

impl From<u64> for Scalar {
    fn from(v: u64) -> Self {
        Scalar::Int(v.into())
    }
}

impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::Int(v.into())
    }
}

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x:?}"),
        }
    }
}

/// The type NEP 50 gives an operation between an array of `dtype` and a weak scalar: the array's
/// type when the scalar is of the same or a lower kind, else int64 (bool array, int scalar) or
/// float64. Without a range check: arithmetic refuses an integer scalar outside an integer result
/// type ([`promote_scalar`]), but comparisons, `np.clip` and true division take it, each with its
/// own rule, so they start from this.
pub fn weak_scalar_type(dtype: DType, scalar: Scalar) -> DType {
    if scalar.kind() <= dtype.kind() {
        dtype
    } else {
        match scalar.kind() {
            Kind::Int => DType::Int64,
            _ => DType::Float64,
        }
    }
}

/// The result type of arithmetic (`+ - *`, `np.minimum`, `np.maximum`) between an array of
/// `dtype` and a weak scalar (NEP 50).
///
/// # Errors
/// [`Error::Invalid`] when an integer scalar does not fit the integer result type (NumPy 2 raises
/// `OverflowError` for arithmetic too); the message says to cast the array first.
pub fn promote_scalar(dtype: DType, scalar: Scalar) -> Result<DType> {
    let out = weak_scalar_type(dtype, scalar);
    if !scalar.fits(out) {
        return Err(Error::Invalid(format!(
            "scalar {scalar} does not fit the array's type {out}; cast the array first with \
             astype (NumPy 2 raises OverflowError for arithmetic too)"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::DType::*;
    use super::*;

    #[test]
    fn array_promotion_matches_numpy_result_type() {
        // Expected values from np.result_type on NumPy 2.
        let cases = [
            (Uint8, Int8, Int16),
            (Uint16, Int16, Int32),
            (Uint32, Int32, Int64),
            (Uint64, Int64, Float64),
            (Uint8, Int32, Int32),
            (Int16, Float32, Float32),
            (Uint16, Float32, Float32),
            (Int32, Float32, Float64),
            (Float32, Float64, Float64),
            (Bool, Uint8, Uint8),
            (Bool, Float32, Float32),
            (Uint16, Uint32, Uint32),
        ];
        for (a, b, want) in cases {
            assert_eq!(promote(a, b), want, "{a} {b}");
            assert_eq!(promote(b, a), want, "{b} {a}");
        }
    }

    #[test]
    fn weak_scalars_follow_nep50() {
        assert_eq!(promote_scalar(Uint16, Scalar::Int(3)).unwrap(), Uint16);
        assert_eq!(promote_scalar(Uint16, Scalar::Float(1.5)).unwrap(), Float64);
        assert_eq!(
            promote_scalar(Float32, Scalar::Float(1.5)).unwrap(),
            Float32
        );
        assert_eq!(promote_scalar(Bool, Scalar::Int(1)).unwrap(), Int64);
        assert!(promote_scalar(Uint16, Scalar::Int(70000)).is_err());
        assert!(promote_scalar(Uint8, Scalar::Int(-1)).is_err());
        assert_eq!(weak_scalar_type(Uint8, Scalar::Int(-1)), Uint8);
        assert_eq!(weak_scalar_type(Bool, Scalar::Int(-1)), Int64);
        assert_eq!(weak_scalar_type(Int8, Scalar::Bool(true)), Int8);
    }

    #[test]
    fn integer_scalars_fit_integer_ranges_only() {
        assert!(Scalar::Int(255).fits(Uint8));
        assert!(!Scalar::Int(256).fits(Uint8));
        assert!(!Scalar::Int(-1).fits(Uint64));
        assert!(Scalar::from(i64::MIN).fits(Int64));
        assert!(!Scalar::from(u64::MAX).fits(Int64));
        assert!(Scalar::from(u64::MAX).fits(Uint64));
        assert!(!Scalar::Int(-129).fits(Int8));
        assert!(Scalar::Int(-129).fits(Float32));
        assert!(Scalar::Float(1e300).fits(Uint8));
        assert!(Scalar::Bool(true).fits(Int8));
        assert_eq!(Uint64.int_range(), Some((0, u64::MAX.into())));
        assert_eq!(Bool.int_range(), None);
    }

    #[test]
    fn integer_scalars_round_trip_through_json_from_int64_min_to_uint64_max() {
        for v in [
            Scalar::from(i64::MIN),
            Scalar::Int(-1),
            Scalar::from(u64::MAX),
        ] {
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(text, v.to_string());
            assert_eq!(serde_json::from_str::<Scalar>(&text).unwrap(), v);
        }
    }
}
