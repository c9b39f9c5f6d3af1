//! `QuantizeLinear`, `DequantizeLinear` (per tensor, per axis, blocked) and
//! `DynamicQuantizeLinear`, with onnxruntime's arithmetic.

use burnish_model::DType;
use rayon::prelude::*;

use super::host::{Codes, check_scales, codes, f32_value, floats, int_value, ints};
use super::narrow::{self, QuantAttrs};
use crate::ops::util::axis as norm_axis;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// `1.5 * 2^23`: `(x + M) - M` rounds `|x| < 2^22` half to even in the default FP mode.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// The bit pattern of [`ROUND_MAGIC`].
const MAGIC_BITS: i32 = 0x4B40_0000;

/// How scale and zero-point elements map onto the data: element `e` of a run starting at
/// `start` uses parameter `p0 + (e - start) * step`.
pub(super) struct Runs {
    /// `(elements, first parameter, parameter step)` per run.
    pub runs: Vec<(std::ops::Range<usize>, usize, usize)>,
}

/// Runs for data of `shape`, parameters of `pshape` along `axis` (blocks of `block` when
/// positive).
pub(super) fn runs(
    shape: &[usize],
    pshape: &[usize],
    axis: i64,
    block: i64,
) -> Result<Runs, String> {
    let numel: usize = shape.iter().product();
    let pnum: usize = pshape.iter().product();
    if pnum == 1 && (block <= 0 || pshape.len() <= 1) {
        return Ok(Runs {
            runs: vec![(0..numel, 0, 0)],
        });
    }
    let ax = norm_axis(axis, shape.len())?;
    let (outer, dim, inner) = (
        shape[..ax].iter().product::<usize>(),
        shape[ax],
        shape[ax + 1..].iter().product::<usize>(),
    );
    let mut runs = Vec::new();
    if block > 0 {
        let bs = block as usize;
        let nb = dim.div_ceil(bs);
        let mut want = shape.to_vec();
        want[ax] = nb;
        if pshape != want.as_slice() {
            return Err(format!(
                "blocked scale shape {pshape:?} does not fit input {shape:?} with block_size {bs} on axis {ax} (expected {want:?})"
            ));
        }
        for o in 0..outer {
            for a in 0..dim {
                let start = (o * dim + a) * inner;
                runs.push((start..start + inner, (o * nb + a / bs) * inner, 1));
            }
        }
    } else {
        if pshape.len() != 1 || pshape[0] != dim {
            return Err(format!(
                "per-axis scale of shape {pshape:?} does not fit axis {ax} of input {shape:?}"
            ));
        }
        for o in 0..outer {
            for a in 0..dim {
                let start = (o * dim + a) * inner;
                runs.push((start..start + inner, a, 0));
            }
        }
    }
    Ok(Runs { runs })
}

/// Quantizes `x` to codes in `lo..=hi` (ONNX QuantizeLinear as ORT computes it: divide, clamp
/// to the code range, round half to even, add the zero point).
fn quantize<T>(
    x: &[f32],
    runs: &Runs,
    scales: &[f32],
    zps: &[i32],
    lo: i32,
    hi: i32,
    to: impl Fn(i32) -> T + Sync,
) -> Vec<T>
where
    T: Copy + Default + Send,
{
    let mut out = vec![T::default(); x.len()];
    for (range, p0, step) in &runs.runs {
        let xs = &x[range.clone()];
        let os = &mut out[range.clone()];
        if *step == 0 {
            let (s, z) = (scales[*p0], zps[*p0]);
            in_parallel(xs, os, |xs, os| quantize_run(xs, os, s, z, lo, hi, &to));
        } else {
            for (t, (o, &v)) in os.iter_mut().zip(xs).enumerate() {
                let (s, z) = (scales[p0 + t], zps[p0 + t]);
                let q = (v / s).max((lo - z) as f32).min((hi - z) as f32);
                *o = to(((q + ROUND_MAGIC) - ROUND_MAGIC) as i32 + z);
            }
        }
    }
    out
}

/// Elements from which a per-tensor run is split across the session's threads.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// `f` over matching chunks of `xs` and `os`, on the session's threads when the run is long.
fn in_parallel<A: Sync, B: Send>(xs: &[A], os: &mut [B], f: impl Fn(&[A], &mut [B]) + Sync) {
    let threads = rayon::current_num_threads();
    if xs.len() < PARALLEL_ELEMENTS || threads < 2 {
        return f(xs, os);
    }
    let chunk = xs.len().div_ceil(threads).next_multiple_of(64);
    os.par_chunks_mut(chunk)
        .zip(xs.par_chunks(chunk))
        .for_each(|(o, x)| f(x, o));
}

/// One scale and zero point over a run; compiled for AVX2 as well, where it vectorizes.
fn quantize_run<T>(
    xs: &[f32],
    os: &mut [T],
    s: f32,
    z: i32,
    lo: i32,
    hi: i32,
    to: &impl Fn(i32) -> T,
) {
    #[inline(always)]
    fn body<T>(xs: &[f32], os: &mut [T], s: f32, z: i32, lo: i32, hi: i32, to: &impl Fn(i32) -> T) {
        let (l, h) = ((lo - z) as f32, (hi - z) as f32);
        for (o, &v) in os.iter_mut().zip(xs) {
            let q = (v / s).max(l).min(h);
            // `q + 1.5 * 2^23` holds round_half_even(q) in its low mantissa bits (|q| < 2^22):
            // integer arithmetic on the bits, which vectorizes, unlike a saturating cast.
            *o = to((q + ROUND_MAGIC).to_bits() as i32 - MAGIC_BITS + z);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<T>(
            xs: &[f32],
            os: &mut [T],
            s: f32,
            z: i32,
            lo: i32,
            hi: i32,
            to: &impl Fn(i32) -> T,
        ) {
            body(xs, os, s, z, lo, hi, to)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected at run time.
            return unsafe { avx2(xs, os, s, z, lo, hi, to) };
        }
    }
    body(xs, os, s, z, lo, hi, to)
}

/// `(q - zero_point) * scale` for every element.
fn dequantize(q: &[i32], runs: &Runs, scales: &[f32], zps: &[i32]) -> Vec<f32> {
    let mut out = vec![0f32; q.len()];
    for (range, p0, step) in &runs.runs {
        for (t, (o, &v)) in out[range.clone()]
            .iter_mut()
            .zip(&q[range.clone()])
            .enumerate()
        {
            let p = p0 + t * step;
            *o = v.wrapping_sub(zps[p]) as f32 * scales[p];
        }
    }
    out
}

/// `(code - z) * s` for 8-bit codes under one scale and zero point; compiled for AVX2 as
/// well, where it vectorizes.
fn dequantize_codes<C: Copy + Into<i32>>(c: &[C], s: f32, z: i32) -> Vec<f32> {
    #[inline(always)]
    fn body<C: Copy + Into<i32>>(c: &[C], o: &mut [f32], s: f32, z: i32) {
        for (o, &v) in o.iter_mut().zip(c) {
            *o = (v.into() - z) as f32 * s;
        }
    }
    let mut out = vec![0f32; c.len()];
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<C: Copy + Into<i32>>(c: &[C], o: &mut [f32], s: f32, z: i32) {
            body(c, o, s, z)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected at run time.
            unsafe { avx2(c, &mut out, s, z) };
            return out;
        }
    }
    body(c, &mut out, s, z);
    out
}

/// Code range of a quantized type.
fn code_range(d: DType) -> Result<(i32, i32), String> {
    Ok(match d {
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        DType::U16 => (0, 65_535),
        DType::I16 => (-32_768, 32_767),
        other => return Err(format!("quantization to {other} is not supported")),
    })
}

/// The type named by a type-code attribute (`None` when 0 or absent).
fn dtype_attr(ctx: &BuildCtx, name: &str) -> Result<Option<DType>, String> {
    match ctx.int(name, 0)? {
        0 => Ok(None),
        c => DType::from_onnx(c as i32)
            .map(Some)
            .ok_or(format!("unknown {name} {c}")),
    }
}

/// `QuantizeLinear(x, y_scale, y_zero_point?)`.
pub fn quantize_linear(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let axis = ctx.int("axis", 1)?;
    let block = ctx.int("block_size", 0)?;
    let out_dtype = dtype_attr(ctx, "output_dtype")?;
    let default_dtype = out_dtype.unwrap_or(DType::U8);
    let attrs = QuantAttrs {
        axis,
        block,
        saturate: ctx.int("saturate", 1)? != 0,
        precision: dtype_attr(ctx, "precision")?.filter(|&p| p != DType::F32),
    };
    op(move |mut ins| {
        let x = ins.take(0)?;
        let scale = ins.take(1)?;
        let zp = ins.opt(2);
        let dtype = zp.as_ref().map_or(default_dtype, Value::dtype);
        if out_dtype.is_some_and(|d| d != dtype) {
            return Err(format!(
                "output_dtype {default_dtype} differs from the zero point's type {dtype}"
            ));
        }
        if dtype.is_narrow() || attrs.precision.is_some() {
            return Ok(vec![narrow::quantize(
                &x,
                &scale,
                zp.as_ref(),
                dtype,
                attrs,
            )?]);
        }
        let (lo, hi) = code_range(dtype)?;
        let scales = floats(&scale, "y_scale")?;
        check_scales(&scales, "y_scale")?;
        let zps = match &zp {
            Some(z) => ints(z)?,
            None => vec![0; scales.len()],
        };
        if zps.len() != scales.len() {
            return Err("`y_scale` and `y_zero_point` differ in size".into());
        }
        let shape = x.shape();
        let r = runs(&shape, &scale.shape(), axis, block)?;
        let xs = floats(&x, "x")?;
        Ok(vec![match dtype {
            DType::U8 => int_value(quantize(&xs, &r, &scales, &zps, lo, hi, |v| v as u8), shape),
            DType::I8 => int_value(quantize(&xs, &r, &scales, &zps, lo, hi, |v| v as i8), shape),
            DType::U16 => int_value(
                quantize(&xs, &r, &scales, &zps, lo, hi, |v| v as u16),
                shape,
            ),
            _ => int_value(
                quantize(&xs, &r, &scales, &zps, lo, hi, |v| v as i16),
                shape,
            ),
        }])
    })
}

/// `DequantizeLinear(x, x_scale, x_zero_point?)`: f32 output (cast to `output_dtype`, else to
/// the scale's float type when that is f16/bf16).
pub fn dequantize_linear(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let axis = ctx.int("axis", 1)?;
    let block = ctx.int("block_size", 0)?;
    let out_dtype = dtype_attr(ctx, "output_dtype")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let scale = ins.take(1)?;
        let zp = ins.opt(2);
        let target = out_dtype.unwrap_or(scale.dtype());
        if let Value::Host(t) = &x {
            return Ok(vec![narrow::dequantize(
                t,
                &scale,
                zp.as_ref(),
                axis,
                block,
                target,
            )?]);
        }
        let scales = floats(&scale, "x_scale")?;
        let zps = match &zp {
            Some(z) => ints(z)?,
            None => vec![0; scales.len()],
        };
        if zps.len() != scales.len() {
            return Err("`x_scale` and `x_zero_point` differ in size".into());
        }
        let shape = x.shape();
        let r = runs(&shape, &scale.shape(), axis, block)?;
        let per_tensor = match r.runs.as_slice() {
            [(range, p0, 0)] if range.start == 0 => Some((scales[*p0], zps[*p0])),
            _ => None,
        };
        let data = match (per_tensor, codes(&x, "x")) {
            (Some((s, z)), Ok(Codes::U8(c))) => dequantize_codes(&c, s, z),
            (Some((s, z)), Ok(Codes::I8(c))) => dequantize_codes(&c, s, z),
            _ => dequantize(&ints(&x)?, &r, &scales, &zps),
        };
        let y = f32_value(data, shape);
        Ok(vec![if target == DType::F32 {
            y
        } else {
            crate::ops::generate::cast_value(y, target)?
        }])
    })
}

/// Dynamic u8 quantization parameters as ORT computes them (`GetQuantizationParameter`): the
/// range `[min(x, 0), max(x, 0)]` over 255 steps (scale 1 for an all-zero input) and the
/// zero point `round_half_even(clamp(-min / scale, 0, 255))`.
pub(crate) fn dynamic_params(x: &[f32]) -> (f32, u8) {
    let (lo, hi) = x
        .iter()
        .fold((0.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    let zp = (0.0 - lo / scale).clamp(0.0, 255.0).round_ties_even() as u8;
    (scale, zp)
}

/// u8 codes of `x` for a scale and zero point (ONNX QuantizeLinear).
pub(crate) fn quantize_u8(x: &[f32], scale: f32, zp: u8) -> Vec<u8> {
    let r = Runs {
        runs: vec![(0..x.len(), 0, 0)],
    };
    quantize(x, &r, &[scale], &[i32::from(zp)], 0, 255, |v| v as u8)
}

/// `DynamicQuantizeLinear(x) -> (y, y_scale, y_zero_point)`.
pub fn dynamic_quantize_linear(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let x = ins.take(0)?;
        let xs = floats(&x, "x")?;
        let (scale, zp) = dynamic_params(&xs);
        let y = quantize_u8(&xs, scale, zp);
        Ok(vec![
            int_value(y, x.shape()),
            f32_value(vec![scale], vec![]),
            int_value(vec![zp], vec![]),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per element, as the ONNX reference computes it: round half to even of `x / s`, plus the
    /// zero point, clamped to the codes.
    fn reference(x: f32, s: f32, z: i32) -> u8 {
        ((x / s).round_ties_even() as i32 + z).clamp(0, 255) as u8
    }

    #[test]
    fn long_runs_split_across_threads_give_the_same_codes() {
        let n = 3 * PARALLEL_ELEMENTS + 77;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 40.0).collect();
        let (s, z) = (0.25, 128);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let got = pool.install(|| quantize_u8(&x, s, z as u8));
        let want: Vec<u8> = x.iter().map(|&v| reference(v, s, z)).collect();
        assert_eq!(got, want);
        let back = dequantize_codes(&got, s, z);
        let again: Vec<f32> = got.iter().map(|&c| (i32::from(c) - z) as f32 * s).collect();
        assert_eq!(back, again);
    }
}
