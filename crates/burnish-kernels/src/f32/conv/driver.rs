//! The convolution driver: blocks of output pixels read from the padded input in place (or
//! gathered into panels when output rows are short and odd), tiles spread over threads.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::blocks::{Block, Layout, blocks, gather_in_bounds, k_chunks, pack};
use super::micro::{BRows, Partial, TileOut, tile, tile_pair};
use super::padded::Padded;
#[cfg(target_arch = "x86_64")]
use super::wide;
use super::{Conv2dGeometry, Epilogue, HALF, MR, NR, PackedConvWeights, depthwise, few, plane};
use crate::KernelError;
use crate::geometry::Conv2dParams;

/// A raw output pointer shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
pub(super) struct OutPtr(pub(super) *mut f32);
// SAFETY: every task writes a disjoint set of output tiles (distinct image, group, pixel block
// or panel), so sharing the base pointer across threads never creates overlapping accesses.
unsafe impl Send for OutPtr {}
// SAFETY: as above.
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The output value `offset` values past the base (a method, so closures capture the
    /// whole `Send` wrapper rather than its raw pointer field).
    ///
    /// # Safety
    /// `offset` must lie inside the output buffer.
    pub(super) unsafe fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: forwarded from this function's contract.
        unsafe { self.0.add(offset) }
    }
}

/// Convolves `x` (`[batch, in, h, w]`, row-major) with packed weights into `out`
/// (`[batch, out, oh, ow]`), applying `epi`. With `epi.accumulate`, `out` holds the residual.
/// Runs on the current rayon pool.
pub fn conv2d(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), KernelError> {
    check(x, geo, w, out.len())?;
    let geo = &along_rows(geo);
    if w.is_depthwise() {
        return depthwise::conv(x, geo, w, epi, out);
    }
    if few::applies(geo, w) {
        return few::conv(x, geo, w, epi, out);
    }
    #[cfg(target_arch = "x86_64")]
    if wide::applies(geo, w) {
        // SAFETY: `out` holds the checked number of initialized values.
        return unsafe { wide::conv(x, geo, w, epi, OutPtr(out.as_mut_ptr())) };
    }
    if plane::applies(geo, w) {
        // SAFETY: `out` holds the checked number of initialized values.
        return unsafe { plane::conv(x, geo, w, epi, OutPtr(out.as_mut_ptr())) };
    }
    // SAFETY: `out` holds the checked number of initialized values.
    unsafe { run(x, geo, w, epi, OutPtr(out.as_mut_ptr())) }
}

/// The blocked driver alone, whatever path [`conv2d`] would take (tests keep it covered on
/// CPUs where the other paths take nearly every shape).
#[cfg(test)]
pub(super) fn conv2d_blocked(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), KernelError> {
    check(x, geo, w, out.len())?;
    // SAFETY: `out` holds the checked number of initialized values.
    unsafe { run(x, &along_rows(geo), w, epi, OutPtr(out.as_mut_ptr())) }
}

/// [`conv2d`] into an uninitialized buffer, which holds the result (every value written) when
/// this returns `Ok`. `epi.accumulate` must be false: there is no residual to read.
pub fn conv2d_uninit(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [MaybeUninit<f32>],
) -> Result<(), KernelError> {
    if epi.accumulate {
        return Err(KernelError::Conv(
            "an uninitialized output cannot hold a residual".into(),
        ));
    }
    check(x, geo, w, out.len())?;
    let geo = &along_rows(geo);
    #[cfg(target_arch = "x86_64")]
    if !few::applies(geo, w) && wide::applies(geo, w) {
        // SAFETY: the wide path writes every value and reads none (no residual).
        return unsafe { wide::conv(x, geo, w, epi, OutPtr(out.as_mut_ptr().cast())) };
    }
    if !w.is_depthwise() && !few::applies(geo, w) && plane::applies(geo, w) {
        // SAFETY: the plane path writes every value and reads none (no residual).
        return unsafe { plane::conv(x, geo, w, epi, OutPtr(out.as_mut_ptr().cast())) };
    }
    if w.is_depthwise() || few::applies(geo, w) {
        out.iter_mut().for_each(|v| {
            v.write(0.0);
        });
        // SAFETY: every value was just initialized; `MaybeUninit<f32>` has `f32`'s layout.
        let out = unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) };
        return if w.is_depthwise() {
            depthwise::conv(x, geo, w, epi, out)
        } else {
            few::conv(x, geo, w, epi, out)
        };
    }
    // SAFETY: the driver only writes `out` (no residual is read) and writes every value.
    unsafe { run(x, geo, w, epi, OutPtr(out.as_mut_ptr().cast())) }
}

/// The GEMM-style driver for non-depthwise convolutions. A pointwise conv reads and writes each
/// plane as one run, so its blocks need not stop at row ends.
///
/// # Safety
/// `out` must be valid for writes of `geo.output_len()` values (and reads of them with
/// `epi.accumulate`), untouched by anything else during the call; `geo` was checked.
unsafe fn run(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: OutPtr,
) -> Result<(), KernelError> {
    let copied = geo.window.pads != [0; 4] || geo.window.stride != [1, 1];
    if !copied && geo.kernel == [1, 1] {
        let mut flat = *geo;
        flat.input = [1, geo.input[0] * geo.input[1]];
        // SAFETY: the flat geometry has the same input and output lengths and layouts.
        return unsafe { run_blocks(x, &flat, w, epi, out) };
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { run_blocks(x, geo, w, epi, out) }
}

/// The blocked driver proper (see [`run`]). Rows that are not a multiple of `HALF` wide end
/// in a partial block each (measured on Zen 4, that beats computing rows widened to the next
/// multiple of `HALF` into a scratch output and copying them out: 3->64 3x3/2 on 224x224 with
/// 111-wide rows 45 -> 54 GFLOP/s, 32->128 3x3 on 27x27 72 -> 77).
///
/// # Safety
/// As for [`run`].
unsafe fn run_blocks(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: OutPtr,
) -> Result<(), KernelError> {
    let [oh, ow] = geo.output()?;
    let pixels = oh * ow;
    let k = w.k();
    let layout = choose_layout(geo, w, ow);
    // Unpadded stride-1 rows are read in place too; the few blocks whose fixed-width reads
    // would pass the end of the input are gathered (bounds-checked) instead.
    let padded = Padded::new(x, geo, layout != Layout::Packed);
    let offsets = padded.offsets(geo);
    let max_offset = HALF + offsets.iter().max().copied().unwrap_or(0);
    let blocks = blocks(layout, &padded, oh, ow);
    let threads = rayon::current_num_threads();
    let planes = geo.batch * geo.groups;
    if planes == 0 || pixels == 0 {
        return Ok(());
    }
    let panels = w.panels_per_group();
    let chunks = k_chunks(k);
    let kc = chunks[0].len();
    // Up to 8 blocks per task, few enough that the input a task reads per chunk of `k`
    // (packed or in place) stays within L2; with several threads, at least three tasks per
    // thread, splitting the panels too when the blocks alone are too few.
    let want = if threads > 1 { 3 * threads } else { 1 };
    let mut per_task = ((128 * 1024) / (kc * NR * 4).max(1))
        .clamp(1, 8)
        .min(blocks.len());
    while per_task > 1 && planes * blocks.len().div_ceil(per_task) < want {
        per_task -= 1;
    }
    let block_tasks = blocks.len().div_ceil(per_task);
    let panel_chunks = want.div_ceil(planes * block_tasks).clamp(1, panels);
    let per_chunk = panels.div_ceil(panel_chunks);
    let panel_chunks = panels.div_ceil(per_chunk);
    let tasks = planes * block_tasks * panel_chunks;
    let (cin_g, out_g) = (geo.in_per_group(), geo.out_per_group());
    (0..tasks).into_par_iter().for_each_init(
        || (Vec::new(), Vec::new()),
        |(packed, sums): &mut (Vec<f32>, Vec<f32>), task| {
            let (plane, rest) = (
                task / (block_tasks * panel_chunks),
                task % (block_tasks * panel_chunks),
            );
            let (t, chunk) = (rest / panel_chunks, rest % panel_chunks);
            let (image, g) = (plane / geo.groups, plane % geo.groups);
            let mine = &blocks[t * per_task..blocks.len().min((t + 1) * per_task)];
            let xg = padded.channels_from(image * geo.in_channels + g * cin_g);
            let gathered = |block: &Block| {
                layout == Layout::Packed || block.hi.max(block.lo) + max_offset > xg.len()
            };
            if layout != Layout::Packed && mine.iter().any(gathered) {
                packed.resize(mine.len() * k * NR + NR, 0.0);
                for (j, block) in mine.iter().enumerate().filter(|(_, b)| gathered(b)) {
                    gather_in_bounds(xg, &offsets, block, &mut packed[j * k * NR..][..k * NR]);
                }
            }
            if layout == Layout::Packed {
                packed.resize(mine.len() * k * NR + NR, 0.0);
                for (j, block) in mine.iter().enumerate() {
                    pack(
                        xg,
                        &padded,
                        &offsets,
                        ow,
                        block,
                        &mut packed[j * k * NR..][..k * NR + NR],
                    );
                }
            }
            let mine_panels = chunk * per_chunk..panels.min((chunk + 1) * per_chunk);
            // With AVX-512, a packed block takes two weight panels per call (12 x 16 tile).
            let pairs = crate::cpu::features().avx512();
            let one = |p: usize,
                       two: bool,
                       j: usize,
                       block: &Block,
                       ks: &std::ops::Range<usize>,
                       partial: Option<(Partial, Partial)>| {
                let rows = (if two { 2 * MR } else { MR }).min(out_g - p * MR);
                let co = g * out_g + p * MR;
                let terms = w.terms(co, rows);
                let panel = &w.panel(g, p)[ks.start * MR..ks.end * MR];
                let packed_rows = || &packed[j * k * NR + ks.start * NR..][..ks.len() * NR + NR];
                let b = if gathered(block) {
                    BRows::Packed(packed_rows())
                } else {
                    debug_assert!(block.lo.max(block.hi) + max_offset <= xg.len());
                    BRows::Indirect {
                        lo: xg[block.lo..].as_ptr(),
                        hi: xg[block.hi..].as_ptr(),
                        offsets: &offsets[ks.clone()],
                    }
                };
                let tile_out = TileOut {
                    // SAFETY: in bounds: `(image, co, p0)` indexes `out`, checked in `check`.
                    ptr: unsafe { out.at((image * geo.out_channels + co) * pixels + block.p0) },
                    row_stride: pixels,
                    rows,
                    cols: block.cols,
                };
                // SAFETY: this task alone writes channels `co..co+rows`, pixels
                // `p0..p0+cols` of image `image`, a region inside `out`, and its own partial
                // sums; packed rows hold NR values; in-place halves read HALF values from a
                // window origin plus a tap offset, inside a phase row for `Runs` and at most
                // NR values past it for `Rows`, which the padded planes' slack covers; a pair
                // is only asked for on packed rows with AVX-512 and a next panel.
                unsafe {
                    if two {
                        let next = &w.panel(g, p + 1)[ks.start * MR..ks.end * MR];
                        let ab = (panel, next);
                        tile_pair(ks.len(), ab, packed_rows(), terms, tile_out, epi, partial);
                    } else {
                        tile(
                            ks.len(),
                            panel,
                            b,
                            terms,
                            tile_out,
                            epi,
                            partial.map(|p| p.0),
                        );
                    }
                }
            };
            let (start, end) = (mine_panels.start, mine_panels.end);
            let pair_at = |p: usize, block: &Block| pairs && p + 1 < end && gathered(block);
            if chunks.len() == 1 {
                // Blocks outer: a block's input rows stay in L1 while the weight panels
                // stream through in order.
                for (j, block) in mine.iter().enumerate() {
                    let mut p = start;
                    while p < end {
                        let two = pair_at(p, block);
                        one(p, two, j, block, &chunks[0], None);
                        p += 1 + usize::from(two);
                    }
                }
                return;
            }
            // A long reduction in chunks: each chunk of a weight panel stays in L1 across the
            // task's blocks, and the blocks' input for the chunk in L2 across the panels.
            let tile_len = MR * NR;
            sums.resize(mine_panels.len() * mine.len() * tile_len, 0.0);
            let sums = sums.as_mut_ptr();
            for (c, ks) in chunks.iter().enumerate() {
                let partial = |p: usize, j: usize| Partial {
                    // SAFETY: `(p - start, j)` indexes one of the task's tiles of sums.
                    sums: unsafe { sums.add(((p - start) * mine.len() + j) * tile_len) },
                    resume: c > 0,
                    finish: c + 1 == chunks.len(),
                };
                let mut p = start;
                while p < end {
                    let step = if pairs && p + 1 < end { 2 } else { 1 };
                    for (j, block) in mine.iter().enumerate() {
                        if pair_at(p, block) {
                            one(
                                p,
                                true,
                                j,
                                block,
                                ks,
                                Some((partial(p, j), partial(p + 1, j))),
                            );
                            continue;
                        }
                        for q in p..p + step {
                            one(q, false, j, block, ks, Some((partial(q, j), partial(q, j))));
                        }
                    }
                    p += step;
                }
            }
        },
    );
    Ok(())
}

/// How the blocks of a call read the input: in place when its rows split into whole blocks or
/// halves, else gathered into packed panels. With AVX-512 and at least four weight panels,
/// packed rows feed the 12 x 16 `zmm` tile, which beats reading in place with the AVX2 kernel
/// wherever that would waste lanes on row ends or read strided phases (measured on Zen 4:
/// 96->96 3x3 on 52x52 77 -> 90 GFLOP/s, 48->96 3x3/2 on 104x104 52 -> 82, 32->128 1x1 on 27x27
/// 39 -> 60); rows that split into whole halves (64->64 3x3 on 56x56: 94 in place, 85 packed)
/// and pointwise convs with few output channels (64->16 on 55x55) stay in place.
fn choose_layout(geo: &Conv2dGeometry, w: &PackedConvWeights, ow: usize) -> Layout {
    /// Panels (of `MR` output channels) from which packed rows pay with AVX-512.
    const PACK_PANELS: usize = 4;
    /// The same for pointwise convs (whose in-place reads are plain runs).
    const PACK_POINTWISE_PANELS: usize = 8;
    let natural = if ow.is_multiple_of(HALF) {
        Layout::Runs
    } else if ow >= NR {
        Layout::Rows
    } else {
        Layout::Packed
    };
    let panels = w.panels_per_group();
    if !crate::cpu::features().avx512() || panels < PACK_PANELS {
        return natural;
    }
    let pointwise = geo.kernel == [1, 1] && geo.window.stride == [1, 1];
    match pointwise {
        true if panels >= PACK_POINTWISE_PANELS => Layout::Packed,
        true => natural,
        false if natural == Layout::Runs => natural,
        false => Layout::Packed,
    }
}

/// A convolution down planes one column wide (a 1-D convolution exported as `[k, 1]` kernels on
/// `[h, 1]` planes, as tf2onnx writes Keras' `Conv1D`) as the same convolution along one row:
/// the input, weights and output have the same memory order, and the blocked driver reads a
/// row as a run instead of gathering one-pixel rows value by value (magika's 256->512 `[5, 1]`
/// conv on 512x1, per node at 1 thread on Zen 4: 7.6-8.0 -> 6.5-6.6 ms).
fn along_rows(geo: &Conv2dGeometry) -> Conv2dGeometry {
    let p = geo.window;
    let column = geo.input[1] == 1 && geo.kernel[1] == 1 && p.stride[1] == 1;
    if !column || p.pads[1] != 0 || p.pads[3] != 0 || geo.input[0] == 1 {
        return *geo;
    }
    let mut g = *geo;
    g.input = [1, geo.input[0]];
    g.kernel = [1, geo.kernel[0]];
    g.window = Conv2dParams {
        stride: [1, p.stride[0]],
        pads: [0, p.pads[0], 0, p.pads[2]],
        dilation: [1, p.dilation[0]],
    };
    g
}

fn check(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    out: usize,
) -> Result<(), KernelError> {
    if geo.groups == 0
        || !geo.in_channels.is_multiple_of(geo.groups)
        || w.groups != geo.groups
        || w.out_channels != geo.out_channels
        || w.in_per_group != geo.in_per_group()
        || w.kernel != geo.kernel
    {
        return Err(KernelError::Conv(format!(
            "weights [{}, {}, {}, {}] (groups {}) do not fit input channels {} in {} groups",
            w.out_channels,
            w.in_per_group,
            w.kernel[0],
            w.kernel[1],
            w.groups,
            geo.in_channels,
            geo.groups
        )));
    }
    let want_x = geo.batch * geo.in_channels * geo.input[0] * geo.input[1];
    if x.len() != want_x || out != geo.output_len()? {
        return Err(KernelError::Conv(format!(
            "buffers hold {} input / {out} output values, geometry needs {want_x} / {}",
            x.len(),
            geo.output_len()?
        )));
    }
    Ok(())
}
