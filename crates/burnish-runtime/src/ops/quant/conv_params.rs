//! The quantization parameters of `QLinearConv`/`QConv` (scales, zero points, bias, the
//! residual's scale and zero point) and the requantizing epilogue they define: read per call, or
//! once at build when they are all constants.

use super::epilogue::{Activation, Bias, Epilogue, quant_epilogue};
use super::host::{check_scales, const_params, floats, ints, per_channel, scalar};
use super::matmul::bias_of;
use crate::ops::BuildCtx;
use crate::value::Value;

/// The quantization parameters of a `QLinearConv`/`QConv` call (everything but `x`, `w`, `z`).
pub(super) struct QParams {
    x_scale: f32,
    pub(super) x_zp: i32,
    w_scale: Value,
    y_scale: f32,
    y_zp: Value,
    bias: Option<Value>,
    /// The residual's scale and zero point.
    pub(super) residual: Option<(f32, i32)>,
}

/// Positions of the parameters in [`QParams`]; `x` is 0, `w` 3 and `z` 9.
pub(super) const PARAMS: [usize; 8] = [1, 2, 4, 6, 7, 8, 10, 11];

impl QParams {
    /// Reads the parameters with `get` (by input position), `z`'s only when `z` is given.
    pub(super) fn read(
        mut get: impl FnMut(usize) -> Option<Value>,
        with_z: bool,
    ) -> Result<QParams, String> {
        let required =
            |v: Option<Value>, i: usize| v.ok_or(format!("required input #{i} is missing"));
        let residual = if with_z {
            let scale = get(10).ok_or("`z` needs `z_scale` (input 10)")?;
            Some((
                scale_of(&scale, "z_scale")?,
                zero_point(get(11), "z_zero_point")?,
            ))
        } else {
            None
        };
        Ok(QParams {
            x_scale: scale_of(&required(get(1), 1)?, "x_scale")?,
            x_zp: zero_point(get(2), "x_zero_point")?,
            w_scale: required(get(4), 4)?,
            y_scale: scale_of(&required(get(6), 6)?, "y_scale")?,
            y_zp: required(get(7), 7)?,
            bias: get(8),
            residual,
        })
    }

    /// The requantizing epilogue for `oc` output channels.
    pub(super) fn epilogue(&self, oc: usize, act: Activation) -> Result<Epilogue, String> {
        let w_scales = per_channel(&floats(&self.w_scale, "w_scale")?, oc, "w_scale")?;
        check_scales(&w_scales, "w_scale")?;
        let zp = scalar(&ints(&self.y_zp)?, "y_zero_point")?;
        let mut bias = bias_of(self.bias.clone(), oc)?;
        if self.residual.is_some() {
            // The residual is added in real units: an i32 bias (or none) becomes a float one.
            bias = Some(Bias::Float(match bias {
                Some(Bias::Float(b)) => b,
                Some(Bias::Int(b)) => b
                    .iter()
                    .zip(&w_scales)
                    .map(|(&b, &s)| b as f32 * (self.x_scale * s))
                    .collect(),
                None => vec![0.0; oc],
            }));
        }
        let dtype = self.y_zp.dtype();
        quant_epilogue(self.x_scale, &w_scales, self.y_scale, dtype, zp, bias, act)
    }
}

/// The parameters and epilogue of a node whose weights and parameters are all constants,
/// computed once at build; `None` when any of them is given at run time.
/// `oc` is the output channel count of the packed weights (`None`: weights given at run time).
pub(super) fn fixed(
    ctx: &BuildCtx,
    oc: Option<usize>,
    extras: bool,
    act: Activation,
) -> Result<Option<(QParams, Epilogue)>, String> {
    let Some(oc) = oc else {
        return Ok(None);
    };
    let with_z = extras && ctx.node.input(9).is_some_and(|s| !s.is_empty());
    let Some(values) = const_params(ctx, &PARAMS)? else {
        return Ok(None);
    };
    let params = QParams::read(|i| values.get(i).cloned().flatten(), with_z)?;
    let epi = params.epilogue(oc, act)?;
    Ok(Some((params, epi)))
}

pub(super) fn zero_point(v: Option<Value>, what: &str) -> Result<i32, String> {
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
