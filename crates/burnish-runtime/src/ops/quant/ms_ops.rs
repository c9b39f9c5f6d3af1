//! The `com.microsoft` quantized matrix products onnxruntime's quantizer writes: `QGemm` and
//! `DynamicQuantizeMatMul`, on the int8 GEMM of [`super::matmul`].

use burnish_model::DType;

use super::epilogue::{Activation, Bias, Epilogue, quant_epilogue};
use super::host::{check_scales, const_params, floats, int_value, ints, per_channel, scalar};
use super::matmul::{
    BSpec, a_zero_point, matmul, prepack, required, scale_of, take_b, with_params,
};
use super::qdq::{dynamic_params, quantize_u8};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// `com.microsoft::QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C?, y_scale?, y_zp?)`: u8/i8 output
/// when `y_scale` is given, else f32. `C` is i32 with scale `alpha * a_scale * b_scale`.
pub fn qgemm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    if ctx.int("transA", 0)? != 0 {
        return Err("QGemm with transA = 1 is not supported".into());
    }
    let alpha = ctx.float("alpha", 1.0)?;
    let spec = BSpec {
        b: 3,
        zp: Some(5),
        trans: ctx.int("transB", 0)? != 0,
    };
    let packed = prepack(ctx, spec)?;
    with_params(ctx, packed, spec, &[1, 2, 4, 6, 7, 8], move |get, n| {
        let a_scale = scale_of(&required(get(1), 1)?, "a_scale")? * alpha;
        let azp = a_zero_point(get(2))?;
        let b_scales = per_channel(&floats(&required(get(4), 4)?, "b_scale")?, n, "b_scale")?;
        check_scales(&b_scales, "b_scale")?;
        let bias = get(6)
            .map(|c| ints(&c).and_then(|v| per_channel(&v, n, "C")))
            .transpose()?;
        let epi = match (get(7), get(8)) {
            (Some(ys), y_zp) => {
                let (dtype, zp) = match y_zp {
                    Some(z) => (z.dtype(), scalar(&ints(&z)?, "y_zero_point")?),
                    None => (DType::U8, 0),
                };
                let ys = scale_of(&ys, "y_scale")?;
                quant_epilogue(
                    a_scale,
                    &b_scales,
                    ys,
                    dtype,
                    zp,
                    bias.map(Bias::Int),
                    Activation::None,
                )?
            }
            (None, _) => {
                let scales: Vec<f32> = b_scales.iter().map(|s| a_scale * s).collect();
                let bias =
                    bias.map(|b| b.iter().zip(&scales).map(|(&c, s)| c as f32 * s).collect());
                Epilogue::F32 { scales, bias }
            }
        };
        Ok((azp, epi))
    })
}

/// `com.microsoft::DynamicQuantizeMatMul(A, B, b_scale, b_zero_point?, bias?)` -> f32: A is
/// quantized per call to u8 (ORT's dynamic parameters), then one int8 GEMM with
/// `a_scale * b_scale` and the float bias in its epilogue. With `B` packed, constant `b_scale`
/// and `bias` are read once at build.
pub fn dynamic_quantize_matmul(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let spec = BSpec {
        b: 1,
        zp: Some(3),
        trans: false,
    };
    let packed = prepack(ctx, spec)?;
    let fixed = match (&packed, const_params(ctx, &[2, 4])?) {
        (Some(p), Some(v)) => Some(b_params(&mut |i| v.get(i).cloned().flatten(), p.n())?),
        _ => None,
    };
    let captured = fixed.is_some();
    let run = op(move |mut ins| {
        let a = ins.take(0)?;
        let b = take_b(&packed, &mut ins, spec)?;
        let n = b.n(false)?;
        let per_call;
        let (b_scales, bias) = match &fixed {
            Some(f) => f,
            None => {
                per_call = b_params(&mut |i| ins.opt(i), n)?;
                &per_call
            }
        };
        let af = floats(&a, "A")?;
        let (a_scale, azp) = dynamic_params(&af);
        let aq = int_value(quantize_u8(&af, a_scale, azp), a.shape());
        let epi = Epilogue::F32 {
            scales: b_scales.iter().map(|s| a_scale * s).collect(),
            bias: bias.clone(),
        };
        Ok(vec![matmul(&aq, i32::from(azp), b, false, &epi)?])
    })?;
    Ok(if captured {
        crate::ops::captured(run, vec![1, 2, 3, 4])
    } else {
        run
    })
}

/// `b_scale` (input 2) and the optional float `bias` (input 4), per output column.
type BParams = (Vec<f32>, Option<Vec<f32>>);

fn b_params(get: &mut dyn FnMut(usize) -> Option<Value>, n: usize) -> Result<BParams, String> {
    let b_scales = per_channel(&floats(&required(get(2), 2)?, "b_scale")?, n, "b_scale")?;
    let bias = get(4)
        .map(|b| floats(&b, "bias").and_then(|v| per_channel(&v, n, "bias")))
        .transpose()?;
    Ok((b_scales, bias))
}
