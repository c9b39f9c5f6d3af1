//! Direct int8 convolution: no im2col, the microkernel reads the padded input in place.
//!
//! The design of the runtime's f32 convolution, in integers:
//!
//! * weights are packed once ([`DirectConv`]) into panels of [`MR`] = 6 output channels, zero
//!   points removed, two input channels per 32-bit word (i16 each);
//! * each call writes the input minus its zero point once as i16 (into a reused per-thread
//!   buffer, writing only the padding that kept pixels read), padded with zeros and (for
//!   strides above 1) split into phase planes, channels paired and interleaved
//!   (`layout.rs`), so that 16 consecutive output pixels of one channel pair at one kernel
//!   tap are 64 contiguous bytes;
//! * a 6 x 16 microkernel (`vpmaddwd`, exact for every u8/i8 code) keeps the tile in
//!   registers over the whole (pairs x kh x kw) reduction and hands exact i32 sums to the
//!   epilogue, which adds the bias, requantizes (onnxruntime's `MlasRequantizeOutput`, or a
//!   float bias plus an optional quantized residual), clamps (Relu/Clip) and writes NCHW rows;
//!   a last panel of 1-4 output channels runs a 2- or 4-row variant (`drive.rs` drives them).
//!
//! Outputs exactly 8 pixels wide read a block's two output rows in place, one per 32-byte half;
//! other outputs narrower than 16 pixels gather each block's rows (runs of several output rows)
//! into a reused buffer first. Depthwise convolutions (one input channel per group) use their own
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
//! point's code), the accumulators starting at `-x_zero_point * sum(w)` per output channel.
//! Results are identical; 8-bit weights keep the exact `vpmaddwd` kernel.
//!
//! Measured on the 2-core Zen 3 (AVX2+FMA, no VNNI), one thread, loaded machine, `cargo bench
//! -p burnish-kernels --bench madd` (6 x 16 tile loops in L1, multiply-adds per second):
//! `vpmaddwd` 37-46 G, `vpmaddubsw` 58-60 G, f32 FMA 27 G. So on this CPU the exact int8
//! kernel's ceiling is about 1.5x the f32 one, and 7-bit weights raise it to about 2.1x.

mod depthwise;
mod drive;
mod epilogue;
#[cfg(all(test, target_arch = "x86_64"))]
mod epilogue_tests;
mod interleave;
mod lane;
mod layout;
#[cfg(test)]
mod narrow_tests;
mod pack;
mod scalar;
#[cfg(test)]
mod test_cases;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod vnni;

pub use epilogue::{OutputScale, Requantize, Residual};
pub use pack::{DirectConv, MAX_DIRECT_DEPTH};

use crate::pack::{Activation, check_len};
use crate::{Conv2dParams, KernelError, QuantOutput, QuantizedInput};
use drive::{Kernel, drive};
use epilogue::{I32Sink, OutPtr, QuantSink, Sink};

/// Output channels per tile.
pub(crate) const MR: usize = 6;
/// Output pixels per tile.
pub(crate) const NR: usize = 16;

/// Exact sums of one tile.
pub(crate) type Tile = [[i32; NR]; MR];

/// Where the 16 pixels x lanes of each reduction step come from: pixels 0..8 and 8..16, 32
/// bytes each.
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a, T> {
    /// Gathered rows, 64 bytes apart.
    Packed(&'a [T]),
    /// Rows read in place: pixels 0..8 at `base + offsets[step]`, pixels 8..16 `half` values
    /// further (the same row, or the next output row of an 8-pixel-wide output).
    Indirect {
        base: *const T,
        offsets: &'a [usize],
        half: usize,
    },
}

impl<T> Rows<'_, T> {
    /// Where step `s`'s pixels 0..8 and 8..16 start.
    #[inline(always)]
    pub(crate) fn halves(&self, s: usize) -> (*const T, *const T) {
        match *self {
            Rows::Packed(b) => {
                let p = b[s * 64 / size_of::<T>()..].as_ptr();
                (p, p.wrapping_add(32 / size_of::<T>()))
            }
            Rows::Indirect {
                base,
                offsets,
                half,
            } => {
                let p = base.wrapping_add(offsets[s]);
                (p, p.wrapping_add(half))
            }
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
    conv2d_direct_on(input, w, params, out, Isa::detected())
}

/// The instruction sets [`conv2d_direct`] may use (tests run each route on one CPU).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Isa {
    pub avx2: bool,
    pub vnni: bool,
}

impl Isa {
    fn detected() -> Self {
        Self {
            avx2: avx2_detected(),
            vnni: avx2_detected() && crate::cpu::features().vnni_256(),
        }
    }
}

/// [`conv2d_direct`] on the kernels `isa` allows.
pub(crate) fn conv2d_direct_on<A: Activation, Z: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out: DirectOutput<'_, Z>,
    isa: Isa,
) -> Result<[usize; 4], KernelError> {
    // A 1-D convolution along H of a one-column input (`[N, C, H, 1]`, kernel `[kh, 1]`, as
    // TensorFlow exports Conv1D) is the same memory as one along W: run it that way, so that
    // blocks of 16 output pixels are read in place instead of gathered a pixel per row.
    let [n, c, h, wd] = input.shape;
    let [pt, pl, pb, pr] = params.pads;
    if wd == 1
        && h > 1
        && w.shape[3] == 1
        && pl == 0
        && pr == 0
        && let Some(swapped) = w.spatial_swapped()
    {
        let along_w = Conv2dParams {
            stride: [1, params.stride[0]],
            pads: [0, pt, 0, pb],
            dilation: [1, params.dilation[0]],
        };
        let flat = QuantizedInput {
            shape: [n, c, 1, h],
            ..input
        };
        let [n, oc, _, oh] = conv2d_direct_on(flat, &swapped, &along_w, out, isa)?;
        return Ok([n, oc, oh, 1]);
    }
    // A pointwise convolution (1x1, stride 1, no padding) maps output pixels to input pixels
    // one to one: run each plane as one row, so that 16-pixel blocks span output rows.
    if h > 1
        && w.shape[2] == 1
        && w.shape[3] == 1
        && params.stride == [1, 1]
        && params.pads == [0; 4]
    {
        let flat = QuantizedInput {
            shape: [n, c, 1, h * wd],
            ..input
        };
        let [n, oc, _, _] = conv2d_direct_on(flat, w, params, out, isa)?;
        return Ok([n, oc, h, wd]);
    }
    let out_shape = params.output_dims(input.shape, w.shape, w.groups)?;
    check_len("input", n * c * h * wd, input.data.len())?;
    let len = out_shape.iter().product();
    match out {
        DirectOutput::I32(o) => {
            check_len("out", len, o.len())?;
            run(
                input,
                w,
                params,
                out_shape,
                &I32Sink(OutPtr(o.as_mut_ptr())),
                isa,
            );
        }
        DirectOutput::U8(o, requant) => quant(input, w, params, out_shape, o, requant, isa)?,
        DirectOutput::I8(o, requant) => quant(input, w, params, out_shape, o, requant, isa)?,
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
    isa: Isa,
) -> Result<(), KernelError> {
    check_len("out", out_shape.iter().product(), out.len())?;
    requant.check::<O>(out_shape[1], out.len())?;
    let sink = QuantSink {
        out: OutPtr(out.as_mut_ptr()),
        requant,
    };
    run(input, w, params, out_shape, &sink, isa);
    Ok(())
}

/// The threaded driver; buffers and geometry were checked. Picks the `vpdpbusd` kernel (u8
/// quads) on a CPU with 256-bit VNNI, the `vpmaddubsw` one when the weights fit 7 bits and the
/// CPU has AVX2, else the `vpmaddwd` one.
fn run<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    out_shape: [usize; 4],
    sink: &dyn Sink,
    isa: Isa,
) {
    let avx2 = isa.avx2;
    if w.is_depthwise() {
        depthwise::run(input, w, params, out_shape, sink, avx2);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(q) = &w.quads {
        let tiles: Option<[TileFn<u8>; 3]> = if isa.vnni {
            Some([
                vnni::tile_quads::<2>,
                vnni::tile_quads::<4>,
                vnni::tile_quads::<MR>,
            ])
        } else if avx2 && q.seven_bit {
            Some([
                avx2::tile_quads::<2>,
                avx2::tile_quads::<4>,
                avx2::tile_quads::<MR>,
            ])
        } else {
            None
        };
        if let Some(tiles) = tiles {
            let kernel = Kernel {
                units: q.count,
                steps: w.quad_steps(),
                panel: &|g, p| w.quad_panel(g, p),
                tiles,
                sums: Some((&q.sums, input.zero_point.to_offset_u8())),
            };
            drive::<A, u8>(input, w, params, out_shape, sink, avx2, kernel);
            return;
        }
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
