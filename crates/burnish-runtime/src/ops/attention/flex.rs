//! `ai.onnx.preview::FlexAttention`: scaled dot-product attention over 4-D inputs (grouped
//! heads allowed) whose scores and probabilities may pass through the `score_mod` and
//! `prob_mod` graph attributes (each one input, one output, over the whole
//! `[batch, heads, q seq, kv seq]` tensor).
//!
//! Without modifiers it is flex's fused attention kernel. With them, each modifier graph is
//! compiled once into a nested [`Session`] and the scores are materialized in the softmax
//! precision (f32 for f16/bf16 inputs, else the input type; `softmax_precision` = double
//! selects f64). f16/bf16 scores are rounded as the reference computes them: `Q` and `K`
//! pre-scaled by `sqrt(scale)` and their product rounded in the input type.

use std::collections::BTreeMap;

use burn_backend::ops::{ActivationOps, AttentionModuleOptions, FloatTensorOps, ModuleOps};
use burn_backend::{DType as BurnDType, Scalar, Shape};
use burn_flex::FlexTensor;
use burnish_model::{AttrExt, Graph, Model};

use super::host::{float_input, round_to};
use crate::ops::util::{check_numel, dims};
use crate::ops::{BuildCtx, Op, op};
use crate::session::{Session, SessionOptions};
use crate::value::{B, Value};

/// A modifier graph compiled for the tensor it maps.
struct Modifier {
    session: Session,
    name: &'static str,
}

impl Modifier {
    fn new(ctx: &BuildCtx, name: &'static str) -> Result<Option<Modifier>, String> {
        let Some(graph) = ctx.node.attrs.graph_opt(name).map_err(|e| e.0)? else {
            return Ok(None);
        };
        if graph.inputs.len() != 1 || graph.outputs.len() != 1 {
            return Err(format!(
                "graph attribute `{name}` must have one input and one output, found {} and {}",
                graph.inputs.len(),
                graph.outputs.len()
            ));
        }
        let session = Session::new(&modifier_model(graph, ctx.opset), SessionOptions::default())
            .map_err(|e| format!("graph attribute `{name}`: {e}"))?;
        Ok(Some(Modifier { session, name }))
    }

    /// The graph's output for `t`, checked to keep the shape of `t`.
    fn apply(&self, t: FlexTensor) -> Result<FlexTensor, String> {
        let shape = dims(&t);
        let dtype = t.dtype();
        let out = self
            .session
            .run_values(vec![Value::Float(t)])
            .map_err(|e| format!("graph attribute `{}`: {e}", self.name))?;
        match out.into_iter().next() {
            Some(Value::Float(y)) if dims(&y) == shape => Ok(if y.dtype() == dtype {
                y
            } else {
                B::float_cast(y, dtype.into())
            }),
            _ => Err(format!(
                "graph attribute `{}` must map a float tensor to one of the same shape {shape:?}",
                self.name
            )),
        }
    }
}

fn modifier_model(graph: &Graph, opset: i64) -> Model {
    Model {
        graph: graph.clone(),
        opsets: BTreeMap::from([(String::new(), opset)]),
        ir_version: 10,
        producer_name: String::new(),
        producer_version: String::new(),
        metadata: BTreeMap::new(),
    }
}

/// Parsed attributes and compiled modifiers.
struct Flex {
    scale: Option<f64>,
    wide: bool,
    score_mod: Option<Modifier>,
    prob_mod: Option<Modifier>,
}

/// `FlexAttention(Q, K, V)`.
pub fn flex_attention(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let scale = ctx
        .node
        .attrs
        .contains_key("scale")
        .then(|| ctx.float("scale", 1.0))
        .transpose()?
        .map(f64::from);
    let cfg = Flex {
        scale,
        wide: ctx.int("softmax_precision", 1)? == 11,
        score_mod: Modifier::new(ctx, "score_mod")?,
        prob_mod: Modifier::new(ctx, "prob_mod")?,
    };
    op(move |mut ins| {
        let q = float_input(ins.take(0)?, "Q")?;
        let k = float_input(ins.take(1)?, "K")?;
        let v = float_input(ins.take(2)?, "V")?;
        Ok(vec![Value::Float(cfg.run(q, k, v)?)])
    })
}

impl Flex {
    fn run(&self, q: FlexTensor, k: FlexTensor, v: FlexTensor) -> Result<FlexTensor, String> {
        let (sq, sk, sv) = (dims(&q), dims(&k), dims(&v));
        let dtype = v.dtype();
        if sq.len() != 4 || sk.len() != 4 || sv.len() != 4 {
            return Err(format!(
                "Q, K and V must be 4-D, found {sq:?}, {sk:?} and {sv:?}"
            ));
        }
        let (b, hq, l, e) = (sq[0], sq[1], sq[2], sq[3]);
        let (hkv, s) = (sk[1], sk[2]);
        if sk[0] != b || sv[0] != b || sv[1] != hkv || sv[2] != s || sk[3] != e || e == 0 {
            return Err(format!(
                "K {sk:?} and V {sv:?} do not match Q {sq:?} (batch, heads, sequence, size)"
            ));
        }
        if hkv == 0 || !hq.is_multiple_of(hkv) {
            return Err(format!(
                "query heads {hq} must be a multiple of the key/value heads {hkv}"
            ));
        }
        if q.dtype() != k.dtype() || k.dtype() != dtype {
            return Err("Q, K and V must share one element type".into());
        }
        let compute = if self.wide || dtype == BurnDType::F64 {
            BurnDType::F64
        } else {
            BurnDType::F32
        };
        let cast = |t: FlexTensor| {
            if t.dtype() == compute {
                t
            } else {
                B::float_cast(t, compute.into())
            }
        };
        let scale = self.scale.unwrap_or(1.0 / (e as f64).sqrt());
        let low = matches!(dtype, BurnDType::F16 | BurnDType::BF16);
        let y = if self.score_mod.is_none() && self.prob_mod.is_none() && !low {
            let options = AttentionModuleOptions {
                scale: Some(scale),
                softcap: None,
                is_causal: false,
            };
            B::attention(cast(q), cast(k), cast(v), None, None, options)
        } else {
            check_numel(&[b, hq, l, s])?;
            let rep = hq / hkv;
            let grouped =
                |t: FlexTensor| B::float_reshape(t, Shape::from(vec![b, hkv, rep * l, e]));
            let scores = if low {
                let root = Scalar::from(round_to((scale as f32).sqrt(), dtype));
                let q = cast(B::float_mul_scalar(q, root));
                let k = cast(B::float_mul_scalar(k, root));
                let scores = B::float_matmul(grouped(q), B::float_transpose(k));
                cast(B::float_cast(scores, dtype.into()))
            } else {
                let scores = B::float_matmul(grouped(cast(q)), B::float_transpose(cast(k)));
                B::float_mul_scalar(scores, Scalar::from(scale))
            };
            let mut scores = B::float_reshape(scores, Shape::from(vec![b, hq, l, s]));
            if let Some(m) = &self.score_mod {
                scores = m.apply(scores)?;
            }
            let mut probs = B::softmax(scores, 3);
            if let Some(m) = &self.prob_mod {
                probs = m.apply(probs)?;
            }
            let probs = B::float_reshape(probs, Shape::from(vec![b, hkv, rep * l, s]));
            let y = B::float_matmul(probs, cast(v));
            B::float_reshape(y, Shape::from(vec![b, hq, l, sv[3]]))
        };
        Ok(if y.dtype() == dtype {
            y
        } else {
            B::float_cast(y, dtype.into())
        })
    }
}
