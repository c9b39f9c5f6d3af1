//! QDQ insertion: `QuantizeLinear`/`DequantizeLinear` (or `DynamicQuantizeLinear`) pairs on
//! activations, `DequantizeLinear` on quantized constant weights and biases, around the float
//! ops, as onnxruntime's QDQ format writes them.
//!
//! ```text
//!  static:   x ─> Q ─> DQ ─┐                       dynamic:  x ─> DynamicQuantizeLinear ─> DQ ─┐
//!            w_i8 ─> DQ ───┼─> Conv ─> Q ─> DQ ─>             w_i8 ─> DQ ──────────────────────┼─> MatMul ─>
//!            b_i32 ─> DQ ──┘  (Relu folded into Q's range)
//! ```
//!
//! A Relu that is the only reader of a quantized node's output is removed and its output range
//! (which starts at 0) used for the Q instead: with the zero point at the bottom of the code
//! range, quantization clamps negative values to exactly 0, which is what the Relu did.

use std::collections::{HashMap, HashSet};

use burnish_model::{Buffer, Model, Node, TensorData};

pub use burnish_model::query::transpose;

use crate::QuantError;
use crate::config::{ActivationType, QuantConfig, QuantMode};
use crate::select::Candidate;
use crate::util::{Namer, add_const, node};

mod acts;
mod constants;
pub mod ort;
pub mod params;

pub use acts::ActTensor;
pub use ort::Layout;

use constants::{SharedWeights, quantize_constant, quantize_weight};

/// Quantization parameters of an activation tensor.
#[derive(Debug, Clone, Copy)]
pub struct ActParams {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

fn zp_tensor(ty: ActivationType, zp: i32) -> TensorData {
    let data = match ty {
        ActivationType::U8 => Buffer::U8(vec![zp as u8]),
        ActivationType::S8 => Buffer::I8(vec![zp as i8]),
    };
    TensorData {
        shape: vec![],
        data,
    }
}

/// Rewrites `model` in place: weights of `cands` quantized and dequantized, activations
/// quantized per `acts` (static, with `params` by tensor name) or per call (dynamic: `params`
/// empty). Returns the number of (Q, DQ) nodes added.
pub fn insert(
    model: &mut Model,
    cfg: &QuantConfig,
    cands: &[Candidate],
    layout: &Layout,
    params: &HashMap<String, ActParams>,
) -> Result<(usize, usize), QuantError> {
    let acts = &layout.acts;
    let dynamic = cfg.mode == QuantMode::DynamicInt8;
    let mut namer = Namer::new(&model.graph);
    let old = std::mem::take(&mut model.graph.nodes);
    let implicit: HashMap<usize, Vec<String>> = old
        .iter()
        .enumerate()
        .filter(|(_, n)| n.has_subgraphs())
        .map(|(i, n)| (i, n.implicit_inputs()))
        .collect();
    let consumers = |t: &str| -> Vec<usize> {
        old.iter()
            .enumerate()
            .filter(|(i, n)| {
                n.inputs.iter().any(|x| x == t)
                    || implicit.get(i).is_some_and(|v| v.iter().any(|x| x == t))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let cand_at: HashMap<usize, &Candidate> = cands.iter().map(|c| (c.idx, c)).collect();
    let absorbed: HashSet<usize> = acts.iter().filter_map(|a| a.absorbed).collect();
    // Tensors still computed in float next to their quantized form (not an absorbed Relu's
    // output): a node kept float on request reads those directly.
    let float_too: HashSet<&str> = acts
        .iter()
        .filter(|a| a.absorbed.is_none())
        .map(|a| a.tensor.as_str())
        .collect();
    let mut before: HashMap<usize, Vec<Node>> = HashMap::new();
    let mut rename: HashMap<String, String> = HashMap::new();
    let mut only_in: HashMap<String, HashSet<usize>> = HashMap::new();
    let (mut nq, mut ndq) = (0, 0);
    for a in acts {
        let readers: Vec<usize> = consumers(&a.tensor)
            .into_iter()
            .filter(|r| !dynamic || cand_at.contains_key(r))
            .collect();
        let Some(&first) = readers.first() else {
            continue;
        };
        let g = &mut model.graph;
        let t = &a.tensor;
        let q = namer.fresh(&format!("{t}_quantized"));
        let dq = namer.fresh(&format!("{t}_dequantized"));
        let mut nodes = Vec::new();
        if dynamic {
            let (s, z) = (
                namer.fresh(&format!("{t}_scale")),
                namer.fresh(&format!("{t}_zero_point")),
            );
            nodes.push(node(
                namer.fresh(&format!("{t}_DynamicQuantizeLinear")),
                "DynamicQuantizeLinear",
                vec![a.source.clone()],
                vec![q.clone(), s.clone(), z.clone()],
            ));
            nodes.push(node(
                namer.fresh(&format!("{t}_DequantizeLinear")),
                "DequantizeLinear",
                vec![q, s, z],
                vec![dq.clone()],
            ));
        } else {
            let p = params.get(t).ok_or_else(|| QuantError::Calibration {
                source_name: "calibration".into(),
                message: format!("no range for `{t}`"),
            })?;
            let s = add_const(
                g,
                &mut namer,
                &format!("{t}_scale"),
                TensorData::from_f32(vec![], vec![p.scale]),
            );
            let z = add_const(
                g,
                &mut namer,
                &format!("{t}_zero_point"),
                zp_tensor(cfg.activation_type, p.zero_point),
            );
            nodes.push(node(
                namer.fresh(&format!("{t}_QuantizeLinear")),
                "QuantizeLinear",
                vec![a.source.clone(), s.clone(), z.clone()],
                vec![q.clone()],
            ));
            nodes.push(node(
                namer.fresh(&format!("{t}_DequantizeLinear")),
                "DequantizeLinear",
                vec![q, s, z],
                vec![dq.clone()],
            ));
        }
        nq += 1;
        ndq += 1;
        before.entry(first).or_default().extend(nodes);
        rename.insert(t.clone(), dq);
        if dynamic {
            only_in.insert(t.clone(), readers.into_iter().collect());
        }
    }
    let mut constants = layout.constants.clone();
    constants.sort_unstable();
    let mut const_dq: HashMap<String, String> = HashMap::new();
    for (idx, slot) in constants {
        let name = old[idx].inputs[slot].clone();
        if let Some(dq) = const_dq.get(&name) {
            rename.insert(format!("{idx}#{slot}"), dq.clone());
            continue;
        }
        let dq = quantize_constant(
            model,
            cfg,
            &name,
            &old[idx],
            &mut namer,
            before.entry(idx).or_default(),
        )?;
        ndq += 1;
        rename.insert(format!("{idx}#{slot}"), dq.clone());
        const_dq.insert(name, dq);
    }
    let mut shared = SharedWeights::new();
    for c in cands {
        let n = &old[c.idx];
        let mut nodes = Vec::new();
        let x_scale = params.get(&n.inputs[0]).map(|p| p.scale);
        let (w_dq, b_dq) = quantize_weight(
            model,
            cfg,
            c,
            n,
            x_scale,
            &mut namer,
            &mut shared,
            &mut nodes,
        )?;
        ndq += nodes.len();
        before.entry(c.idx).or_default().extend(nodes);
        rename.insert(format!("{}#1", c.idx), w_dq);
        if let Some(b) = b_dq {
            rename.insert(format!("{}#2", c.idx), b);
        }
    }
    let g = &mut model.graph;
    for (i, mut n) in old.into_iter().enumerate() {
        if let Some(pre) = before.remove(&i) {
            g.nodes.extend(pre);
        }
        if absorbed.contains(&i) {
            continue;
        }
        let kept_float = cfg.exclude_nodes.contains(&n.name);
        for (k, input) in n.inputs.iter_mut().enumerate() {
            if let Some(w) = rename.get(&format!("{i}#{k}")) {
                *input = w.clone();
            } else if let Some(dq) = rename.get(input.as_str())
                && only_in
                    .get(input.as_str())
                    .is_none_or(|set| set.contains(&i))
                && !(kept_float && float_too.contains(input.as_str()))
            {
                *input = dq.clone();
            }
        }
        for t in implicit.get(&i).into_iter().flatten() {
            let Some(dq) = rename.get(t.as_str()) else {
                continue;
            };
            if only_in.get(t.as_str()).is_some_and(|set| !set.contains(&i)) {
                continue;
            }
            for a in n.attrs.values_mut() {
                if let burnish_model::Attribute::Graph(sub) = a {
                    sub.rename_free_uses(t, dq);
                }
            }
        }
        g.nodes.push(n);
    }
    Ok((nq, ndq))
}
