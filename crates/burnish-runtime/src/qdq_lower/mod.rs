//! Lowering QDQ graphs (ours, or onnxruntime's `quantize_static`/`quantize_dynamic` QDQ output)
//! to burnish's int8 ops, for execution. [`crate::Session`] runs it when it is built (as
//! onnxruntime's QDQ transformers do; `SessionOptions::qdq_int8`), `burnish_quant` re-exports
//! it for the files it writes. Steps, in order:
//!
//! 1. **Move shape ops onto codes.** `DQ(q, s, z) -> Reshape|Flatten|Squeeze|Unsqueeze|Transpose
//!    |MaxPool -> Q(s, z)` becomes the op on `q`: exact, these ops only move or select elements
//!    (a maximum of dequantized codes is the dequantized maximum code, scales being positive).
//! 2. **Static int8 ops.**
//!    ```text
//!    DQ(xq, xs, xz) ─┐
//!    DQ(w_i8, ws, wz) ─┼─> Conv | MatMul | Gemm [-> Relu | Clip] -> Q(ys, yz)
//!    DQ(b_i32) or b ─┘         =>  burnish::QConv | burnish::QMatMul (activation folded)
//!    ```
//!    A `Gemm` whose output is not quantized (the logits layer) becomes
//!    `com.microsoft::QGemm` with a float32 output (int32 bias). Refused (left for step 4) when: the weight is not a constant int8/uint8 `DQ` input with
//!    per-tensor or per-output-channel scales, scales or zero points are not constants, `Gemm`
//!    has `transA`, `alpha != 1` or `beta != 1`, the op's output has other readers than the
//!    activation and Q, or no Q follows a Conv/MatMul (a float output).
//!    Then each residual `Add` fed by a `QConv`'s dequantized output, with its activation and
//!    `Q`, is folded into that `QConv` as its `z` input (`residual.rs`): one requantization
//!    instead of three, and no float round trip.
//!    Then elementwise float chains between a `DQ` and a `Q` (SiLU, an exported HardSwish,
//!    Sigmoid, ...) become `burnish::QLut` tables (`lut.rs`), binary ops of two dequantized
//!    values (`Mul`, `Add`, ...) `burnish::QLut2` tables of every code pair (`lut2.rs`), and a
//!    `Concat` of dequantized
//!    inputs requantized after it runs on the codes, inputs requantized by tables where their
//!    parameters differ (`concat.rs`).
//! 3. **Dynamic int8.** `DynamicQuantizeLinear(x) -> DQ -> MatMul | Gemm(DQ(w_i8) [, bias])`
//!    becomes `com.microsoft::DynamicQuantizeMatMul(x, w, ws, wz [, bias])`.
//! 4. **Fold constant DQ.** Every remaining `DequantizeLinear` of constants (weights of ops
//!    left in float, int4 blocks) becomes a float32 initializer: the op then runs in float on
//!    exactly the values the QDQ graph describes, with no per-call dequantization.
//!
//! Exactness: steps 1 and 4 and the `Concat` step are exact; a table is the float chain run on
//! every code (at most one code apart where an activation's vector and scalar code round
//! differently); step 2 is bit-exact with onnxruntime's
//! `QLinearConv`/`QLinearMatMul` for i32 biases (the QDQ graph in float can differ by one code
//! where the float op rounds its result before Q; a fused residual skips the rounding of the
//! conv output, so it can differ from the QDQ graph and from ORT's `QLinearAdd` by one code);
//! step 3 matches ORT's `DynamicQuantizeMatMul`.

use burnish_model::domain;
use burnish_model::query::{Namer, add_const, constant, is_op, remove_dead};
use burnish_model::{AttrExt, Buffer, Graph, Model, Node, TensorData};
use serde::Serialize;

use crate::RuntimeError;

mod concat;
mod dynamic;
mod fold;
mod lut;
mod lut2;
mod residual;
mod shape_ops;
mod static_ops;

use dynamic::dynamic_pattern;
use fold::{fold_constant_dq, fold_scalar_dq};
use residual::fuse_residuals;
use shape_ops::move_shape_ops;
use static_ops::static_pattern;

/// What [`lower_qdq`] rewrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LowerRecord {
    /// Shape ops moved onto quantized codes (step 1).
    pub shape_ops_on_codes: usize,
    /// `QConv` nodes written.
    pub qconv: usize,
    /// `QMatMul` (and float-output `QGemm`) nodes written.
    pub qmatmul: usize,
    /// `DynamicQuantizeMatMul` nodes written.
    pub dynamic_matmul: usize,
    /// Residual `Add`s (with their activation and Q) folded into the `QConv` before them.
    pub residual_adds: usize,
    /// Elementwise float chains between a DQ and a Q turned into `QLut` tables (step 2b).
    pub lookup_tables: usize,
    /// Binary ops of two dequantized values turned into `QLut2` tables (step 2b').
    pub binary_tables: usize,
    /// `Concat`s of dequantized inputs run on codes, each input requantized by a table
    /// where its parameters differ (step 2c).
    pub concats_on_codes: usize,
    /// Constant `DequantizeLinear` nodes folded to float32 initializers.
    pub folded_dequantize: usize,
    /// Quantized ops left in float, with the reason (`node: reason`).
    pub left_in_float: Vec<String>,
}

/// True when `graph` holds a default-domain `DequantizeLinear`: a QDQ graph [`lower_qdq`] may
/// rewrite.
pub fn has_qdq(graph: &Graph) -> bool {
    graph.nodes.iter().any(|n| is_op(n, "DequantizeLinear"))
}

/// Rewrites the QDQ patterns of `model` into int8 ops (see the module documentation). A model
/// lowered once has no pattern left, so lowering it again changes nothing.
pub fn lower_qdq(model: &mut Model) -> Result<LowerRecord, RuntimeError> {
    let mut rec = LowerRecord::default();
    let g = &mut model.graph;
    rec.shape_ops_on_codes = move_shape_ops(g);
    let mut namer = Namer::new(g);
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let mac = ["Conv", "MatMul", "Gemm"].iter().any(|op| is_op(n, op));
        if !mac {
            i += 1;
            continue;
        }
        let name = n.name.clone();
        match dynamic_pattern(g, i, &mut namer) {
            Ok(Some(())) => {
                rec.dynamic_matmul += 1;
                i += 1;
                continue;
            }
            Ok(None) => {}
            Err(reason) => {
                rec.left_in_float.push(format!("{name}: {reason}"));
                i += 1;
                continue;
            }
        }
        match static_pattern(g, i, &mut namer) {
            Ok(conv) => {
                if conv {
                    rec.qconv += 1;
                } else {
                    rec.qmatmul += 1;
                }
            }
            Err(reason) => {
                if reason != NOT_QDQ {
                    rec.left_in_float.push(format!("{name}: {reason}"));
                }
            }
        }
        i += 1;
    }
    rec.residual_adds = fuse_residuals(g, &mut namer);
    remove_dead(g);
    rec.folded_dequantize =
        fold_scalar_dq(g).map_err(|(node, message)| RuntimeError::QdqLowering {
            node,
            op: "DequantizeLinear".into(),
            message,
        })?;
    rec.lookup_tables = lut::lookup_tables(model, &mut namer);
    rec.binary_tables = lut2::binary_tables(model, &mut namer);
    rec.concats_on_codes = concat::concats_on_codes(model, &mut namer);
    let g = &mut model.graph;
    remove_dead(g);
    rec.folded_dequantize +=
        fold_constant_dq(g).map_err(|(node, message)| RuntimeError::QdqLowering {
            node,
            op: "DequantizeLinear".into(),
            message,
        })?;
    remove_dead(g);
    if g.nodes.iter().any(domain::is_burnish) {
        model
            .opsets
            .insert(domain::DOMAIN.into(), domain::DOMAIN_VERSION);
    }
    if g.nodes.iter().any(|n| n.domain == "com.microsoft") {
        model.opsets.insert("com.microsoft".into(), 1);
    }
    Ok(rec)
}

const NOT_QDQ: &str = "inputs are not dequantized";

/// The producer of `value` when it is a default-domain `op` node.
fn producer<'g>(g: &'g Graph, value: &str, op: &str) -> Option<&'g Node> {
    g.nodes
        .iter()
        .find(|n| n.outputs.iter().any(|o| o == value))
        .filter(|n| is_op(n, op))
}

fn readers(g: &Graph, value: &str) -> Vec<usize> {
    g.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.inputs.iter().any(|i| i == value))
        .map(|(i, _)| i)
        .collect()
}

fn same_const(g: &Graph, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a == b || matches!((constant(g, a), constant(g, b)), (Some(x), Some(y)) if x == y)
        }
        _ => false,
    }
}

/// Constant scale and zero point of a DQ/Q node (a missing zero point becomes a u8 0).
fn scale_zp(g: &mut Graph, q: &Node, namer: &mut Namer) -> Option<(String, String)> {
    let s = q.input(1)?.to_string();
    constant(g, &s)?;
    let z = match q.input(2) {
        Some(z) => {
            constant(g, z)?;
            z.to_string()
        }
        None => add_const(
            g,
            namer,
            &format!("{}_zero_point", q.name),
            TensorData {
                shape: vec![],
                data: Buffer::U8(vec![0]),
            },
        ),
    };
    Some((s, z))
}

fn float_attr(n: &Node, k: &str) -> f32 {
    n.attrs.float_or(k, 1.0).unwrap_or(f32::NAN)
}
