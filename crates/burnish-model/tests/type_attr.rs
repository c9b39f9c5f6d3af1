//! `TYPE_PROTO` attributes (`Optional`'s `type`) import as [`Attribute::Type`] and export back
//! unchanged.

use std::path::Path;

use burnish_model::{Attribute, decode_onnx, encode_onnx, load_onnx};

#[test]
fn type_attribute_round_trips() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ops/sequence/optional_empty_from_type/model.onnx");
    let model = load_onnx(&path).expect("the fixture loads");
    let optional = model
        .graph
        .nodes
        .iter()
        .find(|n| n.op_type == "Optional")
        .expect("an Optional node");
    let Some(Attribute::Type(bytes)) = optional.attrs.get("type") else {
        panic!("`type` should import as a type attribute");
    };
    assert!(!bytes.is_empty());
    let again =
        decode_onnx(&encode_onnx(&model).expect("encodes"), "again", None).expect("decodes");
    let node = again.graph.nodes.iter().find(|n| n.op_type == "Optional");
    assert_eq!(node.map(|n| &n.attrs), Some(&optional.attrs));
}
