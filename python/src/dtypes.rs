//! One match over the engine's element types, so a function generic over the element type (the
//! engine's `Element` and NumPy's) is written once and called for the dtype known at run time.

/// Runs `$body` with `$t` a type alias for the Rust element type of `$dtype` (a `DType`).
macro_rules! with_element {
    ($dtype:expr, $t:ident => $body:expr) => {{
        use chunkwise::DType as D;
        match $dtype {
            D::Bool => {
                type $t = bool;
                $body
            }
            D::Int8 => {
                type $t = i8;
                $body
            }
            D::Int16 => {
                type $t = i16;
                $body
            }
            D::Int32 => {
                type $t = i32;
                $body
            }
            D::Int64 => {
                type $t = i64;
                $body
            }
            D::Uint8 => {
                type $t = u8;
                $body
            }
            D::Uint16 => {
                type $t = u16;
                $body
            }
            D::Uint32 => {
                type $t = u32;
                $body
            }
            D::Uint64 => {
                type $t = u64;
                $body
            }
            D::Float32 => {
                type $t = f32;
                $body
            }
            D::Float64 => {
                type $t = f64;
                $body
            }
        }
    }};
}

pub(crate) use with_element;
