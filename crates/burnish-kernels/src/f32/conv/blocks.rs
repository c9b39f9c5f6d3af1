//! How output pixels group into blocks of `NR` for the microkernel: the block layouts, the
//! reduction's chunks, and the gathers that pack a block's receptive fields into a panel.

use super::padded::Padded;
use super::{HALF, NR};

/// How blocks of `NR` output pixels map onto the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Output rows a multiple of `HALF` wide: blocks of consecutive pixels, each half a run of
    /// one output row, read in place.
    Runs,
    /// Rows at least `NR` wide: blocks within one row, read in place.
    Rows,
    /// Narrow rows: each block's receptive fields gathered into a packed panel.
    Packed,
}

/// A block of output pixels: first pixel, count, and the window origins of its two halves.
#[derive(Clone, Copy)]
pub(super) struct Block {
    pub(super) p0: usize,
    pub(super) cols: usize,
    pub(super) lo: usize,
    pub(super) hi: usize,
}

/// Reductions longer than this are split into chunks (see [`k_chunks`]).
const MAX_UNSPLIT_K: usize = 512;

/// Target length of one chunk of a split reduction: a weight panel's chunk (`MR x KC`) stays in
/// L1 and eight blocks' input for it (`KC x NR` each) in L2.
const KC: usize = 256;

/// The reduction `0..k` as one range, or, past [`MAX_UNSPLIT_K`], as near-equal chunks of
/// about [`KC`] steps.
pub(super) fn k_chunks(k: usize) -> Vec<std::ops::Range<usize>> {
    if k <= MAX_UNSPLIT_K {
        return std::iter::once(0..k).collect();
    }
    let n = k.div_ceil(KC);
    let len = k.div_ceil(n);
    (0..k).step_by(len).map(|s| s..k.min(s + len)).collect()
}

/// The output pixel blocks of one plane for `layout`.
pub(super) fn blocks(layout: Layout, padded: &Padded<'_>, oh: usize, ow: usize) -> Vec<Block> {
    let pixels = oh * ow;
    let at = |p: usize| padded.origin(p / ow, p % ow);
    match layout {
        Layout::Runs => (0..pixels)
            .step_by(NR)
            .map(|p0| {
                let cols = NR.min(pixels - p0);
                let hi = if cols > HALF { at(p0 + HALF) } else { at(p0) };
                Block {
                    p0,
                    cols,
                    lo: at(p0),
                    hi,
                }
            })
            .collect(),
        Layout::Rows => (0..oh)
            .flat_map(|oy| {
                (0..ow).step_by(NR).map(move |ox| {
                    let lo = padded.origin(oy, ox);
                    Block {
                        p0: oy * ow + ox,
                        cols: NR.min(ow - ox),
                        lo,
                        hi: lo + HALF,
                    }
                })
            })
            .collect(),
        Layout::Packed => (0..pixels)
            .step_by(NR)
            .map(|p0| Block {
                p0,
                cols: NR.min(pixels - p0),
                lo: 0,
                hi: 0,
            })
            .collect(),
    }
}

/// Gathers the receptive fields of output pixels `p0..p0+cols` of one image and group into
/// `dst` (`[k][NR]`): one fixed-width copy per run of pixels on one output row. Columns past
/// `cols` hold garbage that the tile store discards; `dst` has `NR` slack values at its end.
#[inline(always)]
fn pack_block(
    xg: &[f32],
    padded: &Padded<'_>,
    offsets: &[usize],
    ow: usize,
    &Block { p0, cols, .. }: &Block,
    dst: &mut [f32],
) {
    let (runs, n) = crate::runs::row_runs::<NR>(p0, cols, ow, |oy, ox| padded.origin(oy, ox));
    let runs = &runs[..n];
    for (row, &off) in offsets.iter().enumerate() {
        for &(c0, at) in runs {
            let start = row * NR + c0;
            dst[start..start + NR].copy_from_slice(&xg[at + off..at + off + NR]);
        }
    }
}

/// A block of an in-place layout gathered into a packed panel (`[k][NR]`) with every read
/// checked against the end of `xg` (values past it, which only discarded columns read, are 0).
pub(super) fn gather_in_bounds(xg: &[f32], offsets: &[usize], block: &Block, dst: &mut [f32]) {
    for (row, &off) in offsets.iter().enumerate() {
        let line = &mut dst[row * NR..][..NR];
        for (half, base) in [(0, block.lo), (HALF, block.hi)] {
            for c in 0..HALF {
                line[half + c] = xg.get(base + off + c).copied().unwrap_or(0.0);
            }
        }
    }
}

/// [`pack_block`], compiled with AVX2 where the CPU has it (the copies are `NR` wide).
pub(super) fn pack(
    xg: &[f32],
    padded: &Padded<'_>,
    offsets: &[usize],
    ow: usize,
    block: &Block,
    dst: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn wide(
            xg: &[f32],
            padded: &Padded<'_>,
            offsets: &[usize],
            ow: usize,
            block: &Block,
            dst: &mut [f32],
        ) {
            pack_block(xg, padded, offsets, ow, block, dst)
        }
        if crate::cpu::features().avx2_fma() {
            // SAFETY: the CPU supports AVX2 (checked above).
            unsafe { wide(xg, padded, offsets, ow, block, dst) };
            return;
        }
    }
    pack_block(xg, padded, offsets, ow, block, dst)
}
