//! Losses and training-mode ops: `NegativeLogLikelihoodLoss`, `SoftmaxCrossEntropyLoss`, the
//! `ai.onnx.preview.training` optimizers (`Adagrad`, `Adam`, `Momentum`), the random ops
//! `Bernoulli` and `RandomUniformLike`, and the training-mode paths of `BatchNormalization` and
//! `Dropout` (whose builders live in `norm.rs` and `unary.rs`).

mod host;
mod nll;
mod optim;
mod random;
mod training;

pub(crate) use random::{dropout_training, seeded};
pub(crate) use training::batch_norm_training;

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    (
        "NegativeLogLikelihoodLoss",
        nll::negative_log_likelihood_loss,
    ),
    ("SoftmaxCrossEntropyLoss", nll::softmax_cross_entropy_loss),
    ("Bernoulli", random::bernoulli),
    ("RandomUniformLike", random::random_uniform_like),
];

/// The `ai.onnx.preview.training` domain.
const TRAINING: &str = "ai.onnx.preview.training";

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[
    (TRAINING, "Adagrad", optim::adagrad),
    (TRAINING, "Adam", optim::adam),
    (TRAINING, "Momentum", optim::momentum),
];

#[cfg(test)]
mod tests {
    use burnish_model::{Attribute, Node, TensorData};

    use crate::ops::{BuildCtx, Inputs, Op, builder};
    use crate::value::Value;

    fn build(
        domain: &str,
        op: &str,
        attrs: &[(&str, Attribute)],
        outs: usize,
    ) -> Result<Box<dyn Op>, String> {
        let node = Node {
            name: "n".into(),
            op_type: op.into(),
            domain: domain.into(),
            inputs: vec!["a".into(), "b".into(), "c".into()],
            outputs: (0..outs).map(|i| format!("y{i}")).collect(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        };
        let b = builder(domain, op).ok_or("not registered")?;
        b(&BuildCtx::with_consts(&node, 22, vec![None; 3]))
    }

    fn run(op: &dyn Op, inputs: Vec<Option<Value>>) -> Result<Vec<Value>, String> {
        op.run(Inputs::new(inputs))
    }

    fn f32s(shape: Vec<usize>, v: Vec<f32>) -> Option<Value> {
        Value::from_data(&TensorData::from_f32(shape, v)).ok()
    }

    #[test]
    fn bad_attributes_are_build_errors() {
        let avg = [("reduction", Attribute::String("avg".into()))];
        let err = build("", "NegativeLogLikelihoodLoss", &avg, 1)
            .err()
            .unwrap();
        assert!(err.contains("avg"), "{err}");
        let momentum = [
            ("alpha", Attribute::Float(0.9)),
            ("beta", Attribute::Float(0.1)),
            ("norm_coefficient", Attribute::Float(0.0)),
        ];
        let err = build(super::TRAINING, "Momentum", &momentum, 2)
            .err()
            .unwrap();
        assert!(err.contains("mode"), "{err}");
        let mut fast = momentum.to_vec();
        fast.push(("mode", Attribute::String("fast".into())));
        assert!(build(super::TRAINING, "Momentum", &fast, 2).is_err());
        assert!(build("", "Bernoulli", &[("dtype", Attribute::Int(999))], 1).is_err());
        let int_dtype = [("dtype", Attribute::Int(6))];
        assert!(build("", "RandomUniformLike", &int_dtype, 1).is_err());
    }

    #[test]
    fn bad_inputs_are_run_errors() {
        let seed = [("seed", Attribute::Float(1.0))];
        let op = build("", "Bernoulli", &seed, 1).unwrap();
        let err = run(op.as_ref(), vec![f32s(vec![2], vec![0.5, 1.5])]).unwrap_err();
        assert!(err.contains("1.5"), "{err}");
        let op = build("", "RandomUniformLike", &seed, 1).unwrap();
        let ints = Value::from_data(&TensorData::from_i64(vec![2], vec![1, 2])).ok();
        assert!(run(op.as_ref(), vec![ints]).is_err());
        let op = build("", "Dropout", &[("seed", Attribute::Int(3))], 2).unwrap();
        let on = Value::from_data(&TensorData::from_i64(vec![], vec![1])).ok();
        let x = f32s(vec![3], vec![1.0; 3]);
        let err = run(
            op.as_ref(),
            vec![x.clone(), f32s(vec![], vec![1.0]), on.clone()],
        );
        assert!(err.unwrap_err().contains("ratio"));
        let two = f32s(vec![2], vec![0.1, 0.2]);
        assert!(run(op.as_ref(), vec![x.clone(), two, on.clone()]).is_err());
        let out = run(op.as_ref(), vec![x, f32s(vec![], vec![0.5]), on]).unwrap();
        assert_eq!(out.len(), 2);
        let op = build("", "SoftmaxCrossEntropyLoss", &[], 2).unwrap();
        let labels = Value::from_data(&TensorData::from_i64(vec![2], vec![0, 3])).ok();
        let scores = f32s(vec![2, 3], vec![0.0; 6]);
        let err = run(op.as_ref(), vec![scores, labels]).unwrap_err();
        assert!(err.contains("target value 3"), "{err}");
    }
}
