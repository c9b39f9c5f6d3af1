//! What each fuzz target does with its bytes. Shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) and by the regression test that replays minimized findings
//! (`tests/fuzz_regressions.rs`), so both exercise the same paths. Every function accepts any
//! bytes: an error is a fine outcome; a panic, an abort or a broken invariant is a finding.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use burnish_runtime::{Session, SessionOptions};

/// The tensor budget every target runs under, so that a huge declared shape is an error.
pub const MAX_TENSOR_BYTES: usize = 64 << 20;

/// Largest graph `onnx_run` builds and runs (bigger inputs are only imported).
const MAX_RUN_NODES: usize = 256;

/// A fuzz target's harness: takes any bytes.
pub type Harness = fn(&[u8]);

/// The fuzz targets by name, with their harness functions.
pub const TARGETS: &[(&str, Harness)] = &[
    ("onnx_import", onnx_import),
    ("onnx_run", onnx_run),
    ("npy_npz", npy_npz),
    ("qdq_lower", qdq_lower),
    ("v2_request", v2_request),
];

/// ONNX bytes -> import with validation; an accepted model must export and import again.
pub fn onnx_import(data: &[u8]) {
    burnish_model::limits::set_max_tensor_bytes(MAX_TENSOR_BYTES);
    let Ok(model) = burnish_model::decode_onnx(data, "fuzz.onnx", None) else {
        return;
    };
    let _ = model.graph.op_histogram();
    if let Ok(bytes) = burnish_model::encode_onnx(&model)
        && let Err(e) = burnish_model::decode_onnx(&bytes, "fuzz-reexport.onnx", None)
    {
        panic!("a model burnish accepted and exported does not import again: {e}");
    }
}

/// ONNX bytes -> import, session build and one run on seeded synthetic inputs (unset dims 1).
pub fn onnx_run(data: &[u8]) {
    burnish_model::limits::set_max_tensor_bytes(MAX_TENSOR_BYTES);
    let Ok(model) = burnish_model::decode_onnx(data, "fuzz.onnx", None) else {
        return;
    };
    if model.graph.nodes.len() > MAX_RUN_NODES {
        return;
    }
    let Ok(session) = Session::new(&model, SessionOptions::threads(Some(1))) else {
        return;
    };
    let Ok(inputs) = burnish_model::synth::random_inputs(&model.graph, &HashMap::new(), 7) else {
        return;
    };
    let _ = session.run(&inputs);
}

/// Bytes -> the NPY reader (a parsed array must write and parse back to the same shape) and
/// the NPZ (zip) reader.
pub fn npy_npz(data: &[u8]) {
    burnish_model::limits::set_max_tensor_bytes(MAX_TENSOR_BYTES);
    if let Ok(t) = burnish_model::npy::parse_npy(data) {
        match burnish_model::npy::to_npy(&t).map(|b| burnish_model::npy::parse_npy(&b)) {
            Ok(Ok(again)) => assert_eq!(again.shape, t.shape, "NPY round trip changed the shape"),
            Ok(Err(e)) => panic!("an array burnish wrote does not parse again: {e}"),
            Err(_) => {}
        }
    }
    let _ = burnish_model::npy::read_tensors_from(Cursor::new(data), Path::new("fuzz.npz"));
}

/// ONNX bytes -> import -> QDQ lowering; a lowered model builds a session or fails cleanly.
pub fn qdq_lower(data: &[u8]) {
    burnish_model::limits::set_max_tensor_bytes(MAX_TENSOR_BYTES);
    let Ok(mut model) = burnish_model::decode_onnx(data, "fuzz.onnx", None) else {
        return;
    };
    if burnish_quant::lower_qdq(&mut model).is_ok() {
        let _ = Session::new(&model, SessionOptions::threads(Some(1)));
    }
}

/// Bytes -> a v2 infer request as `burnish serve` reads one: with the first byte even, an HTTP
/// body (the next two bytes, little-endian, give `Inference-Header-Content-Length` unless bit 1
/// of the first byte is set: then the whole body is JSON); with it odd, a gRPC
/// `ModelInferRequest` message. Then the checks and decoding against a fixed signature of
/// several datatypes and symbolic, unknown and fixed dims. A decoded tensor must have its
/// input's datatype and a shape that holds as many values as it has.
pub fn v2_request(data: &[u8]) {
    let _ = v2_decoded(data);
}

/// [`v2_request`]'s work: the number of inputs of a request that decoded, `None` when it was
/// refused (so tests can tell the seeds that reach the checks from the ones refused earlier).
pub fn v2_decoded(data: &[u8]) -> Option<usize> {
    use burnish_model::{DType, Dim};
    use burnish_serve::decode::{Limits, decode, split_body};
    use burnish_serve::signature::{Signature, TensorSpec};
    let (&mode, rest) = data.split_first()?;
    let spec = |name: &str, dtype, dims: Option<Vec<Dim>>| TensorSpec {
        name: name.into(),
        dtype,
        dims,
    };
    let batch = || Dim::Symbolic("batch".into());
    let sig = Signature {
        inputs: vec![
            spec("x", DType::F32, Some(vec![batch(), Dim::Fixed(3)])),
            spec("ids", DType::I64, Some(vec![batch(), Dim::Unknown])),
            spec("mask", DType::Bool, Some(vec![batch()])),
            spec("h", DType::F64, Some(vec![Dim::Fixed(2), Dim::Fixed(2)])),
            spec("raw", DType::U8, None),
        ],
        outputs: vec![spec("y", DType::F32, Some(vec![batch(), Dim::Fixed(3)]))],
        batchable: false,
    };
    let limits = Limits {
        max_elements: 1 << 16,
        max_body: 1 << 20,
    };
    let parsed = if mode % 2 == 0 {
        let [a, b, body @ ..] = rest else {
            return None;
        };
        let header = (mode & 2 == 0).then_some(u16::from_le_bytes([*a, *b]) as usize);
        split_body(body, header)
            .map(|(r, tail)| (r, tail.to_vec()))
            .ok()
    } else {
        burnish_serve::grpc::infer_request_from_bytes(rest).ok()
    };
    let (request, binary) = parsed?;
    let decoded = decode(&sig, &request, &binary, &limits).ok()?;
    for (name, t) in &decoded.inputs {
        let input = sig
            .input(name)
            .expect("a decoded input is in the signature");
        assert_eq!(t.dtype(), input.dtype, "input `{name}`: datatype");
        let count: usize = t.shape.iter().product();
        assert_eq!(t.len(), count, "input `{name}`: values against the shape");
    }
    Some(decoded.inputs.len())
}
