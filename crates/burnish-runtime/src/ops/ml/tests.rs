//! Unit tests of the ai.onnx.ml family.
