//! Quantized 2-D (and 1-D) convolutions on the direct int8 kernel (`burnish_kernels::
//! conv2d_direct`: no im2col, requantization, residual and activation in the epilogue):
//! `ConvInteger`, `QLinearConv` and the `burnish` `QConv`. Constant weights with constant zero
//! points are packed once at build; weights given at run time are packed per call.

use std::borrow::Cow;

use burnish_kernels::{
    Activation as Act, Conv2dParams, DirectConv, DirectOutput, OutputScale, QuantizedInput,
    Requantize, Residual, Weights, conv2d_direct,
};

use super::conv_params::{PARAMS, QParams, fixed, zero_point};
use super::epilogue::{Activation, Epilogue, OutBuf};
use super::host::{Codes, codes, const_weights, ints};
use crate::ops::conv::Window;
use crate::ops::{BuildCtx, Inputs, Op, captured, op};
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
    packed: Option<(DirectConv, bool)>,
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
    /// channel count), adding the quantized `residual` (of the output's shape) if given.
    fn run<'e>(
        &self,
        ins: &mut Inputs,
        x: &Value,
        xzp: i32,
        make_epi: impl FnOnce(usize) -> Result<Cow<'e, Epilogue>, String>,
        residual: Option<&ResidualIn>,
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
        let out_shape = packed
            .output_shape(shape, &params)
            .map_err(|e| e.to_string())?;
        let mut dims = out_shape.to_vec();
        if one_d {
            dims.remove(2);
        }
        if let Some(r) = residual
            && r.value.shape() != dims
        {
            return Err(format!(
                "residual `z` has shape {:?}, the output {dims:?}",
                r.value.shape()
            ));
        }
        let epi = make_epi(oc)?;
        let len = burnish_model::limits::check_tensor(&out_shape, 4)
            .map_err(|e| format!("output {out_shape:?}: {e}"))?
            / 4;
        let run = Run {
            w: packed,
            params: &params,
            epi: &epi,
            len,
            shape,
        };
        let out = match codes(x, "x")? {
            Codes::U8(v) => {
                let zp =
                    u8::try_from(xzp).map_err(|_| format!("x_zero_point {xzp} is not a u8"))?;
                run.with_residual(&v, zp, residual)?
            }
            Codes::I8(v) => {
                let zp =
                    i8::try_from(xzp).map_err(|_| format!("x_zero_point {xzp} is not an i8"))?;
                run.with_residual(&v, zp, residual)?
            }
        };
        Ok(out.into_value(dims))
    }
}

/// Packs `[M, C/group, kH, kW]` (or `[M, C/group, kW]`, flagged 1-D) weights.
fn pack(
    w: Weights<'_>,
    shape: &[usize],
    zps: &[i32],
    group: usize,
) -> Result<(DirectConv, bool), String> {
    let (dims, one_d) = match *shape {
        [m, c, kh, kw] => ([m, c, kh, kw], false),
        [m, c, kw] => ([m, c, 1, kw], true),
        _ => {
            return Err(format!(
                "quantized Conv weights of shape {shape:?} are not 1-D or 2-D"
            ));
        }
    };
    let packed =
        DirectConv::new(w, zps, dims, group).map_err(|e| format!("packing weights: {e}"))?;
    Ok((packed, one_d))
}

/// The quantized residual `z` of `QConv` (inputs 9-11).
struct ResidualIn {
    value: Value,
    scale: f32,
    zero_point: i32,
}

/// One call's convolution, before the activation and residual types are known.
struct Run<'a> {
    w: &'a DirectConv,
    params: &'a Conv2dParams,
    epi: &'a Epilogue,
    len: usize,
    shape: [usize; 4],
}

impl Run<'_> {
    fn with_residual<A: Act>(
        &self,
        x: &[A],
        zp: A,
        residual: Option<&ResidualIn>,
    ) -> Result<OutBuf, String> {
        let input = QuantizedInput {
            data: x,
            shape: self.shape,
            zero_point: zp,
            scale: 1.0,
        };
        let Some(r) = residual else {
            return self.conv::<A, u8>(input, None);
        };
        match codes(&r.value, "z")? {
            Codes::U8(z) => {
                let zzp = u8::try_from(r.zero_point)
                    .map_err(|_| format!("z_zero_point {} is not a u8", r.zero_point))?;
                self.conv(input, Some((&z[..], zzp, r.scale)))
            }
            Codes::I8(z) => {
                let zzp = i8::try_from(r.zero_point)
                    .map_err(|_| format!("z_zero_point {} is not an i8", r.zero_point))?;
                self.conv(input, Some((&z[..], zzp, r.scale)))
            }
        }
    }

    fn conv<A: Act, Z: Act>(
        &self,
        input: QuantizedInput<'_, A>,
        residual: Option<(&[Z], Z, f32)>,
    ) -> Result<OutBuf, String> {
        let residual = residual.map(|(codes, zero_point, scale)| Residual {
            codes,
            zero_point,
            scale,
        });
        let direct = |out: DirectOutput<'_, Z>| {
            conv2d_direct(input, self.w, self.params, out)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let requant = |scale, zero_point, min, max| Requantize {
            scale,
            zero_point,
            min,
            max,
            residual,
        };
        let quant = |dtype: &burnish_model::DType, rq: Requantize<'_, Z>| {
            Ok(if *dtype == burnish_model::DType::I8 {
                let mut o = vec![0i8; self.len];
                direct(DirectOutput::I8(&mut o, rq))?;
                OutBuf::I8(o)
            } else {
                let mut o = vec![0u8; self.len];
                direct(DirectOutput::U8(&mut o, rq))?;
                OutBuf::U8(o)
            })
        };
        match self.epi {
            Epilogue::I32 => {
                let mut o = vec![0i32; self.len];
                direct(DirectOutput::I32(&mut o))?;
                Ok(OutBuf::I32(o))
            }
            Epilogue::Quant {
                dtype,
                multiplier,
                bias,
                zp,
                min,
                max,
            } => {
                let scale = OutputScale::Int {
                    multiplier,
                    bias: bias.as_deref(),
                };
                quant(dtype, requant(scale, *zp, *min, *max))
            }
            Epilogue::QuantFloatBias {
                scales,
                bias,
                dtype,
                y_scale,
                zp,
                min,
                max,
            } => {
                let scale = OutputScale::Float {
                    scale: scales,
                    bias: Some(bias),
                    y_scale: *y_scale,
                };
                quant(dtype, requant(scale, *zp, *min, *max))
            }
            Epilogue::F32 { .. } => Err("quantized Conv has no f32 output".into()),
        }
    }
}

/// `ConvInteger(x, w, x_zero_point?, w_zero_point?)` -> i32.
pub fn conv_integer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let core = ConvCore::build(ctx, WSpec { w: 1, zp: Some(3) })?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let xzp = zero_point(ins.opt(2), "x_zero_point")?;
        Ok(vec![core.run(
            &mut ins,
            &x,
            xzp,
            |_| Ok(Cow::Owned(Epilogue::I32)),
            None,
        )?])
    })
}

fn qlinear_conv_op(ctx: &BuildCtx, extras: bool) -> Result<Box<dyn Op>, String> {
    let core = ConvCore::build(ctx, WSpec { w: 3, zp: Some(5) })?;
    let act = if extras {
        Activation::parse(ctx)?
    } else {
        Activation::None
    };
    let oc = core.packed.as_ref().map(|(p, _)| p.shape()[0]);
    if let Some((params, epi)) = fixed(ctx, oc, extras, act)? {
        let run = op(move |mut ins| {
            let x = ins.take(0)?;
            let residual = match params.residual {
                Some((scale, zero_point)) => Some(ResidualIn {
                    value: ins.take(9)?,
                    scale,
                    zero_point,
                }),
                None => None,
            };
            let out = core.run(
                &mut ins,
                &x,
                params.x_zp,
                |_| Ok(Cow::Borrowed(&epi)),
                residual.as_ref(),
            )?;
            Ok(vec![out])
        })?;
        let mut positions = PARAMS.to_vec();
        positions.push(3);
        positions.push(5);
        return Ok(captured(run, positions));
    }
    op(move |mut ins| {
        let x = ins.take(0)?;
        let with_z = extras && ins.len() > 9;
        let z = if with_z { ins.opt(9) } else { None };
        let params = QParams::read(|i| ins.opt(i), z.is_some())?;
        let residual = match (z, params.residual) {
            (Some(value), Some((scale, zero_point))) => Some(ResidualIn {
                value,
                scale,
                zero_point,
            }),
            _ => None,
        };
        let make = |oc: usize| params.epilogue(oc, act).map(Cow::Owned);
        Ok(vec![core.run(
            &mut ins,
            &x,
            params.x_zp,
            make,
            residual.as_ref(),
        )?])
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
