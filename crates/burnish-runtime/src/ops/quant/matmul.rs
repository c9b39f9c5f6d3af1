//! Quantized matrix products on the int8 GEMM: `MatMulInteger`, `QLinearMatMul` and the
//! `burnish` `QMatMul` (the `com.microsoft` ones are in `ms_ops.rs`).
//!
//! A constant 2-D `B` (with constant zero points) is packed once when the session is built,
//! and shared by every node that reads the same constant; otherwise `B` is packed per call, per
//! batch matrix (numpy broadcasting over batch dims).

use std::borrow::Cow;
use std::sync::Arc;

use burnish_kernels::{
    Activation as Act, Kernel, PackedB, Weights, gemm_i32, gemm_qlinear, gemm_scaled,
};
use burnish_model::DType;
use burnish_model::query::transpose;

use super::epilogue::{Activation, Bias, Epilogue, OutBuf, quant_epilogue};
use super::host::{
    Codes, check_scales, codes, const_params, const_weights, floats, ints, per_channel, scalar,
};
use crate::ops::pack_table::PackTable;
use crate::ops::util::broadcast_shape;
use crate::ops::{BuildCtx, Inputs, Op, op};
use crate::value::Value;

/// Where `B` and its zero point are among the inputs, and whether `B` is stored transposed.
#[derive(Clone, Copy)]
pub(super) struct BSpec {
    pub(super) b: usize,
    pub(super) zp: Option<usize>,
    pub(super) trans: bool,
}

/// Packs a constant 2-D `B` (and constant zero point) at build time.
pub(super) fn prepack(ctx: &BuildCtx, spec: BSpec) -> Result<Option<Arc<PackedB>>, String> {
    let Some(b) = ctx.consts.get(spec.b).cloned().flatten() else {
        return Ok(None);
    };
    let zps = match spec
        .zp
        .filter(|&i| ctx.node.input(i).is_some_and(|s| !s.is_empty()))
    {
        None => vec![0],
        Some(i) => match ctx.consts.get(i).cloned().flatten() {
            Some(z) => z
                .to_i64_vec()
                .ok_or("B zero point must be integer")?
                .into_iter()
                .map(|v| v as i32)
                .collect(),
            None => return Ok(None),
        },
    };
    if b.shape.len() != 2 {
        return Ok(None);
    }
    let Some(w) = const_weights(&b) else {
        return Err(format!("B must be uint8 or int8, found {}", b.dtype()));
    };
    PACKED_B
        .get_or_pack(&b, (zps.clone(), spec.trans), || {
            pack(w, &b.shape, &zps, spec.trans)
        })
        .map(Some)
}

/// Constant `B`s packed once per constant, zero points and layout (the cells of an unrolled
/// LSTM share one packed weight).
static PACKED_B: PackTable<(Vec<i32>, bool), PackedB> = PackTable::new();

/// Packs row-major `w` (`[K, N]`, or `[N, K]` when `trans`) with zero points.
fn pack(w: Weights<'_>, shape: &[usize], zps: &[i32], trans: bool) -> Result<PackedB, String> {
    let (r, c) = (shape[0], shape[1]);
    let (k, n) = if trans { (c, r) } else { (r, c) };
    let packed = match (w, trans) {
        (w, false) => PackedB::quantized(Kernel::best(), w, zps, k, n),
        (Weights::I8(v), true) => {
            PackedB::quantized(Kernel::best(), Weights::I8(&transpose(v, n, k)), zps, k, n)
        }
        (Weights::U8(v), true) => {
            PackedB::quantized(Kernel::best(), Weights::U8(&transpose(v, n, k)), zps, k, n)
        }
    };
    packed.map_err(|e| format!("packing B: {e}"))
}

/// `B` for one call: packed at build, or a run-time value with its zero points.
pub(super) enum BOperand<'a> {
    Packed(&'a PackedB),
    Runtime(Value, Vec<i32>),
}

impl BOperand<'_> {
    /// Output columns.
    pub(super) fn n(&self, trans: bool) -> Result<usize, String> {
        match self {
            BOperand::Packed(p) => Ok(p.n()),
            BOperand::Runtime(v, _) => {
                let s = v.shape();
                match (s.len(), trans) {
                    (0, _) => Err("B must have rank >= 1".into()),
                    (1, _) => Ok(1),
                    (r, false) => Ok(s[r - 1]),
                    (r, true) => Ok(s[r - 2]),
                }
            }
        }
    }
}

pub(super) fn take_b<'a>(
    packed: &'a Option<Arc<PackedB>>,
    ins: &mut Inputs,
    spec: BSpec,
) -> Result<BOperand<'a>, String> {
    let zp = spec.zp.and_then(|i| ins.opt(i));
    if let Some(p) = packed {
        // Captured at build: the session may not pass `B` at all.
        let _ = ins.opt(spec.b);
        return Ok(BOperand::Packed(p));
    }
    let b = ins.take(spec.b)?;
    let zps = match zp {
        Some(z) => ints(&z)?,
        None => vec![0],
    };
    Ok(BOperand::Runtime(b, zps))
}

/// A required parameter read by input position.
pub(super) fn required(v: Option<Value>, i: usize) -> Result<Value, String> {
    v.ok_or_else(|| format!("required input #{i} is missing"))
}

/// Builds the op as `run(a, azp, b, epi)` with the activation zero point and epilogue that
/// `params(get, n)` reads: once at build when `B` is packed and every input at `positions` is a
/// constant (those and `B`'s are then captured), else on every call.
pub(super) fn with_params<P>(
    ctx: &BuildCtx,
    packed: Option<Arc<PackedB>>,
    spec: BSpec,
    positions: &[usize],
    params: P,
) -> Result<Box<dyn Op>, String>
where
    P: Fn(&mut dyn FnMut(usize) -> Option<Value>, usize) -> Result<(i32, Epilogue), String>
        + Send
        + Sync
        + 'static,
{
    let trans = spec.trans;
    if let (Some(p), Some(values)) = (&packed, const_params(ctx, positions)?) {
        let (azp, epi) = params(&mut |i| values.get(i).cloned().flatten(), p.n())?;
        let run = op(move |mut ins| {
            let a = ins.take(0)?;
            let b = take_b(&packed, &mut ins, spec)?;
            Ok(vec![matmul(&a, azp, b, trans, &epi)?])
        })?;
        let mut captured = positions.to_vec();
        captured.extend([spec.b].into_iter().chain(spec.zp));
        return Ok(crate::ops::captured(run, captured));
    }
    op(move |mut ins| {
        let a = ins.take(0)?;
        let b = take_b(&packed, &mut ins, spec)?;
        let n = b.n(trans)?;
        let (azp, epi) = params(&mut |i| ins.opt(i), n)?;
        Ok(vec![matmul(&a, azp, b, trans, &epi)?])
    })
}

/// The activation zero point as an i32 (0 when omitted), checked to be per tensor.
pub(super) fn a_zero_point(v: Option<Value>) -> Result<i32, String> {
    match v {
        None => Ok(0),
        Some(v) => scalar(&ints(&v)?, "a_zero_point"),
    }
}

/// Runs `epi(A x B)` for A of any rank >= 1.
pub(super) fn matmul(
    a: &Value,
    azp: i32,
    b: BOperand<'_>,
    trans: bool,
    epi: &Epilogue,
) -> Result<Value, String> {
    let sa = a.shape();
    if sa.is_empty() {
        return Err("A must have rank >= 1".into());
    }
    let a_codes = codes(a, "A")?;
    let k = sa[sa.len() - 1];
    match b {
        BOperand::Packed(p) => {
            if p.k() != k {
                return Err(format!("A {sa:?} does not match B with K = {}", p.k()));
            }
            let rows = a.numel() / k.max(1);
            let out = gemm(&a_codes, azp, p, epi, rows)?;
            let mut shape = sa[..sa.len() - 1].to_vec();
            shape.push(p.n());
            Ok(out.into_value(shape))
        }
        BOperand::Runtime(bv, zps) => batched(&a_codes, &sa, azp, &bv, &zps, trans, epi),
    }
}

/// numpy matmul with batch broadcasting, packing each batch matrix of B per call.
fn batched(
    a: &Codes<'_>,
    sa: &[usize],
    azp: i32,
    bv: &Value,
    zps: &[i32],
    trans: bool,
    epi: &Epilogue,
) -> Result<Value, String> {
    let sb = bv.shape();
    let (a_vec, b_vec) = (sa.len() == 1, sb.len() == 1);
    let sa2: Vec<usize> = if a_vec { vec![1, sa[0]] } else { sa.to_vec() };
    let sb2: Vec<usize> = match (b_vec, trans) {
        (true, _) => vec![sb[0], 1],
        (false, _) => sb.clone(),
    };
    let (ra, rb) = (sa2.len(), sb2.len());
    let (m, k) = (sa2[ra - 2], sa2[ra - 1]);
    let (bk, n) = if trans {
        (sb2[rb - 1], sb2[rb - 2])
    } else {
        (sb2[rb - 2], sb2[rb - 1])
    };
    if bk != k {
        return Err(format!("MatMul inner dimensions differ: {sa:?} x {sb:?}"));
    }
    let batch = broadcast_shape(&sa2[..ra - 2], &sb2[..rb - 2])?;
    let b_codes = codes(bv, "B")?;
    let index = |shape: &[usize], flat: usize| -> usize {
        let lead = &shape[..shape.len() - 2];
        let (mut rem, mut idx, mut stride) = (flat, 0, 1);
        let mut strides = vec![0; batch.len()];
        for (d, s) in lead.iter().rev().enumerate() {
            strides[batch.len() - 1 - d] = if *s == 1 { 0 } else { stride };
            stride *= s;
        }
        for d in (0..batch.len()).rev() {
            let coord = rem % batch[d];
            rem /= batch[d];
            idx += coord * strides[d];
        }
        idx
    };
    let count: usize = batch.iter().product();
    let mut parts = Vec::with_capacity(count);
    for t in 0..count {
        let (ia, ib) = (index(&sa2, t), index(&sb2, t));
        let bs = [sb2[rb - 2], sb2[rb - 1]];
        let packed = match &b_codes {
            Codes::U8(v) => pack(Weights::U8(&v[ib * k * n..][..k * n]), &bs, zps, trans)?,
            Codes::I8(v) => pack(Weights::I8(&v[ib * k * n..][..k * n]), &bs, zps, trans)?,
        };
        let a_part = match a {
            Codes::U8(v) => Codes::U8(Cow::Borrowed(&v[ia * m * k..][..m * k])),
            Codes::I8(v) => Codes::I8(Cow::Borrowed(&v[ia * m * k..][..m * k])),
        };
        parts.push(gemm(&a_part, azp, &packed, epi, m)?);
    }
    let out = OutBuf::concat(parts);
    let mut shape = batch;
    if !a_vec {
        shape.push(m);
    }
    if !b_vec {
        shape.push(n);
    }
    Ok(out.into_value(shape))
}

/// One GEMM of `rows` rows of `a` against packed `b`, through the epilogue.
fn gemm(
    a: &Codes<'_>,
    azp: i32,
    b: &PackedB,
    epi: &Epilogue,
    rows: usize,
) -> Result<OutBuf, String> {
    match a {
        Codes::U8(a) => {
            let zp = u8::try_from(azp).map_err(|_| format!("a_zero_point {azp} is not a u8"))?;
            gemm_typed(a, zp, b, epi, rows)
        }
        Codes::I8(a) => {
            let zp = i8::try_from(azp).map_err(|_| format!("a_zero_point {azp} is not an i8"))?;
            gemm_typed(a, zp, b, epi, rows)
        }
    }
}

fn gemm_typed<A: Act>(
    a: &[A],
    azp: A,
    b: &PackedB,
    epi: &Epilogue,
    rows: usize,
) -> Result<OutBuf, String> {
    epi.produce(rows * b.n(), |buf| {
        match buf {
            OutBuf::I32(o) => gemm_i32(a, azp, b, o),
            OutBuf::F32(o) => {
                let (scales, bias) = epi.scaled().ok_or("no f32 epilogue")?;
                gemm_scaled(a, azp, b, scales, bias, o)
            }
            OutBuf::U8(o) => gemm_qlinear(a, azp, b, &epi.requant().ok_or("no requant")?, o),
            OutBuf::I8(o) => gemm_qlinear(a, azp, b, &epi.requant().ok_or("no requant")?, o),
        }
        .map_err(|e| e.to_string())
    })
}

/// `MatMulInteger(A, B, a_zero_point?, b_zero_point?)` -> i32.
pub fn matmul_integer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let spec = BSpec {
        b: 1,
        zp: Some(3),
        trans: false,
    };
    let packed = prepack(ctx, spec)?;
    op(move |mut ins| {
        let a = ins.take(0)?;
        let azp = a_zero_point(ins.opt(2))?;
        let b = take_b(&packed, &mut ins, spec)?;
        Ok(vec![matmul(&a, azp, b, false, &Epilogue::I32)?])
    })
}

/// Reads a per-tensor f32 scale.
pub(super) fn scale_of(v: &Value, what: &str) -> Result<f32, String> {
    let s = scalar(&floats(v, what)?, what)?;
    check_scales(&[s], what)?;
    Ok(s)
}

/// The bias input of `QMatMul`/`QConv`: i32 or f32, `n` values.
pub(crate) fn bias_of(v: Option<Value>, n: usize) -> Result<Option<Bias>, String> {
    Ok(match v {
        None => None,
        Some(v) if v.dtype() == DType::I32 => Some(Bias::Int(per_channel(&ints(&v)?, n, "bias")?)),
        Some(v) => Some(Bias::Float(per_channel(&floats(&v, "bias")?, n, "bias")?)),
    })
}

/// Shared body of `QLinearMatMul` (`bias_input` none) and `QMatMul`.
fn qlinear_matmul_op(ctx: &BuildCtx, with_extras: bool) -> Result<Box<dyn Op>, String> {
    let trans = with_extras && ctx.int("transB", 0)? != 0;
    let act = if with_extras {
        Activation::parse(ctx)?
    } else {
        Activation::None
    };
    let spec = BSpec {
        b: 3,
        zp: Some(5),
        trans,
    };
    let packed = prepack(ctx, spec)?;
    with_params(ctx, packed, spec, &[1, 2, 4, 6, 7, 8], move |get, n| {
        let a_scale = scale_of(&required(get(1), 1)?, "a_scale")?;
        let azp = a_zero_point(get(2))?;
        let b_scales = per_channel(&floats(&required(get(4), 4)?, "b_scale")?, n, "b_scale")?;
        check_scales(&b_scales, "b_scale")?;
        let y_scale = scale_of(&required(get(6), 6)?, "y_scale")?;
        let y_zp = required(get(7), 7)?;
        let zp = scalar(&ints(&y_zp)?, "y_zero_point")?;
        let bias = if with_extras { get(8) } else { None };
        let epi = quant_epilogue(
            a_scale,
            &b_scales,
            y_scale,
            y_zp.dtype(),
            zp,
            bias_of(bias, n)?,
            act,
        )?;
        Ok((azp, epi))
    })
}

/// `QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)`.
pub fn qlinear_matmul(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    qlinear_matmul_op(ctx, false)
}

/// `burnish::QMatMul`: `QLinearMatMul` plus `bias`, `transB` and `activation` (see the module
/// doc of `quant`).
pub fn qmatmul(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    qlinear_matmul_op(ctx, true)
}
