//! NaN and the infinities in pipeline files. JSON has no literal for them, so a parameter that
//! takes a float also takes them as text: `"nan"`, `"inf"`, `"-inf"` (Python's spellings,
//! `float("nan")` and `repr(float("inf"))`, in any case, `"infinity"` and a `+` sign too). The
//! engine writes them back the same way ([`crate::Scalar`]'s serialized form, so a run's
//! identity tells `clip(max=nan)` from a clip without a maximum), so every file it reads or
//! writes stays valid JSON.

use serde::{Deserializer, Serializer};

/// The non-finite float `text` spells, or `None` (a number or a name is not one).
pub fn parse(text: &str) -> Option<f64> {
    let (sign, word) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if word.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
        Some(sign * f64::INFINITY)
    } else {
        None
    }
}

/// The text a non-finite `v` is written as (`"nan"`, `"inf"`, `"-inf"`), `None` when finite.
pub fn name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Writes `v` as a number, or as its text when non-finite (for
/// `#[serde(serialize_with = "chunkwise_engine::nonfinite::serialize")]`).
///
/// # Errors
/// The serializer's own.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    match name(*v) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_f64(*v),
    }
}

/// For `#[serde(deserialize_with = "chunkwise_engine::nonfinite::float")]` on an `f64` field:
/// a number, or the text of a non-finite float.
///
/// # Errors
/// The deserializer's error naming what was expected, for anything else.
pub fn float<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    d.deserialize_any(FloatVisitor)
}

/// Reads a number, or the text of a non-finite float, as `f64`.
struct FloatVisitor;

impl serde::de::Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(EXPECTING_FLOAT)
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<f64, E> {
        Ok(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<f64, E> {
        parse(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
    }
}

/// What a float parameter takes, for error messages.
pub(crate) const EXPECTING_FLOAT: &str = "a number, or \"nan\", \"inf\" or \"-inf\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_python_float_parse_and_others_do_not() {
        for (text, want) in [
            ("nan", f64::NAN),
            ("NaN", f64::NAN),
            ("-nan", f64::NAN),
            ("inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("Infinity", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
        ] {
            let got = parse(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{text}: {got} != {want}"
            );
        }
        for text in ["", "vol", "1.5", "in", "nana", "--inf", "infinit"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn names_round_trip_and_finite_values_have_none() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let back = parse(name(v).unwrap()).unwrap();
            assert!(back.to_bits() == v.to_bits() || (back.is_nan() && v.is_nan()));
        }
        assert_eq!(name(1.5), None);
        assert_eq!(name(-0.0), None);
    }

    #[derive(serde::Deserialize)]
    struct P {
        #[serde(deserialize_with = "float")]
        cval: f64,
    }

    #[test]
    fn a_float_field_takes_numbers_and_non_finite_text_and_names_what_it_takes() {
        let p: P = serde_json::from_str(r#"{"cval": "-inf"}"#).unwrap();
        assert_eq!(p.cval, f64::NEG_INFINITY);
        let p: P = serde_json::from_str(r#"{"cval": 3}"#).unwrap();
        assert_eq!(p.cval, 3.0);
        let err = serde_json::from_str::<P>(r#"{"cval": "abc"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("\"abc\"") && err.contains("\"nan\""), "{err}");
    }
}
