//! # burnish-optimizer
//!
//! Exact graph rewrites over the burnish IR, run by a fixed-point [`PassManager`] from one
//! ordered pass list per [`Level`] (see [`passes`]), plus the lowering of fused ops for export.
//!
//! ```no_run
//! use burnish_optimizer::{OptimizeOptions, PassManager, Level};
//!
//! let mut model = burnish_model::load_onnx("model.onnx")?;
//! let manager = PassManager::new(OptimizeOptions { level: Level::Extended, ..Default::default() })?;
//! let record = manager.run(&mut model)?;
//! println!("{} -> {} nodes", record.nodes_before, record.nodes_after);
//! let export = burnish_optimizer::lower_for_export(&model, false);
//! burnish_model::save_onnx(&export, "model.opt.onnx")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Passes only see the IR, never ONNX protobufs. Every pass documents its pattern, when it
//! refuses, and whether it is exact; the level lists say why their order matters.

mod attention;
mod dump;
mod error;
pub mod index;
mod lower;
mod manager;
pub mod opset;
mod pass;
pub mod passes;
pub mod probe;
pub mod rewrite;
mod verify;

pub use attention::{AttentionMatch, find_attention};
pub use dump::dump_graph;
pub use error::{OptError, VerifyError};
pub use lower::lower_for_export;
pub use manager::{Dump, Level, OptimizationRecord, OptimizeOptions, PassManager, PassStats};
pub use opset::{OpsetRecord, convert_opset};
pub use pass::{Pass, PassContext};
pub use probe::ProbeCache;
