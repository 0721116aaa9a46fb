//! Dynamically typed element buffers: one enum over the element types, so chunk data can flow
//! through a graph whose types are only known at run time, while every kernel still runs on plain
//! typed slices.

use crate::dtype::DType;

/// A Rust element type that chunkwise computes with.
pub trait Element: Copy + Default + Send + Sync + PartialEq + std::fmt::Debug + 'static {
    /// The matching [`DType`].
    const DTYPE: DType;
    /// Wraps a typed vector as a [`Buffer`].
    fn into_buffer(v: Vec<Self>) -> Buffer;
    /// The typed contents of `b`, if it holds this type.
    fn from_buffer(b: Buffer) -> Option<Vec<Self>>;
    /// The typed contents of `b`, if it holds this type.
    fn slice_of(b: &Buffer) -> Option<&[Self]>;
    /// The typed contents of a view, if it holds this type.
    fn from_slice(s: Slice<'_>) -> Option<&[Self]>;
    /// The typed contents of a mutable view, if it holds this type.
    fn from_slice_mut(s: SliceMut<'_>) -> Option<&mut [Self]>;
}

/// Invokes `$m!(Variant, rust_type)` once for every supported element type.
#[macro_export]
macro_rules! for_each_element {
    ($m:ident) => {
        $m!(Bool, bool);
        $m!(Int8, i8);
        $m!(Int16, i16);
        $m!(Int32, i32);
        $m!(Int64, i64);
        $m!(Uint8, u8);
        $m!(Uint16, u16);
        $m!(Uint32, u32);
        $m!(Uint64, u64);
        $m!(Float32, f32);
        $m!(Float64, f64);
    };
}

/// Matches a [`Buffer`], [`Slice`] or [`SliceMut`] (given the enum's path) and evaluates `$body`
/// with `$v` bound to the typed contents, for every element type.
#[macro_export]
macro_rules! dispatch {
    ($enum:ident, $value:expr, $v:ident => $body:expr) => {
        match $value {
            $enum::Bool($v) => $body,
            $enum::Int8($v) => $body,
            $enum::Int16($v) => $body,
            $enum::Int32($v) => $body,
            $enum::Int64($v) => $body,
            $enum::Uint8($v) => $body,
            $enum::Uint16($v) => $body,
            $enum::Uint32($v) => $body,
            $enum::Uint64($v) => $body,
            $enum::Float32($v) => $body,
            $enum::Float64($v) => $body,
        }
    };
}

/// An owned, typed, flat (C-order) element buffer.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Buffer {
    Bool(Vec<bool>),
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Uint8(Vec<u8>),
    Uint16(Vec<u16>),
    Uint32(Vec<u32>),
    Uint64(Vec<u64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
}

/// A borrowed, typed view of part of a [`Buffer`].
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub enum Slice<'a> {
    Bool(&'a [bool]),
    Int8(&'a [i8]),
    Int16(&'a [i16]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Uint8(&'a [u8]),
    Uint16(&'a [u16]),
    Uint32(&'a [u32]),
    Uint64(&'a [u64]),
    Float32(&'a [f32]),
    Float64(&'a [f64]),
}

/// A mutable, typed view of part of a [`Buffer`].
#[derive(Debug)]
#[allow(missing_docs)]
pub enum SliceMut<'a> {
    Bool(&'a mut [bool]),
    Int8(&'a mut [i8]),
    Int16(&'a mut [i16]),
    Int32(&'a mut [i32]),
    Int64(&'a mut [i64]),
    Uint8(&'a mut [u8]),
    Uint16(&'a mut [u16]),
    Uint32(&'a mut [u32]),
    Uint64(&'a mut [u64]),
    Float32(&'a mut [f32]),
    Float64(&'a mut [f64]),
}

macro_rules! impl_element {
    ($variant:ident, $t:ty) => {
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn into_buffer(v: Vec<Self>) -> Buffer {
                Buffer::$variant(v)
            }
            fn from_buffer(b: Buffer) -> Option<Vec<Self>> {
                match b {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_of(b: &Buffer) -> Option<&[Self]> {
                match b {
                    Buffer::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn from_slice(s: Slice<'_>) -> Option<&[Self]> {
                match s {
                    Slice::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn from_slice_mut(s: SliceMut<'_>) -> Option<&mut [Self]> {
                match s {
                    SliceMut::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
for_each_element!(impl_element);

impl Default for Buffer {
    fn default() -> Self {
        Buffer::Uint8(Vec::new())
    }
}

impl Buffer {
    /// Little-endian element bytes as a typed buffer (`None` when the length does not fit).
    pub fn from_le_bytes(raw: &[u8], dtype: DType) -> Option<Buffer> {
        macro_rules! le {
            ($variant:ident, $t:ty) => {{
                const N: usize = std::mem::size_of::<$t>();
                if raw.len() % N != 0 {
                    return None;
                }
                if cfg!(target_endian = "little") {
                    // The stored order is the native one: one copy (decoding whole chunks spent
                    // 10% of a pyramid converting element by element). Viewed in place when
                    // aligned (decoded chunks are), the copy goes into uninitialized capacity;
                    // `pod_collect_to_vec` zero-fills first, a second pass over every byte.
                    Buffer::$variant(match bytemuck::try_cast_slice::<u8, $t>(raw) {
                        Ok(elements) => elements.to_vec(),
                        Err(_) => bytemuck::pod_collect_to_vec(raw),
                    })
                } else {
                    Buffer::$variant(
                        raw.chunks_exact(N)
                            .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or([0; N])))
                            .collect(),
                    )
                }
            }};
        }
        Some(match dtype {
            DType::Bool => Buffer::Bool(raw.iter().map(|&b| b != 0).collect()),
            DType::Int8 => Buffer::Int8(raw.iter().map(|&b| b as i8).collect()),
            DType::Int16 => le!(Int16, i16),
            DType::Int32 => le!(Int32, i32),
            DType::Int64 => le!(Int64, i64),
            DType::Uint8 => Buffer::Uint8(raw.to_vec()),
            DType::Uint16 => le!(Uint16, u16),
            DType::Uint32 => le!(Uint32, u32),
            DType::Uint64 => le!(Uint64, u64),
            DType::Float32 => le!(Float32, f32),
            DType::Float64 => le!(Float64, f64),
        })
    }

    /// The elements as little-endian bytes (bools as 0/1), the inverse of
    /// [`Buffer::from_le_bytes`].
    pub fn to_le_bytes(&self) -> Vec<u8> {
        macro_rules! le {
            ($v:expr) => {
                if cfg!(target_endian = "little") {
                    bytemuck::cast_slice($v.as_slice()).to_vec()
                } else {
                    $v.iter().flat_map(|x| x.to_le_bytes()).collect()
                }
            };
        }
        match self {
            Buffer::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
            Buffer::Int8(v) => le!(v),
            Buffer::Int16(v) => le!(v),
            Buffer::Int32(v) => le!(v),
            Buffer::Int64(v) => le!(v),
            Buffer::Uint8(v) => v.clone(),
            Buffer::Uint16(v) => le!(v),
            Buffer::Uint32(v) => le!(v),
            Buffer::Uint64(v) => le!(v),
            Buffer::Float32(v) => le!(v),
            Buffer::Float64(v) => le!(v),
        }
    }

    /// Hands the elements to `f` as little-endian bytes (bools as 0/1), in order, a piece at a
    /// time: without a copy of the whole (nor of any piece, on little-endian machines).
    pub fn for_each_le_bytes(&self, mut f: impl FnMut(&[u8])) {
        const PIECE: usize = 1 << 16;
        for start in (0..self.len()).step_by(PIECE) {
            let end = (start + PIECE).min(self.len());
            macro_rules! le {
                ($v:expr) => {
                    if cfg!(target_endian = "little") {
                        f(bytemuck::cast_slice(&$v[start..end]))
                    } else {
                        f(&$v[start..end]
                            .iter()
                            .flat_map(|x| x.to_le_bytes())
                            .collect::<Vec<u8>>())
                    }
                };
            }
            match self {
                Buffer::Bool(v) => f(&v[start..end]
                    .iter()
                    .map(|&b| u8::from(b))
                    .collect::<Vec<u8>>()),
                Buffer::Int8(v) => le!(v),
                Buffer::Int16(v) => le!(v),
                Buffer::Int32(v) => le!(v),
                Buffer::Int64(v) => le!(v),
                Buffer::Uint8(v) => f(&v[start..end]),
                Buffer::Uint16(v) => le!(v),
                Buffer::Uint32(v) => le!(v),
                Buffer::Uint64(v) => le!(v),
                Buffer::Float32(v) => le!(v),
                Buffer::Float64(v) => le!(v),
            }
        }
    }

    /// A buffer of `len` zeros (false for bool) of `dtype`.
    pub fn zeros(dtype: DType, len: usize) -> Buffer {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match dtype { $(DType::$variant => Buffer::$variant(vec![Default::default(); len]),)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }

    /// An empty buffer of `dtype` with room for `len` elements, to be filled by appending
    /// ([`crate::geometry::append_region`]): no zero-filling of memory about to be overwritten.
    pub fn with_capacity(dtype: DType, len: usize) -> Buffer {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match dtype { $(DType::$variant => Buffer::$variant(Vec::with_capacity(len)),)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match self { $(Buffer::$variant(_) => DType::$variant,)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        dispatch!(Buffer, self, v => v.len())
    }

    /// True when the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the elements.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }

    /// Makes the buffer hold `len` elements of `dtype`, reusing its allocation when the type
    /// already matches (contents are unspecified afterwards).
    pub fn reset(&mut self, dtype: DType, len: usize) {
        if self.dtype() != dtype {
            *self = Buffer::zeros(dtype, len);
        } else {
            dispatch!(Buffer, self, v => v.resize(len, Default::default()));
        }
    }

    /// Empties the buffer and makes it `dtype` with room for `len` elements, reusing its
    /// allocation when the type already matches: for filling by appending
    /// ([`Buffer::extend_from`]), without zero-filling memory about to be written.
    pub fn clear_for(&mut self, dtype: DType, len: usize) {
        if self.dtype() != dtype {
            *self = Buffer::with_capacity(dtype, len);
        } else {
            dispatch!(Buffer, self, v => {
                v.clear();
                v.reserve(len);
            });
        }
    }

    /// Appends the elements of `src`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when `src` is of another type (a planner bug).
    pub fn extend_from(&mut self, src: &Slice<'_>) -> crate::Result<()> {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match (self, src) {
                    $((Buffer::$variant(d), Slice::$variant(s)) => d.extend_from_slice(s),)*
                    (d, s) => {
                        return Err(crate::Error::Invalid(format!(
                            "internal: appending {} elements to a {} buffer",
                            s.dtype(),
                            d.dtype()
                        )))
                    }
                }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64);
        Ok(())
    }

    /// A view of elements `start..end`.
    pub fn slice(&self, start: usize, end: usize) -> Slice<'_> {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match self { $(Buffer::$variant(v) => Slice::$variant(&v[start..end]),)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }

    /// A mutable view of elements `start..end`.
    pub fn slice_mut(&mut self, start: usize, end: usize) -> SliceMut<'_> {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match self { $(Buffer::$variant(v) => SliceMut::$variant(&mut v[start..end]),)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }
}

impl Slice<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match self { $(Slice::$variant(_) => DType::$variant,)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        dispatch!(Slice, self, v => v.len())
    }

    /// True when the view holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SliceMut<'_> {
    /// The element type.
    pub fn dtype(&self) -> DType {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match self { $(SliceMut::$variant(_) => DType::$variant,)* }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded chunks arrive aligned and are copied as elements; a slice at an odd offset takes
    /// the byte-wise path. Both give the elements the bytes spell, little-endian.
    #[test]
    fn le_bytes_decode_the_same_aligned_or_not() {
        let values: Vec<u32> = (0..1000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let mut bytes = vec![0u8];
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        let (odd, even) = (&bytes[1..], bytes[1..].to_vec());
        for raw in [odd, even.as_slice()] {
            let Some(Buffer::Uint32(decoded)) = Buffer::from_le_bytes(raw, DType::Uint32) else {
                panic!("a uint32 buffer");
            };
            assert_eq!(decoded, values);
            assert_eq!(Buffer::Uint32(decoded).to_le_bytes(), raw);
        }
        assert!(Buffer::from_le_bytes(&bytes[..7], DType::Uint32).is_none());
    }

    /// A buffer refilled by appending keeps its allocation when the type stays, takes the new
    /// type when it changes, and refuses elements of another type.
    #[test]
    fn a_buffer_cleared_for_appending_reuses_its_room_and_checks_types() {
        let mut b = Buffer::Float32(vec![1.0; 100]);
        b.clear_for(DType::Float32, 50);
        assert!(b.is_empty());
        let Buffer::Float32(v) = &b else {
            panic!("type kept")
        };
        assert!(v.capacity() >= 100);
        let src = Buffer::Float32(vec![2.5, -1.0, 3.0]);
        b.extend_from(&src.slice(1, 3)).expect("same type");
        b.extend_from(&src.slice(0, 1)).expect("same type");
        assert_eq!(
            b.to_le_bytes(),
            Buffer::Float32(vec![-1.0, 3.0, 2.5]).to_le_bytes()
        );
        b.clear_for(DType::Uint16, 8);
        assert_eq!((b.dtype(), b.len()), (DType::Uint16, 0));
        let err = b
            .extend_from(&src.slice(0, 2))
            .expect_err("float32 into uint16");
        assert!(
            err.to_string()
                .contains("appending float32 elements to a uint16 buffer"),
            "{err}"
        );
    }
}
