//! `MaxPool` on u8/i8 codes (1-D and 2-D, NCHW), so a quantized model pools its activations
//! without dequantizing them: the maximum commutes with dequantization (a positive scale), so
//! `Q(MaxPool(DQ(q)))` with the same scale and zero point is exactly `MaxPool(q)`.
//! Padding never wins (it is excluded, like the float op's -inf padding). The kernel is
//! `burnish_kernels::pool_u8`.

use burnish_kernels::f32::pool::PoolAxis;
use burnish_kernels::pool_u8::max_pool2d_u8;

use super::quant::host::{Codes, codes, int_value};
use crate::value::Value;

/// Geometry of one pooled spatial axis.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding before and after.
    pub pads: (usize, usize),
}

impl Axis {
    /// Output length for an input of `len` (`ceil`: ONNX `ceil_mode`, where a last window
    /// starting in the end padding is dropped).
    pub fn output(&self, len: usize, ceil: bool) -> Result<usize, String> {
        let span = self
            .kernel
            .checked_sub(1)
            .and_then(|k| k.checked_mul(self.dilation))
            .and_then(|k| k.checked_add(1))
            .ok_or("pool kernel and dilation are too large")?;
        let padded = len
            .checked_add(self.pads.0)
            .and_then(|v| v.checked_add(self.pads.1))
            .ok_or("pool pads are too large")?;
        if padded < span || self.stride == 0 {
            return Err(format!(
                "pool window {span} does not fit input {len} with pads {:?}",
                self.pads
            ));
        }
        let steps = padded - span;
        let mut out = if ceil {
            steps.div_ceil(self.stride) + 1
        } else {
            steps / self.stride + 1
        };
        if ceil && (out - 1) * self.stride >= len + self.pads.0 {
            out -= 1;
        }
        Ok(out)
    }
}

/// Max-pools the codes of `x` (`[N, C, W]` or `[N, C, H, W]`, u8 or i8).
pub fn max_pool_codes(x: &Value, axes: &[Axis], ceil: bool) -> Result<Value, String> {
    let shape = x.shape();
    if shape.len() != axes.len() + 2 || !(1..=2).contains(&axes.len()) {
        return Err(format!(
            "integer MaxPool of shape {shape:?} (1-D or 2-D NCHW only)"
        ));
    }
    let (h_axis, w_axis) = if axes.len() == 1 {
        (
            Axis {
                kernel: 1,
                stride: 1,
                dilation: 1,
                pads: (0, 0),
            },
            axes[0],
        )
    } else {
        (axes[0], axes[1])
    };
    let (h, w) = if axes.len() == 1 {
        (1, shape[2])
    } else {
        (shape[2], shape[3])
    };
    let (oh, ow) = (h_axis.output(h, ceil)?, w_axis.output(w, ceil)?);
    let planes = shape[0] * shape[1];
    let mut out_shape = shape[..2].to_vec();
    if axes.len() == 2 {
        out_shape.push(oh);
    }
    out_shape.push(ow);
    let pool_axis = |a: Axis, input: usize, output: usize| PoolAxis {
        input,
        output,
        kernel: a.kernel,
        stride: a.stride,
        dilation: a.dilation,
        pad: a.pads.0,
        pad_end: a.pads.1,
    };
    let (rows, cols) = (pool_axis(h_axis, h, oh), pool_axis(w_axis, w, ow));
    let mut out = vec![0u8; planes * oh * ow];
    let pooled = |src: &[u8], signed: bool, out: &mut [u8]| {
        max_pool2d_u8(src, planes, rows, cols, signed, out)
            .ok_or_else(|| format!("integer MaxPool window does not fit input {shape:?}"))
    };
    Ok(match codes(x, "MaxPool input")? {
        Codes::U8(v) => {
            pooled(&v, false, &mut out)?;
            int_value(out, out_shape)
        }
        c @ Codes::I8(_) => {
            pooled(c.bytes(), true, &mut out)?;
            int_value(out.into_iter().map(|b| b as i8).collect(), out_shape)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::quant::host::{i8s, u8s};

    fn axis(kernel: usize, stride: usize, pads: (usize, usize)) -> Axis {
        Axis {
            kernel,
            stride,
            dilation: 1,
            pads,
        }
    }

    /// A direct maximum over an explicitly padded copy (pad = the smallest code).
    fn reference(x: &[i32], h: usize, w: usize, a: [Axis; 2], oh: usize, ow: usize) -> Vec<i32> {
        let mut out = Vec::new();
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = i32::MIN;
                for ky in 0..a[0].kernel {
                    for kx in 0..a[1].kernel {
                        let y = (oy * a[0].stride + ky) as i64 - a[0].pads.0 as i64;
                        let xx = (ox * a[1].stride + kx) as i64 - a[1].pads.0 as i64;
                        if (0..h as i64).contains(&y) && (0..w as i64).contains(&xx) {
                            best = best.max(x[y as usize * w + xx as usize]);
                        }
                    }
                }
                out.push(best);
            }
        }
        out
    }

    #[test]
    fn u8_and_i8_pools_match_a_direct_maximum() {
        let (h, w) = (7, 6);
        let raw: Vec<u8> = (0..h * w).map(|i| ((i * 37 + 11) % 256) as u8).collect();
        let geoms = [
            [axis(3, 2, (1, 1)), axis(3, 2, (1, 1))],
            [axis(2, 2, (0, 0)), axis(2, 2, (0, 1))],
            [axis(3, 1, (0, 2)), axis(2, 3, (1, 0))],
        ];
        for a in geoms {
            for ceil in [false, true] {
                let (oh, ow) = (a[0].output(h, ceil).unwrap(), a[1].output(w, ceil).unwrap());
                let x = int_value(raw.clone(), vec![1, 1, h, w]);
                let got = max_pool_codes(&x, &a, ceil).unwrap();
                let want = reference(
                    &raw.iter().map(|&v| v as i32).collect::<Vec<_>>(),
                    h,
                    w,
                    a,
                    oh,
                    ow,
                );
                let got: Vec<i32> = u8s(got.prim().expect("a backend tensor"))
                    .iter()
                    .map(|&v| v as i32)
                    .collect();
                assert_eq!(got, want, "{a:?} ceil {ceil}");
                let signed: Vec<i8> = raw.iter().map(|&v| v as i8).collect();
                let xs = int_value(signed.clone(), vec![1, 1, h, w]);
                let got = max_pool_codes(&xs, &a, ceil).unwrap();
                let want = reference(
                    &signed.iter().map(|&v| v as i32).collect::<Vec<_>>(),
                    h,
                    w,
                    a,
                    oh,
                    ow,
                );
                let got: Vec<i32> = i8s(got.prim().expect("a backend tensor"))
                    .iter()
                    .map(|&v| v as i32)
                    .collect();
                assert_eq!(got, want, "i8 {a:?} ceil {ceil}");
            }
        }
    }
}
