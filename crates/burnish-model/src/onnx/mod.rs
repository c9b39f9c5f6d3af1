//! The ONNX front and back ends: reading ONNX files into the burnish IR, writing it back.

mod export;
mod import;
mod tensor_proto;

pub use export::{encode_onnx, save_onnx, tensor_proto};
pub use import::{decode_onnx, load_onnx};
pub use tensor_proto::decode_tensor;
