//! The driver of the tiled kernels: lays out each chunk of images, splits the output into
//! tasks of blocks x panels, gathers narrow outputs' rows, runs a microkernel per tile and hands
//! the sums to the epilogue.

use rayon::prelude::*;

use super::epilogue::{Place, Sink};
use super::layout::{Lane, Padded};
use super::{MR, NR, Rows, TileFn};
use crate::pack::Activation;
use crate::{Conv2dParams, DirectConv, QuantizedInput};

/// Multiply-adds below which a call stays on the calling thread.
pub(super) const PARALLEL_MACS: usize = 1 << 18;

/// One microkernel and its packed weights.
pub(super) struct Kernel<'a, T> {
    /// Channel units (pairs or quads) per group.
    pub units: usize,
    /// Reduction steps per panel.
    pub steps: usize,
    /// Panel `p` of group `g`.
    pub panel: &'a (dyn Fn(usize, usize) -> &'a [u32] + Sync),
    /// Kernels for panels of up to 2, 4 and `MR` output channels.
    pub tiles: [TileFn<T>; 3],
    /// Weight sums and the input zero point's code, when the layout holds raw codes.
    pub sums: Option<(&'a [i32], u8)>,
}

/// Bytes of laid-out input per chunk of images: about a quarter of a 512 KiB L2, so a chunk's
/// input, output and weights stay in cache while its tiles run.
const CHUNK_BYTES: usize = 128 * 1024;

/// Runs the batch in chunks of images, each laid out just before its tiles run.
#[allow(clippy::too_many_arguments)]
pub(super) fn drive<A: Activation, T: Lane + Default>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out_shape: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
    kernel: Kernel<'_, T>,
) {
    let [n, c, h, wd] = input.shape;
    let [pt, pl, pb, pr] = params.pads;
    let image_bytes = c.div_ceil(T::LANES) * T::LANES * (h + pt + pb) * (wd + pl + pr) * 2;
    let chunk = (CHUNK_BYTES / image_bytes.max(1)).clamp(1, n);
    for first in (0..n).step_by(chunk) {
        let count = chunk.min(n - first);
        let part = QuantizedInput {
            data: &input.data[first * c * h * wd..][..count * c * h * wd],
            shape: [count, c, h, wd],
            ..input
        };
        drive_chunk(part, first, w, params, out_shape, sink, avx2, &kernel);
    }
}

/// Runs images `first..first + input.shape[0]` of the batch.
#[allow(clippy::too_many_arguments)]
fn drive_chunk<A: Activation, T: Lane + Default>(
    input: QuantizedInput<'_, A>,
    first: usize,
    w: &DirectConv,
    params: &Conv2dParams,
    [_, oc, oh, ow]: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
    kernel: &Kernel<'_, T>,
) {
    let n = input.shape[0];
    let [_, _, kh, kw] = w.shape;
    let padded = Padded::<T>::new(
        input.data,
        input.zero_point,
        input.shape,
        w.groups,
        kernel.units,
        params,
        [kh, kw],
    );
    let offsets = padded.offsets(kernel.units, params, [kh, kw]);
    let pixels = oh * ow;
    let steps = kernel.steps;
    // Values of one step's row (16 pixels x lanes, 64 bytes).
    let row_len = NR * T::LANES;
    // Rows of at least NR pixels are read in place, one block a run of one output row, unless
    // the row's last block leaves more than a quarter of the row's tiles idle (20 pixels take
    // two blocks: gathering 16-pixel blocks across rows is faster); narrower outputs gather.
    let direct = ow >= NR && 4 * ow >= 3 * ow.div_ceil(NR) * NR;
    // Outputs NR / 2 wide read two output rows in place per block, one per half.
    let paired = ow == NR / 2;
    let per_row = ow.div_ceil(NR);
    let block_count = if direct {
        oh * per_row
    } else {
        pixels.div_ceil(NR)
    };
    // Block `i`: its first pixel and width.
    let block = |i: usize| {
        if direct {
            let (oy, ox) = (i / per_row, i % per_row * NR);
            (oy * ow + ox, NR.min(ow - ox))
        } else {
            let p0 = i * NR;
            (p0, NR.min(pixels - p0))
        }
    };
    // Enough blocks per task to reuse each weight panel from cache, few enough that a task's
    // input rows stay within L2.
    let per_task = ((128 * 1024) / (steps * 64).max(1))
        .clamp(1, 8)
        .min(block_count);
    let tasks_per_plane = block_count.div_ceil(per_task);
    let groups = w.groups;
    let block_tasks = n * groups * tasks_per_plane;
    let ocg = oc / groups;
    let macs = n * oc * pixels * w.shape[1] * kh * kw;
    let threads = rayon::current_num_threads();
    let parallel = threads > 1 && macs >= PARALLEL_MACS;
    // Small images have too few block ranges for every thread (an 8x8 output is 4 blocks):
    // then the output channels' panels are split across tasks too.
    let panels = w.panels_per_group();
    let panel_parts = if parallel {
        (3 * threads).div_ceil(block_tasks).clamp(1, panels)
    } else {
        1
    };
    let per_part = panels.div_ceil(panel_parts);
    let tasks = block_tasks * panel_parts;
    let task = |packed: &mut Vec<T>, task: usize| {
        let (task, part) = (task / panel_parts, task % panel_parts);
        let image = task / (groups * tasks_per_plane);
        let rest = task % (groups * tasks_per_plane);
        let (g, t) = (rest / tasks_per_plane, rest % tasks_per_plane);
        let mine = t * per_task..block_count.min((t + 1) * per_task);
        let xg = padded.group(image, g, kernel.units);
        if !direct && !paired {
            // Reused without clearing: pixels past a block's width are discarded.
            let len = mine.len() * steps * row_len + row_len;
            if packed.len() < len {
                packed.resize(len, T::default());
            }
            for (j, i) in mine.clone().enumerate() {
                gather(
                    xg,
                    &padded,
                    &offsets,
                    ow,
                    block(i),
                    &mut packed[j * steps * row_len..],
                );
            }
        }
        for p in part * per_part..panels.min((part + 1) * per_part) {
            let rows = MR.min(ocg - p * MR);
            let co = g * ocg + p * MR;
            let panel = (kernel.panel)(g, p);
            let tile_fn = kernel.tiles[(rows - 1) / 2];
            // Accumulators start at `-x_zero_point * sum(w)` when the layout holds raw codes.
            let mut init = [0i32; MR];
            if let Some((sums, zp)) = kernel.sums {
                for (v, &s) in init.iter_mut().zip(&sums[co..co + rows]) {
                    *v = i32::from(zp).wrapping_mul(s).wrapping_neg();
                }
            }
            for (j, i) in mine.clone().enumerate() {
                let (p0, cols) = block(i);
                let b = if direct {
                    let (oy, ox) = (p0 / ow, p0 % ow);
                    Rows::Indirect {
                        base: xg[padded.origin(oy, ox)..].as_ptr(),
                        offsets: &offsets,
                        half: NR / 2 * T::LANES,
                    }
                } else if paired {
                    // A last block of one row reads that row twice.
                    Rows::Indirect {
                        base: xg[padded.origin(p0 / ow, 0)..].as_ptr(),
                        offsets: &offsets,
                        half: if cols > ow { padded.origin(1, 0) } else { 0 },
                    }
                } else {
                    Rows::Packed(&packed[j * steps * row_len..][..steps * row_len])
                };
                // SAFETY: `panel` holds `steps * MR` words; gathered rows hold 64 bytes each;
                // in-place halves start inside the padded planes and read 32 bytes (within
                // the phase row of an 8-pixel output row, else covered by the buffer's
                // slack); the tile function is an AVX2 kernel only when AVX2 was detected.
                let tile = unsafe { tile_fn(steps, panel, b, &init) };
                let place = Place {
                    channel: co,
                    at: ((first + image) * oc + co) * pixels + p0,
                    stride: pixels,
                    rows,
                    cols,
                };
                // SAFETY: this task alone writes channels `co..co + rows`, pixels
                // `p0..p0 + cols` of `image`, inside the checked output.
                unsafe { sink.store(&tile, place, avx2) };
            }
        }
    };
    if tasks > 1 && parallel {
        (0..tasks)
            .into_par_iter()
            .for_each(|t| T::gathered().with(|b| task(&mut b.borrow_mut(), t)));
    } else {
        T::gathered().with(|b| {
            let mut packed = b.borrow_mut();
            (0..tasks).for_each(|t| task(&mut packed, t));
        });
    }
    padded.recycle();
}

/// Gathers the rows of output pixels `p0..p0 + cols` of one image and group into `dst`
/// (`[step][NR][lanes]`): one fixed-width copy per run of pixels on one output row. Pixels past
/// `cols` hold garbage the epilogue discards; `dst` has one row of slack at its end.
fn gather<T: Lane>(
    xg: &[T],
    padded: &Padded<T>,
    offsets: &[usize],
    ow: usize,
    (p0, cols): (usize, usize),
    dst: &mut [T],
) {
    let lanes = T::LANES;
    let (runs, n) = crate::runs::row_runs::<NR>(p0, cols, ow, |oy, ox| padded.origin(oy, ox));
    for (s, &off) in offsets.iter().enumerate() {
        for &(c0, at) in &runs[..n] {
            let start = (s * NR + c0) * lanes;
            dst[start..start + lanes * NR].copy_from_slice(&xg[at + off..at + off + lanes * NR]);
        }
    }
}
