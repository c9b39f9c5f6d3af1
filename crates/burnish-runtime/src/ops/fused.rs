//! Fused kernels of the `burnish` domain, produced by the optimizer.
//!
//! | op | inputs | computes |
//! | --- | --- | --- |
//! | `FusedConv` | `x, w, b?, z?` | `act(Conv(x, w, b) + z)` (`z`, the residual, has the output's shape) |
//! | `FusedGemm` | as `Gemm` | `act(Gemm(a, b, c))` |
//! | `FusedMatMul` | as `MatMul` | `act(MatMul(a, b))` |
//! | `Linear` | `x, w, bias?` | `act(MatMul(x, w) + bias)`, `w` 2-D, bias broadcast on the last axis |
//!
//! The activation is named by the string attribute `activation` (`Relu`, `Clip`, `HardSigmoid`,
//! `HardSwish`, `Sigmoid`, `LeakyRelu`, `Gelu`, `Silu`); its own attributes are carried with an
//! `activation_` prefix (`activation_alpha`, `activation_min`, ...). The base op's result is
//! handed to the activation by value, never stored in a graph slot, so the activation (and
//! `Linear`'s bias) is applied in place in one pass ([`super::pointwise`]).

use burn_backend::ops::FloatTensorOps;
use burnish_model::domain;
use burnish_model::{Attribute, Node};

use super::linalg::{PackedMatMul, matmul_prims};
use super::pointwise::{self, Pointwise};
use super::util::{dims, float};
use super::{BuildCtx, Builder, Inputs, Op, op};
use crate::value::{B, Value};

/// The builder for a `burnish`-domain op type.
pub fn builder(op_type: &str) -> Option<Builder> {
    Some(match op_type {
        domain::FUSED_CONV => fused_conv,
        domain::FUSED_GEMM => fused_gemm,
        domain::FUSED_MATMUL => fused_matmul,
        domain::LINEAR => linear,
        _ => return None,
    })
}

/// Relu and Clip (constant bounds) run in the conv kernel's epilogue, as does the residual;
/// other activations follow the convolution.
fn fused_conv(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let clamp = match ctx.node.attrs.get(domain::ACTIVATION) {
        None => Some((f32::NEG_INFINITY, f32::INFINITY)),
        Some(Attribute::String(s)) if s == "Relu" => Some((0.0, f32::INFINITY)),
        Some(Attribute::String(s)) if s == "Clip" => Some((
            ctx.float("activation_min", f32::NEG_INFINITY)?,
            ctx.float("activation_max", f32::INFINITY)?,
        )),
        Some(_) => None,
    };
    let Some((min, max)) = clamp else {
        return fused(ctx, "Conv");
    };
    let mut node = ctx.node.clone();
    node.attrs.retain(|k, _| !domain::is_activation_key(k));
    super::conv::conv_with(
        &BuildCtx::with_consts(&node, ctx.opset, ctx.consts.clone()),
        min,
        max,
        true,
    )
}

fn fused_gemm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    fused(ctx, "Gemm")
}

fn fused_matmul(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    fused(ctx, "MatMul")
}

fn linear(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let act = activation(ctx)?;
    if let Some(packed) = packed_linear(ctx, &act) {
        return Ok(Box::new(packed));
    }
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let w = float(ins.take(1)?)?;
        let y = matmul_prims(x, w)?;
        let bias = ins.opt(2).map(float).transpose()?;
        let shape = dims(&y);
        let last = shape.last().copied();
        // Rank-2 GEMM results are updated in place in one pass; a batched result (reshaped
        // back from the flat GEMM) gets Burn's in-place broadcast add, then the activation.
        match (&act, bias) {
            (Act::Point(p), Some(b))
                if shape.len() == 2 && dims(&b).iter().product::<usize>() == last.unwrap_or(0) =>
            {
                Ok(vec![Value::Float(pointwise::apply(y, Some(&b), *p)?)])
            }
            (_, Some(b)) => Ok(vec![apply(&act, B::float_add(y, b))?]),
            (_, None) => Ok(vec![apply(&act, y)?]),
        }
    })
}

/// `Linear` with a constant 2-D float32 weight and a constant (or no) bias: the weight packed
/// once, the bias and a pointwise activation applied in the product's epilogue.
fn packed_linear(ctx: &BuildCtx, act: &Act) -> Option<PackedMatMul> {
    let Act::Point(p) = act else { return None };
    let w = ctx.consts.get(1)?.as_ref()?;
    let (bias, captured) = match ctx.node.input(2) {
        None => (None, vec![1]),
        Some(_) => (
            Some(ctx.consts.get(2)?.as_ref()?.as_f32()?.to_vec()),
            vec![1, 2],
        ),
    };
    PackedMatMul::build(w, false, 1.0, bias, captured, None)?.with_activation(*p)
}

/// The base op built from the node without its activation attributes, then the activation.
fn fused(ctx: &BuildCtx, base: &str) -> Result<Box<dyn Op>, String> {
    let mut node = ctx.node.clone();
    node.op_type = base.to_string();
    node.domain = String::new();
    node.attrs.retain(|k, _| !domain::is_activation_key(k));
    let base_ctx = BuildCtx::with_consts(&node, ctx.opset, ctx.consts.clone());
    let base_op = if base == "Conv" {
        super::conv::conv_with(&base_ctx, f32::NEG_INFINITY, f32::INFINITY, true)?
    } else {
        let build = super::builder("", base).ok_or_else(|| format!("no base op `{base}`"))?;
        build(&base_ctx)?
    };
    let act = activation(ctx)?;
    op(move |ins| {
        let mut outs = base_op.run(ins)?;
        if outs.is_empty() {
            return Err("fused base op produced no output".into());
        }
        let y = float(outs.swap_remove(0))?;
        Ok(vec![apply(&act, y)?])
    })
}

enum Act {
    /// Applied in place in one pass (see [`pointwise`]); `Identity` when there is none.
    Point(Pointwise),
    Op(Box<dyn Op>),
}

fn apply(act: &Act, y: burn_flex::FlexTensor) -> Result<Value, String> {
    Ok(match act {
        Act::Point(Pointwise::Identity) => Value::Float(y),
        Act::Point(p) => Value::Float(pointwise::apply(y, None, *p)?),
        Act::Op(op) => op
            .run(Inputs::new(vec![Some(Value::Float(y))]))?
            .into_iter()
            .next()
            .ok_or("activation produced no output")?,
    })
}

/// Builds the activation named by the `activation` attribute with the default-domain builder.
fn activation(ctx: &BuildCtx) -> Result<Act, String> {
    let name = match ctx.node.attrs.get(domain::ACTIVATION) {
        None => return Ok(Act::Point(Pointwise::Identity)),
        Some(Attribute::String(s)) => s.clone(),
        Some(other) => {
            return Err(format!(
                "`activation` must be a string, found {}",
                other.kind()
            ));
        }
    };
    let f = |k: &str, default: f32| ctx.float(&format!("activation_{k}"), default);
    let point = match name.as_str() {
        "Relu" => Some(Pointwise::Clip(0.0, f32::INFINITY)),
        "Clip" => Some(Pointwise::Clip(
            f("min", f32::NEG_INFINITY)?,
            f("max", f32::INFINITY)?,
        )),
        "LeakyRelu" => Some(Pointwise::LeakyRelu(f("alpha", 0.01)?)),
        "HardSigmoid" => Some(Pointwise::HardSigmoid(f("alpha", 0.2)?, f("beta", 0.5)?)),
        "HardSwish" => Some(Pointwise::HardSwish),
        "Sigmoid" => Some(Pointwise::Sigmoid),
        "Silu" => Some(Pointwise::Silu),
        "Tanh" => Some(Pointwise::Tanh),
        "Gelu" => match ctx.string("activation_approximate", "none")?.as_str() {
            "tanh" => Some(Pointwise::GeluTanh),
            _ => Some(Pointwise::Gelu),
        },
        _ => None,
    };
    if let Some(p) = point {
        return Ok(Act::Point(p));
    }
    if !matches!(
        name.as_str(),
        "Relu" | "Clip" | "HardSigmoid" | "HardSwish" | "Sigmoid" | "LeakyRelu" | "Gelu" | "Tanh"
    ) {
        return Err(format!("unsupported fused activation `{name}`"));
    }
    let attrs = ctx
        .node
        .attrs
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("activation_")?.to_string(), v.clone())))
        .collect();
    let node = Node {
        name: ctx.node.name.clone(),
        op_type: name.clone(),
        domain: String::new(),
        inputs: vec!["x".into()],
        outputs: vec!["y".into()],
        attrs,
    };
    let build = super::builder("", &name).ok_or_else(|| format!("no activation `{name}`"))?;
    Ok(Act::Op(build(&BuildCtx::with_consts(
        &node,
        ctx.opset,
        vec![None],
    ))?))
}
