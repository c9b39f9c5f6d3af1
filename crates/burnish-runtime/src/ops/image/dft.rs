//! `DFT` (opset 17 with `axis` as an attribute, opset 20 with `axis` as an input) and `STFT`.
//!
//! Signals are complex numbers stored in a last dimension of 2 (real inputs: 1). Transforms run
//! on the host in f64: an iterative radix-2 FFT for powers of two, a direct sum for short
//! lengths and Bluestein's chirp-z transform (through the radix-2 FFT) for the rest.

use super::host::{HostFloat, float_value, host_float, scalar_i64};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

/// A complex number `(re, im)`.
type C = (f64, f64);

fn mul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

/// In-place radix-2 FFT of a power-of-two length; `sign` -1 forward, +1 backward (unscaled).
fn fft_pow2(buf: &mut [C], sign: f64) {
    let n = buf.len();
    if n < 2 {
        return;
    }
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            buf.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = sign * 2.0 * std::f64::consts::PI / len as f64;
        let tw: Vec<C> = (0..len / 2)
            .map(|k| ((ang * k as f64).cos(), (ang * k as f64).sin()))
            .collect();
        for chunk in buf.chunks_exact_mut(len) {
            let (lo, hi) = chunk.split_at_mut(len / 2);
            for ((a, b), &w) in lo.iter_mut().zip(hi.iter_mut()).zip(&tw) {
                let t = mul(*b, w);
                *b = (a.0 - t.0, a.1 - t.1);
                *a = (a.0 + t.0, a.1 + t.1);
            }
        }
        len *= 2;
    }
}

/// The unscaled DFT of `x` (any length); `sign` -1 forward, +1 backward.
fn dft(x: &[C], sign: f64) -> Vec<C> {
    let n = x.len();
    if n.is_power_of_two() {
        let mut v = x.to_vec();
        fft_pow2(&mut v, sign);
        return v;
    }
    let tau = sign * 2.0 * std::f64::consts::PI / n as f64;
    if n <= 64 {
        return (0..n)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |acc, (t, &v)| {
                    let a = tau * ((k * t) % n) as f64;
                    let p = mul(v, (a.cos(), a.sin()));
                    (acc.0 + p.0, acc.1 + p.1)
                })
            })
            .collect();
    }
    // Bluestein: k*t = (k^2 + t^2 - (k-t)^2) / 2, a convolution with a chirp.
    let chirp: Vec<C> = (0..n)
        .map(|k| {
            let a = tau / 2.0 * ((k as u128 * k as u128) % (2 * n as u128)) as f64;
            (a.cos(), a.sin())
        })
        .collect();
    let m = (2 * n - 1).next_power_of_two();
    let mut a = vec![(0.0, 0.0); m];
    for (k, (&v, &c)) in x.iter().zip(&chirp).enumerate() {
        a[k] = mul(v, c);
    }
    let mut b = vec![(0.0, 0.0); m];
    b[0] = (chirp[0].0, -chirp[0].1);
    for k in 1..n {
        let c = (chirp[k].0, -chirp[k].1);
        b[k] = c;
        b[m - k] = c;
    }
    fft_pow2(&mut a, -1.0);
    fft_pow2(&mut b, -1.0);
    for (p, q) in a.iter_mut().zip(&b) {
        *p = mul(*p, *q);
    }
    fft_pow2(&mut a, 1.0);
    (0..n)
        .map(|k| {
            let v = (a[k].0 / m as f64, a[k].1 / m as f64);
            mul(v, chirp[k])
        })
        .collect()
}

/// How one line is transformed.
#[derive(Clone, Copy)]
struct Mode {
    inverse: bool,
    onesided: bool,
}

/// Transforms one signal line to `n` points; the result has `out_len` bins (complex or, for
/// the one-sided inverse, real in `.0`).
fn transform(line: &[C], n: usize, mode: Mode) -> Vec<C> {
    if mode.inverse && mode.onesided {
        let mut full = vec![(0.0, 0.0); n];
        for k in 0..=n / 2 {
            let v = line.get(k).copied().unwrap_or((0.0, 0.0));
            let v = if k == 0 || 2 * k == n { (v.0, 0.0) } else { v };
            full[k] = v;
            if k > 0 && k < n {
                full[n - k] = (v.0, -v.1);
            }
        }
        return dft(&full, 1.0)
            .into_iter()
            .map(|v| (v.0 / n as f64, 0.0))
            .collect();
    }
    let mut input: Vec<C> = line.iter().copied().take(n).collect();
    input.resize(n, (0.0, 0.0));
    let mut out = dft(&input, if mode.inverse { 1.0 } else { -1.0 });
    if mode.inverse {
        out.iter_mut()
            .for_each(|v| *v = (v.0 / n as f64, v.1 / n as f64));
    }
    if mode.onesided {
        out.truncate(n / 2 + 1);
    }
    out
}

/// Runs `transform` over every line of `x` along `axis`; returns the output value.
fn run_dft(
    x: &HostFloat,
    axis: usize,
    n: usize,
    mode: Mode,
) -> Result<crate::value::Value, String> {
    let s = &x.shape;
    let r = s.len();
    let comps = s[r - 1];
    let (outer, len) = (s[..axis].iter().product::<usize>(), s[axis]);
    let inner: usize = s[axis + 1..r - 1].iter().product();
    let real_out = mode.inverse && mode.onesided;
    let out_len = if real_out || !mode.onesided {
        n
    } else {
        n / 2 + 1
    };
    let out_comps = if real_out { 1 } else { 2 };
    let mut shape = s.clone();
    shape[axis] = out_len;
    shape[r - 1] = out_comps;
    let total = check_numel(&shape)?;
    let mut out = vec![0f64; total];
    let mut line = vec![(0.0, 0.0); len];
    for o in 0..outer {
        for i in 0..inner {
            for (t, v) in line.iter_mut().enumerate() {
                let at = ((o * len + t) * inner + i) * comps;
                *v = (x.data[at], if comps == 2 { x.data[at + 1] } else { 0.0 });
            }
            for (k, v) in transform(&line, n, mode).into_iter().enumerate() {
                let at = ((o * out_len + k) * inner + i) * out_comps;
                out[at] = v.0;
                if out_comps == 2 {
                    out[at + 1] = v.1;
                }
            }
        }
    }
    float_value(out, shape, x.dtype)
}

/// `DFT(input, dft_length?, axis?)`; `axis` is an attribute before opset 20.
pub fn dft_op(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let mode = Mode {
        inverse: ctx.int("inverse", 0)? != 0,
        onesided: ctx.int("onesided", 0)? != 0,
    };
    let attr_axis = (ctx.opset < 20).then(|| ctx.int("axis", 1)).transpose()?;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "input")?;
        let r = x.shape.len();
        if r < 2 || !(1..=2).contains(&x.shape[r - 1]) {
            return Err(format!(
                "DFT input shape {:?} must end in a dimension of 1 or 2",
                x.shape
            ));
        }
        let a = match attr_axis {
            Some(a) => a,
            None => match ins.opt(2) {
                Some(v) => scalar_i64(&v, "axis")?,
                None => -2,
            },
        };
        let axis = a.rem_euclid(r as i64) as usize;
        if axis == r - 1 || a < -(r as i64) || a >= r as i64 {
            return Err(format!("DFT axis {a} is out of range for input rank {r}"));
        }
        let n = match ins.opt(1) {
            Some(v) => scalar_i64(&v, "dft_length")?,
            None if mode.inverse && mode.onesided => 2 * (x.shape[axis] as i64 - 1),
            None => x.shape[axis] as i64,
        };
        if n < 1 {
            return Err(format!("dft_length {n} must be positive"));
        }
        check_numel(&[n as usize])?;
        Ok(vec![run_dft(&x, axis, n as usize, mode)?])
    })
}

/// `STFT(signal, frame_step, window?, frame_length?)`: `[batch, frames, bins, 2]`.
pub fn stft(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let onesided = ctx.int("onesided", 1)? != 0;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "signal")?;
        let s = x.shape.clone();
        if s.len() != 3 || !(1..=2).contains(&s[2]) {
            return Err(format!(
                "STFT signal shape {s:?} must be [batch, length, 1 or 2]"
            ));
        }
        let step = scalar_i64(&ins.take(1)?, "frame_step")?;
        let window = ins.opt(2).map(|w| host_float(&w, "window")).transpose()?;
        let fl = match ins.opt(3) {
            Some(v) => scalar_i64(&v, "frame_length")?,
            None => window.as_ref().map_or(s[1], |w| w.data.len()) as i64,
        };
        if step < 1 || fl < 1 || fl as usize > s[1] {
            return Err(format!(
                "STFT frame_step {step} and frame_length {fl} do not fit a signal of {}",
                s[1]
            ));
        }
        let (fl, step) = (fl as usize, step as usize);
        let win = match &window {
            Some(w) if w.shape.len() == 1 => w.data.clone(),
            Some(w) => return Err(format!("STFT window shape {:?} is not 1-D", w.shape)),
            None => vec![1.0; fl],
        };
        let frames = 1 + (s[1] - fl) / step;
        let (wl, comps) = (win.len(), s[2]);
        let frame_shape = [s[0], frames, wl, comps];
        let mut framed = vec![0f64; check_numel(&frame_shape)?];
        for b in 0..s[0] {
            for f in 0..frames {
                for (t, &w) in win.iter().enumerate() {
                    let src = f * step + t;
                    if src >= s[1] {
                        break;
                    }
                    for c in 0..comps {
                        framed[((b * frames + f) * wl + t) * comps + c] =
                            x.data[(b * s[1] + src) * comps + c] * w;
                    }
                }
            }
        }
        let framed = HostFloat {
            data: framed,
            shape: frame_shape.to_vec(),
            dtype: x.dtype,
        };
        let mode = Mode {
            inverse: false,
            onesided,
        };
        Ok(vec![run_dft(&framed, 2, fl, mode)?])
    })
}
