//! Quantized 2-D (and 1-D) convolutions on the int8 im2col GEMM: `ConvInteger`,
//! `QLinearConv` and the `burnish` `QConv`. Constant weights with constant zero points are
//! packed once at build; weights given at run time are packed per call.

use burnish_kernels::{
    Activation as Act, Conv2dParams, Kernel, PackedConv, QuantizedInput, Weights, conv2d_int8_i32,
    conv2d_qlinear, conv2d_scaled,
};

use super::epilogue::{Activation, Epilogue, OutBuf, quant_epilogue};
use super::host::{Codes, check_scales, codes, const_weights, floats, ints, per_channel, scalar};
use super::matmul::bias_of;
use crate::ops::conv::Window;
use crate::ops::{BuildCtx, Inputs, Op, op};
use crate::value::Value;

/// Input positions of the weight and its zero point.
#[derive(Clone, Copy)]
struct WSpec {
    w: usize,
    zp: Option<usize>,
}

/// Geometry and packed weights of one convolution node.
struct ConvCore {
    win: Window,
    group: usize,
    packed: Option<(PackedConv, bool)>,
    spec: WSpec,
}

impl ConvCore {
    fn build(ctx: &BuildCtx, spec: WSpec) -> Result<Self, String> {
        let win = Window::parse(ctx)?;
        let group = ctx.int("group", 1)?.max(1) as usize;
        let mut core = ConvCore {
            win,
            group,
            packed: None,
            spec,
        };
        let w = ctx.consts.get(spec.w).cloned().flatten();
        let zp_given = spec
            .zp
            .filter(|&i| ctx.node.input(i).is_some_and(|s| !s.is_empty()));
        let zps = match zp_given {
            None => Some(vec![0]),
            Some(i) => ctx.consts.get(i).cloned().flatten().map(|z| {
                z.to_i64_vec()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| v as i32)
                    .collect::<Vec<_>>()
            }),
        };
        if let (Some(w), Some(zps)) = (w, zps) {
            let weights = const_weights(&w)
                .ok_or_else(|| format!("weights must be uint8 or int8, found {}", w.dtype()))?;
            core.packed = Some(pack(weights, &w.shape, &zps, group)?);
        }
        Ok(core)
    }

    /// Runs the convolution of `x` through `epi` (built by `make_epi` from the output
    /// channel count).
    fn run(
        &self,
        ins: &mut Inputs,
        x: &Value,
        xzp: i32,
        make_epi: impl FnOnce(usize) -> Result<Epilogue, String>,
    ) -> Result<Value, String> {
        let runtime;
        let (packed, one_d) = match &self.packed {
            Some((p, one_d)) => {
                let _ = ins.opt(self.spec.w);
                (p, *one_d)
            }
            None => {
                let w = ins.take(self.spec.w)?;
                let zps = match self.spec.zp.and_then(|i| ins.opt(i)) {
                    Some(z) => ints(&z)?,
                    None => vec![0],
                };
                let shape = w.shape();
                runtime = match codes(&w, "w")? {
                    Codes::U8(v) => pack(Weights::U8(&v), &shape, &zps, self.group)?,
                    Codes::I8(v) => pack(Weights::I8(&v), &shape, &zps, self.group)?,
                };
                (&runtime.0, runtime.1)
            }
        };
        let mut sx = x.shape();
        if one_d && sx.len() == 3 {
            sx.insert(2, 1);
        }
        if sx.len() != 4 {
            return Err(format!(
                "quantized Conv supports 1-D and 2-D inputs, found {:?}",
                x.shape()
            ));
        }
        let [oc, _, kh, kw] = packed.shape();
        let (spatial, kernel) = if one_d {
            (vec![sx[3]], vec![kw])
        } else {
            (vec![sx[2], sx[3]], vec![kh, kw])
        };
        let pads = self.win.padding(&spatial, &kernel)?;
        let (st, dl) = (
            self.win.strides(spatial.len())?,
            self.win.dilations(spatial.len())?,
        );
        let params = if one_d {
            Conv2dParams {
                stride: [1, st[0]],
                pads: [0, pads[0].0, 0, pads[0].1],
                dilation: [1, dl[0]],
            }
        } else {
            Conv2dParams {
                stride: [st[0], st[1]],
                pads: [pads[0].0, pads[1].0, pads[0].1, pads[1].1],
                dilation: [dl[0], dl[1]],
            }
        };
        let shape = [sx[0], sx[1], sx[2], sx[3]];
        let out_shape = params
            .output_shape(shape, packed)
            .map_err(|e| e.to_string())?;
        let epi = make_epi(oc)?;
        let len = out_shape.iter().product();
        let out = match codes(x, "x")? {
            Codes::U8(v) => {
                let zp =
                    u8::try_from(xzp).map_err(|_| format!("x_zero_point {xzp} is not a u8"))?;
                conv_typed(&v, zp, shape, packed, &params, &epi, len)?
            }
            Codes::I8(v) => {
                let zp =
                    i8::try_from(xzp).map_err(|_| format!("x_zero_point {xzp} is not an i8"))?;
                conv_typed(&v, zp, shape, packed, &params, &epi, len)?
            }
        };
        let mut dims = out_shape.to_vec();
        if one_d {
            dims.remove(2);
        }
        Ok(out.into_value(dims))
    }
}

/// Packs `[M, C/group, kH, kW]` (or `[M, C/group, kW]`, flagged 1-D) weights.
fn pack(
    w: Weights<'_>,
    shape: &[usize],
    zps: &[i32],
    group: usize,
) -> Result<(PackedConv, bool), String> {
    let (dims, one_d) = match *shape {
        [m, c, kh, kw] => ([m, c, kh, kw], false),
        [m, c, kw] => ([m, c, 1, kw], true),
        _ => {
            return Err(format!(
                "quantized Conv weights of shape {shape:?} are not 1-D or 2-D"
            ));
        }
    };
    let packed = PackedConv::quantized(Kernel::best(), w, zps, dims, group)
        .map_err(|e| format!("packing weights: {e}"))?;
    Ok((packed, one_d))
}

fn conv_typed<A: Act>(
    x: &[A],
    zp: A,
    shape: [usize; 4],
    w: &PackedConv,
    params: &Conv2dParams,
    epi: &Epilogue,
    len: usize,
) -> Result<OutBuf, String> {
    let input = QuantizedInput {
        data: x,
        shape,
        zero_point: zp,
        scale: 1.0,
    };
    epi.produce(len, |buf| {
        match buf {
            OutBuf::I32(o) => conv2d_int8_i32(input, w, params, o),
            OutBuf::F32(o) => {
                let (scales, bias) = epi.scaled().ok_or("no f32 epilogue")?;
                conv2d_scaled(input, w, params, scales, bias, o)
            }
            OutBuf::U8(o) => {
                conv2d_qlinear(input, w, params, &epi.requant().ok_or("no requant")?, o)
            }
            OutBuf::I8(o) => {
                conv2d_qlinear(input, w, params, &epi.requant().ok_or("no requant")?, o)
            }
        }
        .map(|_| ())
        .map_err(|e| e.to_string())
    })
}

fn zero_point(v: Option<Value>, what: &str) -> Result<i32, String> {
    match v {
        None => Ok(0),
        Some(v) => scalar(&ints(&v)?, what),
    }
}

fn scale_of(v: &Value, what: &str) -> Result<f32, String> {
    let s = scalar(&floats(v, what)?, what)?;
    check_scales(&[s], what)?;
    Ok(s)
}

/// `ConvInteger(x, w, x_zero_point?, w_zero_point?)` -> i32.
pub fn conv_integer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let core = ConvCore::build(ctx, WSpec { w: 1, zp: Some(3) })?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let xzp = zero_point(ins.opt(2), "x_zero_point")?;
        Ok(vec![core.run(&mut ins, &x, xzp, |_| Ok(Epilogue::I32))?])
    })
}

fn qlinear_conv_op(ctx: &BuildCtx, extras: bool) -> Result<Box<dyn Op>, String> {
    let core = ConvCore::build(ctx, WSpec { w: 3, zp: Some(5) })?;
    let act = if extras {
        Activation::parse(ctx)?
    } else {
        Activation::None
    };
    op(move |mut ins| {
        let x = ins.take(0)?;
        let x_scale = scale_of(&ins.take(1)?, "x_scale")?;
        let xzp = zero_point(ins.opt(2), "x_zero_point")?;
        let w_scale = ins.take(4)?;
        let y_scale = scale_of(&ins.take(6)?, "y_scale")?;
        let y_zp = ins.take(7)?;
        let bias = ins.opt(8);
        let make = |oc: usize| {
            let w_scales = per_channel(&floats(&w_scale, "w_scale")?, oc, "w_scale")?;
            check_scales(&w_scales, "w_scale")?;
            let zp = scalar(&ints(&y_zp)?, "y_zero_point")?;
            quant_epilogue(
                x_scale,
                &w_scales,
                y_scale,
                y_zp.dtype(),
                zp,
                bias_of(bias, oc)?,
                act,
            )
        };
        Ok(vec![core.run(&mut ins, &x, xzp, make)?])
    })
}

/// `QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?)`.
pub fn qlinear_conv(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    qlinear_conv_op(ctx, false)
}

/// `burnish::QConv`: `QLinearConv` with an i32 or f32 bias and a fused `activation` (see the
/// module doc of `quant`).
pub fn qconv(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    qlinear_conv_op(ctx, true)
}
