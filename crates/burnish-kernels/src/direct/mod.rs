//! Direct int8 convolution: no im2col, the microkernel reads the padded input in place.
//!
//! The design of the runtime's f32 convolution, in integers:
//!
//! * weights are packed once ([`DirectConv`]) into panels of [`MR`] = 6 output channels, zero
//!   points removed, two input channels per 32-bit word (i16 each);
//! * each call writes the input minus its zero point once as i16, padded with zeros and (for
//!   strides above 1) split into phase planes, channels paired and interleaved
//!   (`layout.rs`), so that 16 consecutive output pixels of one channel pair at one kernel
//!   tap are 64 contiguous bytes;
//! * a 6 x 16 microkernel (`vpmaddwd`, exact for every u8/i8 code) keeps the tile in
//!   registers over the whole (pairs x kh x kw) reduction and hands exact i32 sums to the
//!   epilogue, which adds the bias, requantizes (onnxruntime's `MlasRequantizeOutput`, or a
//!   float bias plus an optional quantized residual), clamps (Relu/Clip) and writes NCHW rows.
//!
//! Outputs narrower than 16 pixels gather each block's rows (runs of several output rows) into
//! a small buffer first. Depthwise convolutions (one input channel per group) use their own
//! row-accumulating kernel (`depthwise.rs`).
//!
//! ## 7-bit weights: the `vpmaddubsw` kernel
//!
//! `vpmaddubsw` multiplies u8 x i8 and adds pairs into a saturating i16, so it is exact only
//! when `|w0| + |w1| <= 128`; a `vpmaddwd` against ones then widens to i32. Per 64-byte step it
//! covers four channels instead of two: 36 vector instructions per 384 multiply-adds against
//! 48 for `vpmaddwd`. When every weight minus its zero point lies in `-64..=63` (7-bit
//! weights, as onnxruntime's `reduce_range` quantizes for AVX2) [`DirectConv`] also packs
//! channel quads, and AVX2 CPUs run that kernel on the raw u8 codes (padding = the zero
//! point's code), removing `x_zero_point * sum(w)` per output channel before the epilogue.
//! Results are identical; 8-bit weights keep the exact `vpmaddwd` kernel.
//!
//! Measured on the 2-core Zen 3 (AVX2+FMA, no VNNI), one thread, loaded machine, `cargo bench
//! -p burnish-kernels --bench madd` (6 x 16 tile loops in L1, multiply-adds per second):
//! `vpmaddwd` 37-46 G, `vpmaddubsw` 58-60 G, f32 FMA 27 G. So on this CPU the exact int8
//! kernel's ceiling is about 1.5x the f32 one, and 7-bit weights raise it to about 2.1x.

mod depthwise;
mod epilogue;
#[cfg(all(test, target_arch = "x86_64"))]
mod epilogue_tests;
mod interleave;
mod layout;
mod pack;
mod scalar;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "x86_64")]
mod avx2;

use rayon::prelude::*;

pub use epilogue::{OutputScale, Requantize, Residual};
pub use pack::{DirectConv, MAX_DIRECT_DEPTH};

use crate::pack::{Activation, check_len};
use crate::{Conv2dParams, KernelError, QuantOutput, QuantizedInput};
use epilogue::{I32Sink, OutPtr, Place, QuantSink, Sink};
use layout::{Lane, Padded};

/// Output channels per tile.
pub(crate) const MR: usize = 6;
/// Output pixels per tile.
pub(crate) const NR: usize = 16;

/// Exact sums of one tile.
pub(crate) type Tile = [[i32; NR]; MR];

/// Where the 16 pixels x lanes of each reduction step come from (64 bytes).
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a, T> {
    /// Gathered rows, 64 bytes apart.
    Packed(&'a [T]),
    /// Rows read in place: `base + offsets[step]`.
    Indirect {
        base: *const T,
        offsets: &'a [usize],
    },
}

impl<T> Rows<'_, T> {
    #[inline(always)]
    pub(crate) fn row(&self, s: usize) -> *const T {
        match *self {
            Rows::Packed(b) => b[s * 64 / size_of::<T>()..].as_ptr(),
            Rows::Indirect { base, offsets } => base.wrapping_add(offsets[s]),
        }
    }
}

/// The output of [`conv2d_direct`] and its epilogue.
pub enum DirectOutput<'a, Z = u8> {
    /// Exact i32 sums (`ConvInteger`).
    I32(&'a mut [i32]),
    /// Requantized u8 codes.
    U8(&'a mut [u8], Requantize<'a, Z>),
    /// Requantized i8 codes.
    I8(&'a mut [i8], Requantize<'a, Z>),
}

impl DirectConv {
    /// The NCHW output shape for an input shape and `params`, or why they do not fit.
    pub fn output_shape(
        &self,
        input: [usize; 4],
        params: &Conv2dParams,
    ) -> Result<[usize; 4], KernelError> {
        params.output_dims(input, self.shape, self.groups)
    }
}

/// Direct int8 convolution of a u8/i8 NCHW input with weights packed by [`DirectConv::new`],
/// exact in i32, with the epilogue of `out`. Returns the output shape. Bit-exact with the
/// im2col path ([`crate::conv2d_qlinear`], [`crate::conv2d_int8_i32`]) for the same epilogue.
pub fn conv2d_direct<A: Activation, Z: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out: DirectOutput<'_, Z>,
) -> Result<[usize; 4], KernelError> {
    let out_shape = params.output_dims(input.shape, w.shape, w.groups)?;
    let [n, c, h, wd] = input.shape;
    check_len("input", n * c * h * wd, input.data.len())?;
    let len = out_shape.iter().product();
    let avx2 = avx2_detected();
    match out {
        DirectOutput::I32(o) => {
            check_len("out", len, o.len())?;
            run(
                input,
                w,
                params,
                out_shape,
                &I32Sink(OutPtr(o.as_mut_ptr())),
                avx2,
            );
        }
        DirectOutput::U8(o, requant) => quant(input, w, params, out_shape, o, requant, avx2)?,
        DirectOutput::I8(o, requant) => quant(input, w, params, out_shape, o, requant, avx2)?,
    }
    Ok(out_shape)
}

fn quant<A: Activation, O: QuantOutput, Z: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out_shape: [usize; 4],
    out: &mut [O],
    requant: Requantize<'_, Z>,
    avx2: bool,
) -> Result<(), KernelError> {
    check_len("out", out_shape.iter().product(), out.len())?;
    requant.check::<O>(out_shape[1], out.len())?;
    let sink = QuantSink {
        out: OutPtr(out.as_mut_ptr()),
        requant,
    };
    run(input, w, params, out_shape, &sink, avx2);
    Ok(())
}

/// Multiply-adds below which a call stays on the calling thread.
const PARALLEL_MACS: usize = 1 << 18;

/// The threaded driver; buffers and geometry were checked. Picks the `vpmaddubsw` kernel
/// (u8 quads) when the weights fit 7 bits and the CPU has AVX2, else the `vpmaddwd` one.
fn run<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out_shape: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
) {
    if w.is_depthwise() {
        depthwise::run(input, w, params, out_shape, sink, avx2);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if let (true, Some(q)) = (avx2, &w.quads) {
        let kernel = Kernel {
            units: q.count,
            steps: w.quad_steps(),
            panel: &|g, p| w.quad_panel(g, p),
            tiles: [
                avx2::tile_quads::<2>,
                avx2::tile_quads::<4>,
                avx2::tile_quads::<MR>,
            ],
            sums: Some((&q.sums, input.zero_point.to_offset_u8())),
        };
        drive::<A, u8>(input, w, params, out_shape, sink, avx2, kernel);
        return;
    }
    let kernel = Kernel {
        units: w.pairs,
        steps: w.steps(),
        panel: &|g, p| w.panel(g, p),
        tiles: tile_fns(avx2),
        sums: None,
    };
    drive::<A, i16>(input, w, params, out_shape, sink, avx2, kernel);
}

/// One microkernel and its packed weights.
struct Kernel<'a, T> {
    /// Channel units (pairs or quads) per group.
    units: usize,
    /// Reduction steps per panel.
    steps: usize,
    /// Panel `p` of group `g`.
    panel: &'a (dyn Fn(usize, usize) -> &'a [u32] + Sync),
    /// Kernels for panels of up to 2, 4 and `MR` output channels.
    tiles: [TileFn<T>; 3],
    /// Weight sums and the input zero point's code, when the layout holds raw codes.
    sums: Option<(&'a [i32], u8)>,
}

/// Bytes of laid-out input per chunk of images: about a quarter of a 512 KiB L2, so a chunk's
/// input, output and weights stay in cache while its tiles run.
const CHUNK_BYTES: usize = 128 * 1024;

/// Runs the batch in chunks of images, each laid out just before its tiles run.
#[allow(clippy::too_many_arguments)]
fn drive<A: Activation, T: Lane + Default>(
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
    // Rows of at least NR pixels are read in place, one block a run of one output row;
    // narrower outputs gather blocks across rows.
    let direct = ow >= NR;
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
    let tasks = n * groups * tasks_per_plane;
    let ocg = oc / groups;
    let task = |packed: &mut Vec<T>, task: usize| {
        let image = task / (groups * tasks_per_plane);
        let rest = task % (groups * tasks_per_plane);
        let (g, t) = (rest / tasks_per_plane, rest % tasks_per_plane);
        let mine = t * per_task..block_count.min((t + 1) * per_task);
        let xg = padded.group(image, g, kernel.units);
        if !direct {
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
        for p in 0..w.panels_per_group() {
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
                    }
                } else {
                    Rows::Packed(&packed[j * steps * row_len..][..steps * row_len])
                };
                // SAFETY: `panel` holds `steps * MR` words; gathered rows hold 64 bytes each;
                // in-place rows start inside the padded planes and read at most 64 bytes,
                // which the buffer's slack covers; the tile function is an AVX2 kernel only
                // when AVX2 was detected.
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
    let macs = n * oc * pixels * w.shape[1] * kh * kw;
    if tasks > 1 && macs >= PARALLEL_MACS && rayon::current_num_threads() > 1 {
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

/// Whether this CPU runs the AVX2 kernels.
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

/// `(steps, panel, rows, initial accumulators)`.
type TileFn<T> = unsafe fn(usize, &[u32], Rows<'_, T>, &[i32; MR]) -> Tile;

fn tile_fns(avx2: bool) -> [TileFn<i16>; 3] {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        return [avx2::tile::<2>, avx2::tile::<4>, avx2::tile::<MR>];
    }
    let _ = avx2;
    [scalar::tile; 3]
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
    let mut runs = [(0usize, 0usize); NR];
    let (mut n, mut c) = (0, 0);
    while c < cols {
        let (oy, ox) = ((p0 + c) / ow, (p0 + c) % ow);
        runs[n] = (c, padded.origin(oy, ox));
        n += 1;
        c += (ow - ox).min(cols - c);
    }
    for (s, &off) in offsets.iter().enumerate() {
        for &(c0, at) in &runs[..n] {
            let start = (s * NR + c0) * lanes;
            dst[start..start + lanes * NR].copy_from_slice(&xg[at + off..at + off + lanes * NR]);
        }
    }
}
