//! The convolution input as the microkernel reads it: padding materialized and, for strided
//! convolutions, each channel split into phase planes, in a per-thread scratch buffer.

use std::cell::Cell;

use rayon::prelude::*;

use super::{Conv2dGeometry, NR};

thread_local! {
    /// The last padded buffer this thread released, reused by its next convolution.
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Scratch buffers above this many values are freed rather than kept for the next call.
const KEEP_MAX: usize = 4 << 20;

/// The input with its padding materialized (zeros) and, for strided convolutions, each channel
/// split into phase planes (`phase[a][b][y][x] = padded[y*sh + a][x*sw + b]`), so that every
/// convolution reads runs of consecutive values, as a stride-1 one does. Only the phase planes
/// some kernel tap reads are stored (one of four for a 1x1 stride-2 conv). Ends with `NR` values
/// of slack so fixed-width reads past a run stay inside the buffer.
///
/// An unpadded stride-1 input is used in place when the caller's reads never leave a row.
pub(crate) struct Padded<'a> {
    store: Store<'a>,
    /// Height and width of one phase plane.
    phase: [usize; 2],
    /// Values per channel (all its stored phase planes).
    channel: usize,
    /// Stored slot of phase `(a, b)` at `a * stride_w + b`, `usize::MAX` when not stored.
    slots: Vec<usize>,
    stride_w: usize,
}

enum Store<'a> {
    Borrowed(&'a [f32]),
    Owned(Vec<f32>),
}

impl<'a> Padded<'a> {
    /// Pads and phase-splits `x`; `in_place_ok` allows reading an unpadded stride-1 input
    /// directly (the caller never reads past the end of an input row).
    pub(crate) fn new(x: &'a [f32], geo: &Conv2dGeometry, in_place_ok: bool) -> Self {
        let [h, w] = geo.input;
        let [sh, sw] = geo.stride;
        let [pt, pl] = geo.pad_begin;
        let ph = h + pt + geo.pad_end[0];
        let pw = w + pl + geo.pad_end[1];
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.dilation;
        let rows_used: Vec<bool> = (0..sh)
            .map(|a| (0..kh).any(|ky| ky * dh % sh == a))
            .collect();
        let cols_used: Vec<bool> = (0..sw)
            .map(|b| (0..kw).any(|kx| kx * dw % sw == b))
            .collect();
        let mut slots = vec![usize::MAX; sh * sw];
        let mut used = Vec::new();
        for a in (0..sh).filter(|&a| rows_used[a]) {
            for b in (0..sw).filter(|&b| cols_used[b]) {
                slots[a * sw + b] = used.len();
                used.push((a, b));
            }
        }
        let plane = phase[0] * phase[1];
        let channel = used.len() * plane;
        let unpadded = geo.pad_begin == [0, 0] && geo.pad_end == [0, 0];
        if in_place_ok && unpadded && geo.stride == [1, 1] {
            return Self {
                store: Store::Borrowed(x),
                phase,
                channel,
                slots,
                stride_w: sw,
            };
        }
        let planes = geo.batch * geo.in_channels;
        let len = planes * channel + NR;
        let mut data = SCRATCH.with(Cell::take);
        // Values kept from the last call are overwritten below (every stored plane is written
        // in full); only growth is zero-filled.
        if data.len() > len {
            data.truncate(len);
        } else {
            data.resize(len, 0.0);
        }
        data[planes * channel..].fill(0.0);
        // Phase column j of phase (a, b) holds padded column j * sw + b, input column
        // j * sw + b - pl: inside the input for j in first..end, starting at input column start.
        let cols: Vec<(usize, usize, usize, usize)> = used
            .iter()
            .map(|&(a, b)| {
                let first = pl.saturating_sub(b).div_ceil(sw).min(phase[1]);
                let end = (pl + w).saturating_sub(b).div_ceil(sw).min(phase[1]);
                let end = end.max(first);
                let start = (first * sw + b).saturating_sub(pl).min(w);
                (a, first, end, start)
            })
            .collect();
        let min_planes = (16 * 1024 / channel.max(1)).max(1);
        data[..planes * channel]
            .par_chunks_mut(channel.max(1))
            .zip(x.par_chunks(h * w))
            .with_min_len(min_planes)
            .for_each(|(dst, src)| {
                let plan = Fill {
                    cols: &cols,
                    plane,
                    phase,
                    stride: [sh, sw],
                    pad_top: pt,
                    input: [h, w],
                };
                plan.run(dst, src);
            });
        Self {
            store: Store::Owned(data),
            phase,
            channel,
            slots,
            stride_w: sw,
        }
    }

    /// Offset of every reduction step `(channel, ky, kx)` from a block's base.
    pub(crate) fn offsets(&self, geo: &Conv2dGeometry) -> Vec<usize> {
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.dilation;
        let [sh, sw] = geo.stride;
        let [qh, qw] = self.phase;
        let taps: Vec<usize> = (0..kh)
            .flat_map(|ky| (0..kw).map(move |kx| (ky * dh, kx * dw)))
            .map(|(y, x)| {
                let slot = self.slots[(y % sh) * self.stride_w + x % sw];
                slot * qh * qw + (y / sh) * qw + x / sw
            })
            .collect();
        let mut offsets = Vec::with_capacity(geo.in_per_group() * taps.len());
        for ci in 0..geo.in_per_group() {
            offsets.extend(taps.iter().map(|t| ci * self.channel + t));
        }
        offsets
    }

    /// Offset of output pixel `(oy, ox)`'s window origin within its channel's phase planes.
    pub(crate) fn origin(&self, oy: usize, ox: usize) -> usize {
        oy * self.phase[1] + ox
    }

    /// The planes from input channel `first` (counted over all images) on, with the slack.
    pub(crate) fn channels_from(&self, first: usize) -> &[f32] {
        let data = match &self.store {
            Store::Borrowed(x) => x,
            Store::Owned(v) => v.as_slice(),
        };
        &data[first * self.channel..]
    }
}

/// How one input channel becomes its stored phase planes.
struct Fill<'c> {
    /// Per stored phase: its row phase and the columns that hold input values (see `new`).
    cols: &'c [(usize, usize, usize, usize)],
    plane: usize,
    phase: [usize; 2],
    stride: [usize; 2],
    pad_top: usize,
    input: [usize; 2],
}

impl Fill<'_> {
    /// Writes every value of `dst`, one channel's planes, from `src`, its input plane; with
    /// AVX2 where the CPU has it (the strided gathers vectorize with its shuffles).
    fn run(&self, dst: &mut [f32], src: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU must support AVX2.
            #[target_feature(enable = "avx2")]
            unsafe fn wide(fill: &Fill<'_>, dst: &mut [f32], src: &[f32]) {
                fill.body(dst, src)
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                unsafe { wide(self, dst, src) };
                return;
            }
        }
        self.body(dst, src)
    }

    #[inline(always)]
    fn body(&self, dst: &mut [f32], src: &[f32]) {
        let ([sh, sw], [h, w], pt) = (self.stride, self.input, self.pad_top);
        for (plane_dst, &(a, first, end, start)) in dst.chunks_exact_mut(self.plane).zip(self.cols)
        {
            for (r, row) in plane_dst.chunks_exact_mut(self.phase[1]).enumerate() {
                let y = r * sh + a;
                if y < pt || y - pt >= h {
                    row.fill(0.0);
                    continue;
                }
                let line = &src[(y - pt) * w + start..(y - pt + 1) * w];
                row[..first].fill(0.0);
                row[end..].fill(0.0);
                let dst = &mut row[first..end];
                match sw {
                    1 => dst.copy_from_slice(&line[..dst.len()]),
                    2 => every::<2>(dst, line),
                    3 => every::<3>(dst, line),
                    4 => every::<4>(dst, line),
                    _ => {
                        for (d, s) in dst.iter_mut().zip(line.iter().step_by(sw)) {
                            *d = *s;
                        }
                    }
                }
            }
        }
    }
}

/// `dst[t] = src[t * S]`; `src` holds at least `(dst.len() - 1) * S + 1` values.
#[inline(always)]
fn every<const S: usize>(dst: &mut [f32], src: &[f32]) {
    let (chunks, rest) = src.as_chunks::<S>();
    let n = dst.len().min(chunks.len());
    for (d, c) in dst[..n].iter_mut().zip(chunks) {
        *d = c[0];
    }
    if let (Some(d), Some(&s)) = (dst.get_mut(n), rest.first()) {
        *d = s;
    }
}

impl Drop for Padded<'_> {
    fn drop(&mut self) {
        if let Store::Owned(v) = &mut self.store
            && v.capacity() <= KEEP_MAX
        {
            let v = std::mem::take(v);
            SCRATCH.with(|c| c.set(v));
        }
    }
}
