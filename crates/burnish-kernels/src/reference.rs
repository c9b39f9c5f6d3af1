//! Slow, obviously correct integer references for tests of the kernels and their callers.

use crate::pack::Activation;

/// `out[i, j] = sum_k (a[i, k] - zp) * b[k, j]` with plain loops (`a` row-major `m` x `k`,
/// `b` row-major `k` x `n`). Values are compared on the offset-binary scale, so `i8` inputs
/// give the same result as in signed arithmetic.
pub fn gemm_i32<A: Activation>(a: &[A], zp: A, b: &[i8], m: usize, k: usize, n: usize) -> Vec<i32> {
    let zp = i32::from(zp.to_offset_u8());
    let mut out = vec![0i32; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k)
                .map(|p| (i32::from(a[i * k + p].to_offset_u8()) - zp) * i32::from(b[p * n + j]))
                .sum();
        }
    }
    out
}

/// Direct NCHW convolution in i32: `out[b, o, y, x] = sum (x - zp) * w` over the receptive
/// field, skipping padding. `w` is `[oc, c / groups, kh, kw]`; returns the output and its shape.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_i32<A: Activation>(
    x: &[A],
    xshape: [usize; 4],
    zp: A,
    w: &[i8],
    wshape: [usize; 4],
    groups: usize,
    stride: [usize; 2],
    pads: [usize; 4],
    dilation: [usize; 2],
) -> (Vec<i32>, [usize; 4]) {
    let codes: Vec<i32> = x.iter().map(|v| i32::from(v.to_offset_u8())).collect();
    let weights: Vec<i32> = w.iter().map(|&v| i32::from(v)).collect();
    let params = crate::Conv2dParams {
        stride,
        pads,
        dilation,
    };
    let (out, shape) = conv2d_i64(
        &codes,
        xshape,
        i32::from(zp.to_offset_u8()),
        &weights,
        wshape,
        &vec![0; wshape[0]],
        groups,
        params,
    );
    (out.into_iter().map(|v| v as i32).collect(), shape)
}

/// Direct NCHW convolution in i64 on integer codes with zero points:
/// `out[b, o, y, x] = sum (x - x_zp) * (w - w_zp[o])` over the receptive field, skipping
/// padding. `w` is `[oc, c / groups, kh, kw]`, `w_zp` one per output channel; returns the output
/// and its shape.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_i64(
    x: &[i32],
    [n, c, h, wd]: [usize; 4],
    x_zp: i32,
    w: &[i32],
    [oc, icg, kh, kw]: [usize; 4],
    w_zp: &[i32],
    groups: usize,
    params: crate::Conv2dParams,
) -> (Vec<i64>, [usize; 4]) {
    let crate::Conv2dParams {
        stride,
        pads,
        dilation,
    } = params;
    let oh = (h + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) / stride[0] + 1;
    let ow = (wd + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) / stride[1] + 1;
    let ocg = oc / groups;
    let mut out = vec![0i64; n * oc * oh * ow];
    for b in 0..n {
        for o in 0..oc {
            let g = o / ocg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0i64;
                    for ci in 0..icg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy =
                                    (oy * stride[0] + ky * dilation[0]) as isize - pads[0] as isize;
                                let ix =
                                    (ox * stride[1] + kx * dilation[1]) as isize - pads[1] as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xi =
                                    ((b * c + g * icg + ci) * h + iy as usize) * wd + ix as usize;
                                let wi = ((o * icg + ci) * kh + ky) * kw + kx;
                                sum += i64::from(x[xi] - x_zp) * i64::from(w[wi] - w_zp[o]);
                            }
                        }
                    }
                    out[((b * oc + o) * oh + oy) * ow + ox] = sum;
                }
            }
        }
    }
    (out, [n, oc, oh, ow])
}
