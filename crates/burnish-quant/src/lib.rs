//! # burnish-quant
//!
//! The burnish quantizer. [`quantize`] rewrites a float model into one of:
//!
//! | mode | weights | activations | graph written |
//! |---|---|---|---|
//! | `static-int8` | int8 symmetric, per channel (or per tensor) | u8 or s8, ranges from calibration ([`RangeMethod`]) | ONNX QDQ: `Q -> DQ` on activations, `DQ` on weights and int32 biases |
//! | `dynamic-int8` | int8 symmetric, per channel | u8, range of each call (`DynamicQuantizeLinear`) | `DynamicQuantizeLinear -> DQ` before MatMul/Gemm |
//! | `int4-weights` | 4-bit codes in blocks of 32 or 128 along K (stored one per int8) | float | blocked `DequantizeLinear` (opset 21) |
//! | `f16`, `bf16` | half | half compute, float32 inputs/outputs | `Cast` at the edges |
//!
//! The QDQ graph is standard ONNX (onnxruntime loads it); [`lower_qdq`] then turns its patterns,
//! and those of models quantized by other tools, into burnish's int8 ops for execution.
//!
//! ```no_run
//! use burnish_quant::{Calibration, QuantConfig, QuantMode, RangeMethod, quantize};
//!
//! let model = burnish_model::load_onnx("model.onnx")?;
//! let calibration = Calibration::from_npz("calibration.npz")?;
//! let cfg = QuantConfig {
//!     mode: QuantMode::StaticInt8,
//!     method: RangeMethod::Percentile(99.99),
//!     ..Default::default()
//! };
//! let (qdq, record) = quantize(&model, &cfg, Some(&calibration))?;
//! println!("{:.0}% of MACs in int8", 100.0 * record.quantized_mac_share);
//! burnish_model::save_onnx(&qdq, "model.int8.onnx")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The model first goes through the optimizer's exact `basic` passes (constant folding makes
//! weights computed from initializers, such as a `Transpose` of a weight, constants).
//!
//! Nothing restricts activation or weight ranges for the AVX2 `u8 x i8` saturation problem:
//! burnish's AVX2 int8 kernel multiplies 16-bit operands with `vpmaddwd` (see
//! `burnish-kernels`), which is exact for every u8/i8 code, so full 8-bit ranges are used.
//!
//! [`fallback::float_fallback`] quantizes and then keeps the nodes that add the most error in
//! float until the quantized model meets the fidelity floor against the float one.

pub mod calibrate;
pub mod config;
mod error;
pub mod fallback;
pub mod float16;
mod macs;
mod opset;
pub mod qdq;
pub mod range;
mod recipe;
pub mod record;
pub mod select;
mod util;
pub mod weights;

use std::collections::HashMap;

use burnish_model::{DType, Model};

pub use burnish_runtime::LowerRecord;
pub use calibrate::Calibration;
pub use config::{ActivationType, QdqTarget, QuantConfig, QuantMode, RangeMethod, WeightBits};
pub use error::QuantError;
pub use recipe::{Quantized, quantize_for_burnish};
pub use record::{NodeDecision, QuantRecord, TensorDecision};

use crate::qdq::ActTensor;

/// Rewrites the QDQ patterns of `model` into burnish's int8 ops: the session-build lowering
/// of [`burnish_runtime::lower_qdq`] (see there), its error as a [`QuantError`].
pub fn lower_qdq(model: &mut Model) -> Result<LowerRecord, QuantError> {
    burnish_runtime::lower_qdq(model).map_err(|e| match e {
        burnish_runtime::RuntimeError::QdqLowering { node, op, message } => {
            QuantError::Node { node, op, message }
        }
        source => QuantError::Runtime {
            context: "lowering QDQ patterns".into(),
            source,
        },
    })
}

/// Largest constant (bytes) the quantizer's cleanup folds into an initializer.
const WEIGHT_FOLD_BYTES: usize = 1 << 30;

/// Note recorded for every int8 mode.
pub const AVX2_NOTE: &str = "no range restriction for the AVX2 u8 x i8 saturation problem: \
burnish's AVX2 int8 kernel widens both operands to 16 bits and multiplies with vpmaddwd, exact \
for every u8/i8 code (burnish-kernels), so full 8-bit activation and weight ranges are used";

/// Note recorded when `Conv` weights get 7-bit codes (`--weight-bits auto` on AVX2 without
/// VNNI, or `7`).
pub const SEVEN_BIT_NOTE: &str = "Conv weights use 7-bit codes (-63..=63, like onnxruntime's \
reduce_range): this CPU's int8 kernels are AVX2 without VNNI, where 7-bit weights let them use \
vpmaddubsw (u8 x i8 pair sums stay below 2^15, so the saturation problem cannot occur) at ~1.3x \
the speed of exact 16-bit products; activations keep 8 bits";

/// Note recorded for `--weight-bits 6`.
pub const SIX_BIT_NOTE: &str = "MatMul/Gemm weights use 6-bit codes (-31..=31, asked for with \
--weight-bits 6): on AVX2 without VNNI their GEMM adds two vpmaddubsw results in 16 bits before \
widening (four u8 x 6-bit products stay below 2^15), ~1.2x the speed of its 7-bit route, at a \
quarter of the 8-bit weight resolution; Conv weights keep 7 bits (the direct conv gains nothing \
from 6)";

fn weight_bits_note(cfg: &QuantConfig) -> String {
    if !cfg.mode.is_int8() {
        return AVX2_NOTE.to_string();
    }
    match (cfg.weight_bits.bits("Conv"), cfg.weight_bits.bits("MatMul")) {
        (_, 6) => format!("{SEVEN_BIT_NOTE}; {SIX_BIT_NOTE}"),
        (7, 7) => format!("{SEVEN_BIT_NOTE}; MatMul/Gemm weights use 7 bits too (--weight-bits 7)"),
        (7, _) => format!(
            "{SEVEN_BIT_NOTE}; MatMul/Gemm weights keep 8 bits (--weight-bits 7 gives 7 bits to \
             every int8 weight, 8 keeps 8 everywhere, 6 gives MatMul/Gemm 6 bits)"
        ),
        _ => AVX2_NOTE.to_string(),
    }
}

/// The nodes the burnish layout keeps float on top of `cfg.exclude_nodes`: of the onnxruntime
/// layout's anchors, those burnish's lowering runs in float ([`qdq::ort::float_in_burnish`])
/// and `Add`/`Mul` of two activations that are not a per-plane gate
/// ([`qdq::ort::plane_gate`], shapes from the first calibration sample).
fn burnish_layout_exclusions(
    m: &Model,
    cfg: &QuantConfig,
    calibration: Option<&Calibration>,
) -> Result<Vec<String>, QuantError> {
    let name = |i: usize| m.graph.nodes[i].name.clone();
    let mut exclude = cfg.exclude_nodes.clone();
    exclude.extend(qdq::ort::float_in_burnish(m).into_iter().map(name));
    let pairs = qdq::ort::activation_pairs(m);
    let Some(cal) = calibration.filter(|_| !pairs.is_empty()) else {
        return Ok(exclude);
    };
    let names: Vec<String> = pairs
        .iter()
        .flat_map(|(_, xs)| xs.iter().cloned())
        .collect();
    let shapes = calibrate::shapes(m, cal, &names)?;
    for (i, [a, b]) in pairs {
        let gate = matches!((shapes.get(&a), shapes.get(&b)), (Some(a), Some(b)) if qdq::ort::plane_gate(a, b));
        if !gate {
            exclude.push(name(i));
        }
    }
    Ok(exclude)
}

/// Quantizes `model` as `cfg` says; `calibration` is required for `static-int8`. Returns the
/// quantized model in standard ONNX QDQ form (see [`lower_qdq`] for execution on int8 ops) and
/// the record of every decision.
pub fn quantize(
    model: &Model,
    cfg: &QuantConfig,
    calibration: Option<&Calibration>,
) -> Result<(Model, QuantRecord), QuantError> {
    let mut m = if model
        .graph
        .nodes
        .iter()
        .any(burnish_model::domain::is_burnish)
    {
        burnish_optimizer::lower_for_export(model, false)
    } else {
        model.clone()
    };
    let mut notes = Vec::new();
    let mut activation_ops: Vec<String> = Vec::new();
    let mut cfg = cfg.clone();
    opset::prepare(&mut m, &mut cfg, &mut notes)?;
    // Weights computed by constant nodes (a `ConstantOfShape` fill) fold whatever their size:
    // only initializers quantize, and their int8 codes take a quarter of the float bytes.
    let basic = burnish_optimizer::OptimizeOptions {
        level: burnish_optimizer::Level::Basic,
        context: burnish_optimizer::PassContext {
            max_fold_bytes: WEIGHT_FOLD_BYTES,
            ..Default::default()
        },
        ..Default::default()
    };
    burnish_optimizer::PassManager::new(basic)?.run(&mut m)?;
    let float_model = m.clone();
    let bytes_before = m.graph.parameter_stats().1;
    let mut tensors = Vec::new();
    let (mut nq, mut ndq) = (0, 0);
    let decisions = match cfg.mode {
        QuantMode::F16 | QuantMode::Bf16 => {
            let to = if cfg.mode == QuantMode::F16 {
                DType::F16
            } else {
                DType::BF16
            };
            if cfg.half_compute {
                let n = float16::convert(&mut m, to);
                notes.push(format!(
                    "{n} float32 constants converted to {to} and the graph computes in {to}; inputs and \
                     outputs stay float32 (Cast at the edges)"
                ));
                notes.push(format!(
                    "{to} compute is slow on the CPU: burnish's flex backend has no half-precision \
                     conv/GEMM kernels and converts per element (resnet_nchw f16 compute measured at \
                     0.06x of float32); use it for backends with native {to}, or drop --half-compute \
                     to store {to} weights and compute in float32"
                ));
            } else {
                let n = float16::convert_weights(&mut m, to);
                notes.push(format!(
                    "{n} float32 weight tensors stored as {to}, each read through a Cast to float32 \
                     that burnish (and onnxruntime) folds when a session is built: the weights take half \
                     the bytes and the graph computes in float32, at float32 speed"
                ));
                notes.push(format!(
                    "{to} does not speed up compute on this CPU backend (no half-precision conv/GEMM \
                     kernels), so only the weights are converted; --half-compute converts the compute \
                     too, for backends with native {to}"
                ));
            }
            let (_, mut d) = select::select(&float_model, &cfg);
            for x in &mut d {
                x.quantized = true;
                x.reason = None;
                x.weights = Some(to.to_string());
            }
            d
        }
        mode => {
            if mode == QuantMode::Int4Weights && !matches!(cfg.block_size, 16 | 32 | 64 | 128 | 256)
            {
                return Err(QuantError::BadSetting {
                    what: "int4 block size",
                    value: cfg.block_size.to_string(),
                    expected: "16, 32, 64, 128 or 256",
                });
            }
            let (cands, mut decisions) = select::select(&m, &cfg);
            let mut layout = match (mode, cfg.target) {
                (QuantMode::StaticInt8, QdqTarget::Onnxruntime) => {
                    qdq::ort::layout(&m, &cands, &cfg.exclude_nodes)
                }
                (QuantMode::StaticInt8, QdqTarget::Burnish) => {
                    let exclude = burnish_layout_exclusions(&m, &cfg, calibration)?;
                    qdq::ort::layout(&m, &cands, &exclude)
                }
                (QuantMode::DynamicInt8, _) => qdq::ort::Layout {
                    acts: cands
                        .iter()
                        .map(|c| ActTensor::plain(&m.graph.nodes[c.idx].inputs[0]))
                        .collect(),
                    ..Default::default()
                },
                _ => Default::default(),
            };
            activation_ops = layout
                .qlinear
                .iter()
                .map(|&i| m.graph.nodes[i].name.clone())
                .collect();
            let mut params = HashMap::new();
            if mode == QuantMode::StaticInt8 {
                let cal = calibration.ok_or_else(|| QuantError::NeedsCalibration {
                    mode: mode.to_string(),
                })?;
                (params, tensors) = qdq::params::calibrate(&m, &cfg, cal, &mut layout.acts)?;
                let n = layout.act_matmuls.len();
                if n > 0 {
                    notes.push(format!(
                        "{n} MatMul with two activation inputs quantized on both (QLinearMatMul)"
                    ));
                }
            }
            (nq, ndq) = qdq::insert(&mut m, &cfg, &cands, &layout, &params)?;
            let scheme = match mode {
                QuantMode::Int4Weights => format!(
                    "int4 symmetric (codes -7..7 stored as int8), blocks of {} along K",
                    cfg.block_size
                ),
                _ if cfg.per_channel => "int8 symmetric, per channel".to_string(),
                _ => "int8 symmetric, per tensor".to_string(),
            };
            for (d, c) in decisions
                .iter_mut()
                .filter(|d| d.quantized)
                .zip(cands.iter())
            {
                let axis = if mode == QuantMode::Int4Weights {
                    c.k_axis
                } else {
                    c.channel_axis
                };
                let bits = match cfg.weight_bits.bits(&d.op_type) {
                    8 => String::new(),
                    _ if !mode.is_int8() => String::new(),
                    b => format!(", {b}-bit codes"),
                };
                d.weights = Some(format!("{scheme}{bits} (axis {axis})"));
            }
            for &i in &layout.act_matmuls {
                let name = &float_model.graph.nodes.get(i).map(|n| n.name.clone());
                if let Some(d) = decisions
                    .iter_mut()
                    .find(|d| Some(&d.node) == name.as_ref())
                {
                    d.quantized = true;
                    d.reason = None;
                    d.weights =
                        Some("none: both inputs are activations, quantized per tensor".into());
                }
            }
            match mode {
                QuantMode::StaticInt8 => {
                    notes.push(format!(
                        "activations {} asymmetric per tensor, ranges by {} over {} calibration samples",
                        serde_name(cfg.activation_type),
                        cfg.method,
                        calibration.map(Calibration::samples).unwrap_or(0)
                    ));
                    notes.push(weight_bits_note(&cfg));
                }
                QuantMode::DynamicInt8 => {
                    notes.push("activations u8 asymmetric, range of each call (DynamicQuantizeLinear defines u8 only)".into());
                    notes.push(weight_bits_note(&cfg));
                }
                _ => notes.push(
                    "burnish-model has no 4-bit element type, so codes are stored one per int8: the file is int8-sized; the accuracy is int4's".into(),
                ),
            }
            decisions
        }
    };
    util::remove_dead(&mut m.graph);
    let defined: std::collections::HashSet<String> = m
        .graph
        .defined_values()
        .into_iter()
        .map(str::to_string)
        .collect();
    m.graph.value_info.retain(|k, _| defined.contains(k));
    let issues = burnish_model::check::check(&m);
    if !issues.is_empty() {
        let shown: Vec<String> = issues.iter().take(3).map(ToString::to_string).collect();
        return Err(QuantError::Invalid(shown.join("; ")));
    }
    let mut decisions = decisions;
    let (total, share) = macs::fill(&float_model, calibration, &mut decisions)?;
    let record = QuantRecord {
        activation_ops,
        mode: cfg.mode.to_string(),
        method: (cfg.mode == QuantMode::StaticInt8).then_some(cfg.method),
        per_channel: cfg.per_channel,
        activation_type: match cfg.mode {
            QuantMode::StaticInt8 => Some(cfg.activation_type),
            QuantMode::DynamicInt8 => Some(ActivationType::U8),
            _ => None,
        },
        block_size: (cfg.mode == QuantMode::Int4Weights).then_some(cfg.block_size),
        calibration_samples: calibration.map(Calibration::samples).unwrap_or(0),
        nodes: decisions,
        tensors,
        quantize_nodes: nq,
        dequantize_nodes: ndq,
        quantized_mac_share: share,
        total_macs: total,
        param_bytes: [bytes_before, m.graph.parameter_stats().1],
        notes,
    };
    Ok((m, record))
}

fn serde_name(t: ActivationType) -> &'static str {
    match t {
        ActivationType::U8 => "u8",
        ActivationType::S8 => "s8",
    }
}
