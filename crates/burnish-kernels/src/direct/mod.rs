//! Direct int8 convolution: no im2col, the microkernel reads the padded input in place.
//!
//! The design of the runtime's f32 convolution, in 16-bit integers:
//!
//! * weights are packed once ([`DirectConv`]) into panels of [`MR`] = 6 output channels, zero
//!   points removed, two input channels per 32-bit word;
//! * each call writes the input minus its zero point once as i16, padded with zeros and (for
//!   strides above 1) split into phase planes, channels paired and interleaved ([`pack::Padded`]), so that
//!   16 consecutive output pixels of one channel pair at one kernel tap are 64 contiguous bytes;
//! * a 6 x 16 microkernel (`vpmaddwd`, exact) keeps the tile in registers over the whole
//!   (pairs x kh x kw) reduction and hands exact i32 sums to the epilogue, which adds the bias,
//!   requantizes (onnxruntime's `MlasRequantizeOutput`, or a float bias plus an optional
//!   quantized residual), clamps (Relu/Clip) and writes NCHW rows directly.
//!
//! Outputs narrower than 16 pixels gather each block's rows (runs of several output rows) into
//! a small buffer first. Depthwise convolutions (one input channel per group) use their own
//! row-accumulating kernel (`depthwise.rs`).
//!
//! Why `vpmaddwd` on i16 pairs rather than `vpmaddubsw` on u8 x i8 quads: the latter saturates
//! in i16 (u8 x i8 pair sums reach 64770), needs a second `vpmaddwd` against ones to widen to
//! i32, and so does the same 32 multiply-adds per two multiplier instructions; the microbench
//! `cargo bench -p burnish-kernels --bench madd` measures both loops (numbers in its doc).

mod depthwise;
mod epilogue;
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
use pack::Padded;

/// Output channels per tile.
pub(crate) const MR: usize = 6;
/// Output pixels per tile.
pub(crate) const NR: usize = 16;

/// Exact sums of one tile.
pub(crate) type Tile = [[i32; NR]; MR];

/// Where the 16 pixels x 2 channels of each reduction step come from.
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// Gathered rows, `2 * NR` apart.
    Packed(&'a [i16]),
    /// Rows read in place: `base + offsets[step]`.
    Indirect {
        base: *const i16,
        offsets: &'a [usize],
    },
}

impl Rows<'_> {
    #[inline(always)]
    pub(crate) fn row(&self, s: usize) -> *const i16 {
        match *self {
            Rows::Packed(b) => b[s * 2 * NR..].as_ptr(),
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

/// The threaded driver; buffers and geometry were checked.
fn run<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    [n, oc, oh, ow]: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
) {
    if w.is_depthwise() {
        depthwise::run(input, w, params, [n, oc, oh, ow], sink, avx2);
        return;
    }
    let [_, _, kh, kw] = w.shape;
    let padded = Padded::new(
        input.data,
        input.zero_point,
        input.shape,
        w.groups,
        w.pairs,
        params,
        [kh, kw],
    );
    let offsets = padded.offsets(w.pairs, params, [kh, kw]);
    let pixels = oh * ow;
    let steps = w.steps();
    // Rows of at least NR pixels are read in place, one block a run of one output row;
    // narrower outputs gather blocks across rows.
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
    // Enough blocks per task to reuse each weight panel from cache, few enough that a task's
    // input rows stay within L2.
    let per_task = ((128 * 1024) / (steps * 4 * NR).max(1))
        .clamp(1, 8)
        .min(blocks.len());
    let tasks_per_plane = blocks.len().div_ceil(per_task);
    let groups = w.groups;
    let tasks = n * groups * tasks_per_plane;
    let ocg = oc / groups;
    let tile_fn = tile_fn(avx2);
    let task = |packed: &mut Vec<i16>, task: usize| {
        let image = task / (groups * tasks_per_plane);
        let rest = task % (groups * tasks_per_plane);
        let (g, t) = (rest / tasks_per_plane, rest % tasks_per_plane);
        let mine = &blocks[t * per_task..blocks.len().min((t + 1) * per_task)];
        let xg = padded.group(image, g, w.pairs);
        if !direct {
            packed.resize(mine.len() * steps * 2 * NR + 2 * NR, 0);
            for (j, &block) in mine.iter().enumerate() {
                gather(
                    xg,
                    &padded,
                    &offsets,
                    ow,
                    block,
                    &mut packed[j * steps * 2 * NR..],
                );
            }
        }
        for p in 0..w.panels_per_group() {
            let rows = MR.min(ocg - p * MR);
            let co = g * ocg + p * MR;
            let panel = w.panel(g, p);
            for (j, &(p0, cols)) in mine.iter().enumerate() {
                let b = if direct {
                    let (oy, ox) = (p0 / ow, p0 % ow);
                    Rows::Indirect {
                        base: xg[padded.origin(oy, ox)..].as_ptr(),
                        offsets: &offsets,
                    }
                } else {
                    Rows::Packed(&packed[j * steps * 2 * NR..][..steps * 2 * NR])
                };
                // SAFETY: `panel` holds `steps * MR` words; gathered rows hold 2 * NR values
                // each; in-place rows start inside the padded planes and read at most 2 * NR
                // values, which the buffer's slack covers; `tile_fn` is the AVX2 kernel only
                // when AVX2 was detected.
                let tile = unsafe { tile_fn(steps, panel, b) };
                let place = Place {
                    channel: co,
                    at: (image * oc + co) * pixels + p0,
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
            .for_each_init(Vec::new, |packed, t| task(packed, t));
    } else {
        let mut packed = Vec::new();
        (0..tasks).for_each(|t| task(&mut packed, t));
    }
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

type TileFn = unsafe fn(usize, &[u32], Rows<'_>) -> Tile;

fn tile_fn(avx2: bool) -> TileFn {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        return avx2::tile;
    }
    let _ = avx2;
    scalar::tile
}

/// Gathers the rows of output pixels `p0..p0 + cols` of one image and group into `dst`
/// (`[step][NR][2]`): one fixed-width copy per run of pixels on one output row. Pixels past
/// `cols` hold garbage the epilogue discards; `dst` has `2 * NR` slack values at its end.
fn gather(
    xg: &[i16],
    padded: &Padded,
    offsets: &[usize],
    ow: usize,
    (p0, cols): (usize, usize),
    dst: &mut [i16],
) {
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
            let start = s * 2 * NR + 2 * c0;
            dst[start..start + 2 * NR].copy_from_slice(&xg[at + off..at + off + 2 * NR]);
        }
    }
}
