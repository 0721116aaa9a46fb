//! Pipeline files: the parameter shapes the built-in ops share (a value per axis, nested arrays,
//! an operand that is a name or a number) and [`register_builtin`], which fills a
//! [`Registry`] with every built-in op, each family registering its own
//! (`elementwise`, `resample`, `reduce`, `slice`, `stencil`) the way a user's program registers its ops.

mod operand;
mod values;

use chunkwise_engine::Registry;

pub use operand::OperandSpec;
pub use values::{Nested, PerAxis};

/// Registers every built-in op under its pipeline-file name.
pub fn register_builtin(registry: &mut Registry) -> &mut Registry {
    crate::elementwise::register(registry);
    crate::resample::register(registry);
    crate::reduce::register(registry);
    crate::slice::register(registry);
    crate::stencil::register(registry);
    registry
}

/// A registry holding every built-in op.
pub fn builtin() -> Registry {
    let mut registry = Registry::new();
    register_builtin(&mut registry);
    registry
}
