//! # chunkwise-ops
//!
//! Concrete operations for chunkwise, each implementing the engine's [`chunkwise_engine::Op`]
//! trait, with builders that apply NumPy 2 semantics. This release has the element-wise family:
//! `clip`, `threshold`, arithmetic with scalars or arrays, `abs`/`sqrt`/`exp`/`log`, `where` and
//! `astype`.

pub mod elementwise;

pub use elementwise::{ElementwiseExt, Operand};
