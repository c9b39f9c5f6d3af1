//! Attention recognition on the bert fixtures: one match per layer with the generator's head
//! size (hidden 32, 2 heads: scale 1/√16), none where there is no attention.

mod common;

use burnish_optimizer::Level;

#[test]
fn bert_layers_are_recognized_as_attention() {
    for fixture in ["bert", "bert_ln17"] {
        let (model, _, _) = common::fixture(fixture);
        let (_, record) = common::optimize(&model, Level::Extended, &[]);
        assert_eq!(
            record.attention.len(),
            2,
            "{fixture}: {:?}",
            record.attention
        );
        for (layer, m) in record.attention.iter().enumerate() {
            assert_eq!(m.node, format!("/layers.{layer}/MatMul_1"));
            assert!((m.scale - 0.25).abs() < 1e-6, "{m:?}");
            assert!(m.mask.is_some(), "{m:?}");
            assert_eq!(m.nodes.first().unwrap(), &format!("/layers.{layer}/MatMul"));
        }
    }
    for fixture in ["mlp", "resnet_nchw", "lstm"] {
        let (model, _, _) = common::fixture(fixture);
        let (_, record) = common::optimize(&model, Level::Extended, &[]);
        assert!(record.attention.is_empty(), "{fixture}");
    }
}
