//! The convolution driver: im2col straight into microkernel panels, tiles spread over threads.

use rayon::prelude::*;

use super::micro::{BRows, TileOut, tile};
use super::{Conv2dGeometry, Epilogue, MR, NR, PackedConvWeights, depthwise};

/// A raw output pointer shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: every task writes a disjoint set of output tiles (distinct image, group or pixel block),
// so sharing the base pointer across threads never creates overlapping accesses.
unsafe impl Send for OutPtr {}
// SAFETY: as above.
unsafe impl Sync for OutPtr {}

/// Convolves `x` (`[batch, in, h, w]`, row-major) with packed weights into `out`
/// (`[batch, out, oh, ow]`), applying `epi`. With `epi.accumulate`, `out` holds the residual.
/// Runs on the current rayon pool.
pub fn conv2d(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), String> {
    check(x, geo, w, out)?;
    if w.is_depthwise() {
        return depthwise::conv(x, geo, w, epi, out);
    }
    let [oh, ow] = geo.output()?;
    let pixels = oh * ow;
    let k = w.k();
    let padded = Padded::new(x, geo);
    let offsets = padded.offsets(geo);
    // Output rows of at least NR pixels: the microkernel reads the (phase-split) padded input in
    // place, each block a run of one output row. Narrower outputs pack blocks across rows.
    let direct = ow >= NR;
    let blocks: Vec<(usize, usize)> = if direct {
        (0..oh)
            .flat_map(|oy| {
                (0..ow)
                    .step_by(NR)
                    .map(move |ox| (oy * ow + ox, NR.min(ow - ox)))
            })
            .collect()
    } else {
        (0..pixels)
            .step_by(NR)
            .map(|p0| (p0, NR.min(pixels - p0)))
            .collect()
    };
    // Enough blocks per task to reuse each weight panel from cache, few enough that the packed
    // input of a task stays within L2.
    let per_task = ((128 * 1024) / (k * NR * 4).max(1))
        .clamp(1, 8)
        .min(blocks.len());
    let tasks_per_plane = blocks.len().div_ceil(per_task);
    let tasks = geo.batch * geo.groups * tasks_per_plane;
    let (cin_g, out_g) = (geo.in_per_group(), geo.out_per_group());
    let base = OutPtr(out.as_mut_ptr());
    (0..tasks)
        .into_par_iter()
        .for_each_init(Vec::new, |packed: &mut Vec<f32>, task| {
            let base = base;
            let image = task / (geo.groups * tasks_per_plane);
            let rest = task % (geo.groups * tasks_per_plane);
            let (g, t) = (rest / tasks_per_plane, rest % tasks_per_plane);
            let mine = &blocks[t * per_task..blocks.len().min((t + 1) * per_task)];
            let xg = padded.from_channel(image * geo.in_channels + g * cin_g);
            if !direct {
                packed.resize(mine.len() * k * NR + NR, 0.0);
                for (j, &block) in mine.iter().enumerate() {
                    pack_block(
                        xg,
                        &padded,
                        &offsets,
                        ow,
                        block,
                        &mut packed[j * k * NR..][..k * NR + NR],
                    );
                }
            }
            for p in 0..w.panels_per_group() {
                let rows = MR.min(out_g - p * MR);
                let co = g * out_g + p * MR;
                let bias = &w.bias[co..co + rows];
                let panel = w.panel(g, p);
                for (j, &(p0, cols)) in mine.iter().enumerate() {
                    let b = if direct {
                        let (oy, ox) = (p0 / ow, p0 % ow);
                        BRows::Indirect {
                            base: xg[padded.origin(oy, ox)..].as_ptr(),
                            offsets: &offsets,
                        }
                    } else {
                        BRows::Packed(&packed[j * k * NR..][..k * NR + NR])
                    };
                    let tile_out = TileOut {
                        // SAFETY: in bounds: `(image, co, p0)` indexes `out`, checked in `check`.
                        ptr: unsafe { base.0.add((image * geo.out_channels + co) * pixels + p0) },
                        row_stride: pixels,
                        rows,
                        cols,
                    };
                    // SAFETY: this task alone writes channels `co..co+rows`, pixels `p0..p0+cols` of
                    // image `image`, a region inside `out`; packed rows hold NR values, and direct
                    // rows read at most NR values past a pixel of the padded planes, which end with
                    // slack.
                    unsafe { tile(k, panel, b, bias, tile_out, epi) };
                }
            }
        });
    Ok(())
}

fn check(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    out: &[f32],
) -> Result<(), String> {
    if geo.groups == 0
        || geo.in_channels % geo.groups != 0
        || w.groups != geo.groups
        || w.out_channels != geo.out_channels
        || w.in_per_group != geo.in_per_group()
        || w.kernel != geo.kernel
    {
        return Err(format!(
            "weights [{}, {}, {}, {}] (groups {}) do not fit input channels {} in {} groups",
            w.out_channels,
            w.in_per_group,
            w.kernel[0],
            w.kernel[1],
            w.groups,
            geo.in_channels,
            geo.groups
        ));
    }
    let want_x = geo.batch * geo.in_channels * geo.input[0] * geo.input[1];
    if x.len() != want_x || out.len() != geo.output_len()? {
        return Err(format!(
            "buffers hold {} input / {} output values, geometry needs {want_x} / {}",
            x.len(),
            out.len(),
            geo.output_len()?
        ));
    }
    Ok(())
}

/// The input with its padding materialized (zeros) and, for strided convolutions, each channel
/// split into `stride_h x stride_w` phase planes (`phase[a][b][y][x] = padded[y*sh + a][x*sw + b]`),
/// so that every convolution reads runs of consecutive values, as a stride-1 one does. Ends
/// with slack so fixed-width reads past a run stay inside the buffer.
pub(crate) struct Padded {
    data: Vec<f32>,
    /// Height and width of one phase plane.
    phase: [usize; 2],
    /// Values per channel (all its phase planes).
    channel: usize,
}

impl Padded {
    fn new(x: &[f32], geo: &Conv2dGeometry) -> Self {
        let [h, w] = geo.input;
        let [sh, sw] = geo.stride;
        let ph = h + geo.pad_begin[0] + geo.pad_end[0];
        let pw = w + geo.pad_begin[1] + geo.pad_end[1];
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let channel = sh * sw * phase[0] * phase[1];
        let planes = geo.batch * geo.in_channels;
        let mut data = vec![0f32; planes * channel + NR];
        let [pt, pl] = geo.pad_begin;
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.dilation;
        // Phase planes no kernel tap reads (e.g. three of four for a 1x1 stride-2 conv) stay zero.
        let rows_used: Vec<bool> = (0..sh)
            .map(|a| (0..kh).any(|ky| ky * dh % sh == a))
            .collect();
        let cols_used: Vec<usize> = (0..sw)
            .filter(|&b| (0..kw).any(|kx| kx * dw % sw == b))
            .collect();
        let plane = phase[0] * phase[1];
        data[..planes * channel]
            .par_chunks_mut(channel)
            .zip(x.par_chunks(h * w))
            .for_each(|(dst, src)| {
                for (y, line) in src.chunks_exact(w).enumerate() {
                    let py = y + pt;
                    if !rows_used[py % sh] {
                        continue;
                    }
                    let row = (py % sh) * sw * plane + (py / sh) * phase[1];
                    if sw == 1 {
                        dst[row + pl..row + pl + w].copy_from_slice(line);
                        continue;
                    }
                    for &b in &cols_used {
                        let out = &mut dst[row + b * plane..][..phase[1]];
                        // Phase column j holds padded column j * sw + b, i.e. input column
                        // j * sw + b - pl.
                        let first = pl.saturating_sub(b).div_ceil(sw);
                        for (j, v) in out.iter_mut().enumerate().skip(first) {
                            match line.get(j * sw + b - pl) {
                                Some(&x) => *v = x,
                                None => break,
                            }
                        }
                    }
                }
            });
        Self {
            data,
            phase,
            channel,
        }
    }

    /// Offset of every reduction step `(channel, ky, kx)` from a block's base.
    fn offsets(&self, geo: &Conv2dGeometry) -> Vec<usize> {
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.dilation;
        let [sh, sw] = geo.stride;
        let [qh, qw] = self.phase;
        let mut offsets = Vec::with_capacity(geo.in_per_group() * kh * kw);
        for ci in 0..geo.in_per_group() {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (y, x) = (ky * dh, kx * dw);
                    let phase = (y % sh) * sw + x % sw;
                    offsets.push(ci * self.channel + phase * qh * qw + (y / sh) * qw + x / sw);
                }
            }
        }
        offsets
    }

    /// Offset of output pixel `(oy, ox)`'s window origin within its channel's phase planes.
    fn origin(&self, oy: usize, ox: usize) -> usize {
        oy * self.phase[1] + ox
    }

    /// The planes from input channel `first` (counted over all images) on, with the slack.
    fn from_channel(&self, first: usize) -> &[f32] {
        &self.data[first * self.channel..]
    }
}

/// Gathers the receptive fields of output pixels `p0..p0+cols` of one image and group into
/// `dst` (`[k][NR]`): one fixed-width copy per run of pixels on one output row. Columns past
/// `cols` hold garbage that the tile store discards; `dst` has `NR` slack values at its end.
fn pack_block(
    xg: &[f32],
    padded: &Padded,
    offsets: &[usize],
    ow: usize,
    (p0, cols): (usize, usize),
    dst: &mut [f32],
) {
    let mut runs = [(0usize, 0usize); NR];
    let (mut n, mut c) = (0, 0);
    while c < cols {
        let (oy, ox) = ((p0 + c) / ow, (p0 + c) % ow);
        runs[n] = (c, padded.origin(oy, ox));
        n += 1;
        c += (ow - ox).min(cols - c);
    }
    let runs = &runs[..n];
    for (row, &off) in offsets.iter().enumerate() {
        for &(c0, at) in runs {
            let start = row * NR + c0;
            dst[start..start + NR].copy_from_slice(&xg[at + off..at + off + NR]);
        }
    }
}
