//! The ONNX front end: reading ONNX files into the burnish IR.

mod import;
mod tensor_proto;

pub use import::{decode_onnx, load_onnx};
pub use tensor_proto::decode_tensor;
