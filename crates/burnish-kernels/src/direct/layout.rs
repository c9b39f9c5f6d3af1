//! The input of one call, padded once and laid out for the microkernel.
//!
//! Padding is materialized and (stride > 1) each channel is split into `stride_h x stride_w`
//! phase planes, so every kernel tap reads runs of consecutive output pixels, as a stride-1
//! convolution does. Channels of a group are interleaved in units of [`Lane::LANES`]:
//! `[image][group][unit][phase][y][x][LANES]`, so one reduction step of 16 output pixels is 64
//! contiguous bytes. Two layouts:
//!
//! * `i16`, pairs: the code minus the zero point, padding 0 (the `vpmaddwd` kernels);
//! * `u8`, quads: the offset-binary code itself, padding the zero point's code, which the
//!   accumulators' starting values remove with the weight sums (the `vpmaddubsw` kernel).
//!
//! The buffer is this thread's, reused from call to call without clearing: each call writes
//! the data and the padding of the phase planes its taps read; values it leaves (unused phase
//! planes, lanes past a group's channels, which meet zero weights, the slack) only reach
//! output pixels the epilogue discards.

use rayon::prelude::*;

use super::NR;
use crate::Conv2dParams;
use crate::pack::Activation;

pub(crate) use super::lane::Lane;

/// The laid-out input. Ends with slack so 16-pixel reads past a run stay inside the buffer.
pub(crate) struct Padded<T> {
    pub data: Vec<T>,
    /// Height and width of one phase plane.
    pub phase: [usize; 2],
    /// Values per unit (all its phase planes, all lanes).
    pub unit_len: usize,
    /// Units per image (all groups).
    pub units_per_image: usize,
}

impl<T: Lane> Padded<T> {
    /// Lays out `x` (`[n, c, h, w]`) for `groups` groups of `units` units each.
    #[allow(clippy::too_many_arguments)]
    pub fn new<A: Activation>(
        x: &[A],
        zero_point: A,
        [n, c, h, w]: [usize; 4],
        groups: usize,
        units: usize,
        params: &Conv2dParams,
        [kh, kw]: [usize; 2],
    ) -> Self {
        let lanes = T::LANES;
        let [sh, sw] = params.stride;
        let [dh, dw] = params.dilation;
        let [pt, pl, pb, pr] = params.pads;
        let (ph, pw) = (h + pt + pb, w + pl + pr);
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let plane = phase[0] * phase[1];
        let unit_len = sh * sw * plane * lanes;
        let units_per_image = groups * units;
        let icg = c / groups;
        let zp = zero_point.to_offset_u8();
        let len = n * units_per_image * unit_len + lanes * NR;
        // The reused buffer keeps earlier values: `fill_unit` writes every value a kept output
        // pixel reads (data and padding); the rest (unused phase planes, lanes past the
        // group's channels, which meet zero weights, and the slack) is only ever read for
        // discarded pixels.
        let mut data = T::scratch().with(|s| std::mem::take(&mut *s.borrow_mut()));
        if data.len() < len {
            data.resize(len, T::pad(zp));
        }
        data.truncate(len);
        let rows_used: Vec<bool> = (0..sh)
            .map(|a| (0..kh).any(|ky| ky * dh % sh == a))
            .collect();
        let cols_used: Vec<usize> = (0..sw)
            .filter(|&b| (0..kw).any(|kx| kx * dw % sw == b))
            .collect();
        // Where input row y lands (`None`: in a phase plane no tap reads), and, per used
        // column phase b, the first phase column, input column and count of values.
        let rows: Vec<Option<usize>> = (0..h)
            .map(|y| {
                let py = y + pt;
                rows_used[py % sh].then(|| (py % sh) * sw * plane + (py / sh) * phase[1])
            })
            .collect();
        // Phase rows of used row phases that hold only padding (inside the padded image).
        let pad_rows: Vec<usize> = (0..sh)
            .filter(|&a| rows_used[a])
            .flat_map(|a| {
                (0..phase[0])
                    .map(move |r| (r, r * sh + a))
                    .filter(|&(_, py)| py < ph && (py < pt || py >= pt + h))
                    .map(move |(r, _)| a * sw * plane + r * phase[1])
            })
            .collect();
        let mut cols = Vec::with_capacity(cols_used.len());
        let mut col_pads = Vec::with_capacity(cols_used.len());
        for &b in &cols_used {
            // Phase column j holds padded column j * sw + b, input column j * sw + b - pl.
            let first = pl.saturating_sub(b).div_ceil(sw);
            let run = (first * sw + b)
                .checked_sub(pl)
                .filter(|&s| s < w)
                .map(|start| {
                    let count = (w - start).div_ceil(sw).min(phase[1] - first);
                    (start, count)
                });
            match run {
                Some((start, count)) => {
                    cols.push((b * plane + first, start, count));
                    col_pads.push((b * plane, first, first + count));
                }
                None => col_pads.push((b * plane, 0, 0)),
            }
        }
        let layout = Fill {
            rows: &rows,
            cols: &cols,
            pad_rows: &pad_rows,
            col_pads: &col_pads,
            width: phase[1],
            shape: [c, h, w],
            icg,
            units,
            units_per_image,
            step: sw,
            zp,
        };
        let avx2 = cfg!(target_arch = "x86_64") && avx2_detected();
        let fill = |(idx, dst): (usize, &mut [T])| {
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: AVX2 was detected.
                unsafe { fill_avx2(&layout, x, idx, dst) };
                return;
            }
            let _ = avx2;
            fill_unit(&layout, x, idx, dst);
        };
        let body = &mut data[..n * units_per_image * unit_len];
        if body.len() >= 1 << 15 {
            body.par_chunks_mut(unit_len).enumerate().for_each(fill);
        } else {
            body.chunks_mut(unit_len).enumerate().for_each(fill);
        }
        Self {
            data,
            phase,
            unit_len,
            units_per_image,
        }
    }

    /// Hands the buffer back to this thread's scratch for the next call.
    pub fn recycle(self) {
        T::scratch().with(|s| *s.borrow_mut() = self.data);
    }

    /// Offset of every reduction step `(unit, ky, kx)` from a block's base.
    pub fn offsets(&self, units: usize, params: &Conv2dParams, [kh, kw]: [usize; 2]) -> Vec<usize> {
        let [dh, dw] = params.dilation;
        let [sh, sw] = params.stride;
        let [qh, qw] = self.phase;
        let mut offsets = Vec::with_capacity(units * kh * kw);
        for unit in 0..units {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (y, x) = (ky * dh, kx * dw);
                    let phase = (y % sh) * sw + x % sw;
                    offsets.push(
                        unit * self.unit_len
                            + T::LANES * (phase * qh * qw + (y / sh) * qw + x / sw),
                    );
                }
            }
        }
        offsets
    }

    /// Offset of output pixel `(oy, ox)`'s window origin within a unit's planes.
    pub fn origin(&self, oy: usize, ox: usize) -> usize {
        T::LANES * (oy * self.phase[1] + ox)
    }

    /// The data from group `g` of image `img` on (with the slack).
    pub fn group(&self, img: usize, g: usize, units: usize) -> &[T] {
        &self.data[(img * self.units_per_image + g * units) * self.unit_len..]
    }
}

fn avx2_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// What filling one unit needs: where rows and column runs land, and the input geometry.
struct Fill<'a> {
    rows: &'a [Option<usize>],
    /// `(offset in the unit's planes, first input column, count)` per used column phase.
    cols: &'a [(usize, usize, usize)],
    /// Offsets of the phase rows that hold only padding, in used row phases.
    pad_rows: &'a [usize],
    /// `(plane offset, first data column, end of data columns)` per used column phase.
    col_pads: &'a [(usize, usize, usize)],
    /// Values per phase row (per lane).
    width: usize,
    shape: [usize; 3],
    icg: usize,
    units: usize,
    units_per_image: usize,
    step: usize,
    zp: u8,
}

/// Writes `pad` over `r[..head]` and `r[tail..]`, before the data goes into `r[head..tail]`.
/// Where each edge fits in 16 bytes, one 16-byte store per edge writes it (and some of the
/// data's place, which the data then overwrites): cheaper than two `memset` calls of a few
/// bytes per row.
#[inline(always)]
fn edge_pads<T: Lane>(r: &mut [T], head: usize, tail: usize, pad: T) {
    let k = 16 / std::mem::size_of::<T>();
    let len = r.len();
    if head <= k && len - tail <= k && len >= k {
        let pattern = [pad; 16];
        r[..k].copy_from_slice(&pattern[..k]);
        r[len - k..].copy_from_slice(&pattern[..k]);
    } else {
        r[..head].fill(pad);
        r[tail..].fill(pad);
    }
}

/// [`fill_unit`] compiled for AVX2, so its loops vectorize.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2<A: Activation, T: Lane>(f: &Fill<'_>, x: &[A], idx: usize, dst: &mut [T]) {
    fill_unit(f, x, idx, dst);
}

/// Writes unit `idx` (counted over all images) of the layout into `dst`: the data and the
/// padding around it in the used phase planes.
#[inline(always)]
fn fill_unit<A: Activation, T: Lane>(f: &Fill<'_>, x: &[A], idx: usize, dst: &mut [T]) {
    let lanes = T::LANES;
    let [c, h, w] = f.shape;
    let (img, gu) = (idx / f.units_per_image, idx % f.units_per_image);
    let (g, unit) = (gu / f.units, gu % f.units);
    let first = ((img * c) + g * f.icg + lanes * unit) * h * w;
    let present = f.icg.saturating_sub(lanes * unit).min(lanes);
    let v = |a: A| T::of(a.to_offset_u8(), f.zp);
    let pad = T::pad(f.zp);
    let width = lanes * f.width;
    for &row in f.pad_rows {
        for &(b, _, _) in f.col_pads {
            dst[lanes * (row + b)..][..width].fill(pad);
        }
    }
    // The unit's channel planes; lanes past the group's channels have zero weights, so they
    // repeat the last channel.
    let hw = h * w;
    let chan = |l: usize| &x[first + l.min(present.saturating_sub(1)) * hw..][..hw];
    let planes = [chan(0), chan(1), chan(2), chan(3)];
    for (y, row) in f.rows.iter().enumerate() {
        let Some(row) = *row else {
            continue;
        };
        for &(b, from, to) in f.col_pads {
            edge_pads(
                &mut dst[lanes * (row + b)..][..width],
                lanes * from,
                lanes * to,
                pad,
            );
        }
        let at = y * w;
        let lines = [
            &planes[0][at..at + w],
            &planes[1][at..at + w],
            &planes[2][at..at + w],
            &planes[3][at..at + w],
        ];
        for &(at, start, count) in f.cols {
            let out = &mut dst[lanes * (row + at)..][..lanes * count];
            match (lanes, present, f.step) {
                (2, 2, step @ (1 | 2)) => {
                    let (l0, l1) = (&lines[0][start..], &lines[1][start..]);
                    let done = T::pairs16(out, l0, l1, step, f.zp);
                    for (j, o) in out.chunks_exact_mut(2).enumerate().skip(done) {
                        o[0] = v(l0[j * step]);
                        o[1] = v(l1[j * step]);
                    }
                }
                (4, _, step @ (1 | 2)) => {
                    let done = T::quads8(out, lines, start, step);
                    for (j, o) in out.chunks_exact_mut(4).enumerate().skip(done) {
                        for (o, l) in o.iter_mut().zip(lines) {
                            *o = v(l[start + j * step]);
                        }
                    }
                }
                _ => {
                    for (l, src) in lines.iter().enumerate().take(present) {
                        for (j, o) in out.chunks_exact_mut(lanes).enumerate() {
                            o[l] = v(src[start + j * f.step]);
                        }
                    }
                }
            }
        }
    }
}
