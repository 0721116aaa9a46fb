//! Chunks encoded as `bytes` (little-endian) then `zstd` alone — what chunkwise writes by
//! default and zarr-python 3 writes by default — decompressed straight into the typed buffer a
//! task reads.
//!
//! Why: through zarrs a chunk is decompressed into a byte vector that chunkwise then copies into
//! its typed buffer ([`Buffer::from_le_bytes`]): a second pass over every decoded byte, into
//! memory that is new to the page tables. Perf of the seed chain on the 512^3 volume put that
//! copy and its page faults at about a tenth of the samples. zstd writes the little-endian
//! bytes of the elements, which on a little-endian machine are the elements themselves, so
//! here it writes them into the typed vector's capacity directly.
//!
//! Anything else (other codecs, sharding, a transpose, big-endian machines, booleans, a chunk
//! whose decoded size is not the chunk's) is left to zarrs: [`decompress`] gives `None` and the
//! caller decodes as before, so an unexpected chunk gets zarrs' own error.

use std::cell::RefCell;

use zarrs::array::{Array as ZArray, CodecMetadataOptions};

use chunkwise_engine::{Buffer, DType};

/// True when every chunk of `array` is `bytes` (little-endian, or without an endianness for
/// one-byte types) followed by `zstd` and nothing else, on a little-endian machine: the chunks
/// [`decompress`] can decode.
pub(crate) fn stored_as_plain_zstd<S: ?Sized>(array: &ZArray<S>) -> bool {
    let codecs = array.codecs();
    let options = CodecMetadataOptions::default();
    let [compressor] = codecs.bytes_to_bytes_codecs() else {
        return false;
    };
    let serializer = codecs.array_to_bytes_codec();
    let little_endian = serializer
        .configuration_v3(&options)
        .is_none_or(|c| c.get("endian").is_none_or(|e| e == "little"));
    cfg!(target_endian = "little")
        && codecs.array_to_array_codecs().is_empty()
        && serializer.name_v3().as_deref() == Some("bytes")
        && little_endian
        && compressor.name_v3().as_deref() == Some("zstd")
}

thread_local! {
    /// One decompression context per thread, reused from chunk to chunk (creating one costs
    /// about as much as decoding a small chunk).
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// The `len` elements of `dtype` that the zstd frame(s) `encoded` hold, decompressed into a
/// new typed buffer; `None` when `dtype` is bool (not every byte is a valid bool) or when the
/// bytes do not decompress to exactly `len` elements (the caller then asks zarrs, whose error
/// names the problem).
pub(crate) fn decompress(encoded: &[u8], dtype: DType, len: usize) -> Option<Buffer> {
    macro_rules! arm {
        ($($variant:ident: $t:ty),*) => {
            match dtype {
                DType::Bool => None,
                $(DType::$variant => into_vec::<$t>(encoded, len).map(Buffer::$variant),)*
            }
        };
    }
    arm!(Int8: i8, Int16: i16, Int32: i32, Int64: i64, Uint8: u8, Uint16: u16, Uint32: u32,
        Uint64: u64, Float32: f32, Float64: f64)
}

/// Element types every bit pattern of which is a value: integers and floats.
trait AnyBits: Copy {}
impl AnyBits for i8 {}
impl AnyBits for i16 {}
impl AnyBits for i32 {}
impl AnyBits for i64 {}
impl AnyBits for u8 {}
impl AnyBits for u16 {}
impl AnyBits for u32 {}
impl AnyBits for u64 {}
impl AnyBits for f32 {}
impl AnyBits for f64 {}

fn into_vec<T: AnyBits>(encoded: &[u8], len: usize) -> Option<Vec<T>> {
    let mut out = ElementsOut {
        vec: Vec::<T>::with_capacity(len),
    };
    let written = DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().ok()?),
        };
        decompressor.decompress_to_buffer(encoded, &mut out).ok()
    })?;
    (written == len * size_of::<T>() && out.vec.len() == len).then_some(out.vec)
}

/// A typed vector's capacity as the byte buffer zstd writes into.
struct ElementsOut<T> {
    vec: Vec<T>,
}

// SAFETY: `as_slice` covers only the initialized elements; `capacity` and `as_mut_ptr` describe
// the vector's allocation in bytes; `filled_until(n)` is called by zstd after it wrote the first
// `n` bytes, and it counts only the whole elements among them as initialized, which is sound
// because every bit pattern is a value of `T` ([`AnyBits`]).
#[allow(unsafe_code)]
unsafe impl<T: AnyBits> zstd::zstd_safe::WriteBuf for ElementsOut<T> {
    fn as_slice(&self) -> &[u8] {
        let bytes = self.vec.len() * size_of::<T>();
        // SAFETY: the first `len` elements are initialized, and any `T` is plain bytes.
        unsafe { std::slice::from_raw_parts(self.vec.as_ptr().cast::<u8>(), bytes) }
    }

    fn capacity(&self) -> usize {
        self.vec.capacity() * size_of::<T>()
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.vec.as_mut_ptr().cast::<u8>()
    }

    unsafe fn filled_until(&mut self, n: usize) {
        // SAFETY: the caller wrote the first `n` bytes; whole elements among them are values.
        unsafe { self.vec.set_len(n / size_of::<T>()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Vec<u8> {
        zstd::bulk::compress(bytes, 1).expect("zstd compresses")
    }

    #[test]
    fn elements_come_back_as_written_for_every_numeric_type() {
        let values: Vec<u16> = (0..5000u32).map(|i| (i * 37 % 65536) as u16).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let got = decompress(&frame(&bytes), DType::Uint16, values.len());
        assert_eq!(got.as_ref().map(Buffer::to_le_bytes), Some(bytes.clone()));
        let floats: Vec<f64> = (0..777).map(|i| f64::from(i) * -0.25).collect();
        let fbytes: Vec<u8> = floats.iter().flat_map(|v| v.to_le_bytes()).collect();
        for dtype in [DType::Float64, DType::Int32, DType::Uint8, DType::Int64] {
            let len = fbytes.len() / dtype.size();
            let got = decompress(&frame(&fbytes), dtype, len).expect("decoded");
            assert_eq!(got.dtype(), dtype);
            assert_eq!(got.to_le_bytes(), fbytes, "{dtype}");
        }
    }

    #[test]
    fn a_chunk_of_another_size_or_corrupt_bytes_or_bools_are_left_to_zarrs() {
        let bytes = vec![7u8; 4000];
        assert!(decompress(&frame(&bytes), DType::Uint16, 1999).is_none());
        assert!(decompress(&frame(&bytes), DType::Uint16, 2001).is_none());
        assert!(decompress(&frame(&bytes[..3999]), DType::Uint16, 2000).is_none());
        assert!(decompress(b"not a zstd frame", DType::Uint8, 16).is_none());
        assert!(decompress(&frame(&[1, 0, 1]), DType::Bool, 3).is_none());
    }

    #[test]
    fn concatenated_frames_decode_as_one_chunk() {
        let mut two = frame(&[1, 2, 3, 4]);
        two.extend(frame(&[5, 6, 7, 8]));
        let got = decompress(&two, DType::Uint8, 8).expect("decoded");
        assert_eq!(got.to_le_bytes(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
