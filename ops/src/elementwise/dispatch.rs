//! Type dispatch for kernels: one `match` per block picks the typed loop; the loops themselves are
//! generic and monomorphized, so each is a plain auto-vectorizable slice loop.

use chunkwise_engine::{DType, Error};

/// The error a kernel returns when handed types the planner did not promise (a bug, reported
/// rather than panicking).
pub fn type_error(op: &str, got: &[DType]) -> Error {
    Error::Invalid(format!(
        "internal: {op} kernel handed unexpected types {got:?}; please report this"
    ))
}

/// Matches one input slice and the output slice of the same type: `|x, out| body` for every type.
macro_rules! unary_same {
    ($op:expr, $input:expr, $out:expr, |$x:ident, $o:ident| $body:expr) => {{
        use chunkwise_engine::{Slice, SliceMut};
        match ($input, $out) {
            (Slice::Bool($x), SliceMut::Bool($o)) => $body,
            (Slice::Int8($x), SliceMut::Int8($o)) => $body,
            (Slice::Int16($x), SliceMut::Int16($o)) => $body,
            (Slice::Int32($x), SliceMut::Int32($o)) => $body,
            (Slice::Int64($x), SliceMut::Int64($o)) => $body,
            (Slice::Uint8($x), SliceMut::Uint8($o)) => $body,
            (Slice::Uint16($x), SliceMut::Uint16($o)) => $body,
            (Slice::Uint32($x), SliceMut::Uint32($o)) => $body,
            (Slice::Uint64($x), SliceMut::Uint64($o)) => $body,
            (Slice::Float32($x), SliceMut::Float32($o)) => $body,
            (Slice::Float64($x), SliceMut::Float64($o)) => $body,
            (x, o) => Err($crate::elementwise::dispatch::type_error(
                $op,
                &[x.dtype(), o.dtype()],
            )),
        }
    }};
}

/// Matches one input slice of any type (and binds nothing else).
macro_rules! any_input {
    ($op:expr, $input:expr, |$x:ident| $body:expr) => {{
        use chunkwise_engine::Slice;
        match $input {
            Slice::Bool($x) => $body,
            Slice::Int8($x) => $body,
            Slice::Int16($x) => $body,
            Slice::Int32($x) => $body,
            Slice::Int64($x) => $body,
            Slice::Uint8($x) => $body,
            Slice::Uint16($x) => $body,
            Slice::Uint32($x) => $body,
            Slice::Uint64($x) => $body,
            Slice::Float32($x) => $body,
            Slice::Float64($x) => $body,
        }
    }};
}

/// Matches one output slice of any type.
macro_rules! any_output {
    ($out:expr, |$o:ident| $body:expr) => {{
        use chunkwise_engine::SliceMut;
        match $out {
            SliceMut::Bool($o) => $body,
            SliceMut::Int8($o) => $body,
            SliceMut::Int16($o) => $body,
            SliceMut::Int32($o) => $body,
            SliceMut::Int64($o) => $body,
            SliceMut::Uint8($o) => $body,
            SliceMut::Uint16($o) => $body,
            SliceMut::Uint32($o) => $body,
            SliceMut::Uint64($o) => $body,
            SliceMut::Float32($o) => $body,
            SliceMut::Float64($o) => $body,
        }
    }};
}

pub(crate) use {any_input, any_output, unary_same};
