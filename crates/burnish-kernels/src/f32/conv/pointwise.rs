//! Pointwise convolutions (1x1 kernel, stride 1, no padding) on AVX-512, as the product
//! `W (out x in) X (in x pixels)` per image and group with `X` the input planes read in place
//! and the output written straight into its NCHW planes. A register tile is 6 output channels
//! by 64 pixels (24 `zmm` accumulators): each reduction step loads 64 pixels of one input
//! plane, broadcasts 6 weights and issues 24 FMAs, and the epilogue (bias, scale and shift,
//! residual, clamps) runs on the accumulators. The blocked driver's 6 x 16 tile issues one
//! load per 6 FMAs, and the channel-lane path transposes every output; both fall behind on
//! the short reductions of bottleneck and squeeze layers (Zen 4, one thread: 128->32 on 27x27
//! 161 -> 83 us against onnxruntime's 78; 64->256 on 56x56 1248 -> 1084, onnxruntime 1120).

use std::arch::x86_64::*;

use rayon::prelude::*;

use super::driver::OutPtr;
use super::micro::TileOut;
use super::zmm::finish;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights, Terms};
use crate::KernelError;

/// Output channels per register tile.
const RB: usize = 6;
/// Pixels per register tile (four vectors).
const NB: usize = 64;
/// Output pixels from which a pointwise conv takes this path.
const MIN_PIXELS: usize = 32;
/// Multiply-adds from which a call splits its tiles across threads.
const PARALLEL_MACS: usize = 1 << 17;

/// True when `geo` (checked against `w`) is a pointwise convolution this path runs on this CPU:
/// all but the small planes whose 64-pixel tiles would leave lanes idle that the channel-lane
/// path fills (one group: 512->2048 on 7x7 there 981 against 1184 us here).
pub(super) fn applies(geo: &Conv2dGeometry, w: &PackedConvWeights) -> bool {
    let pixels = geo.input[0] * geo.input[1];
    crate::cpu::features().avx512()
        && w.kernel == [1, 1]
        && geo.window.stride == [1, 1]
        && geo.window.pads == [0; 4]
        && geo.output().is_ok_and(|[oh, ow]| oh * ow == pixels)
        && pixels >= MIN_PIXELS
        && !(w.groups == 1 && super::plane::lanes_fuller(pixels, w.out_channels))
}

/// The convolution of `x` into `y` (see [`super::conv2d`]); `geo` was checked against `w`, `x`
/// and the output, and [`applies`] holds. Tasks take runs of 64-pixel panels of one image and
/// group, and all its output channels or, on planes of few panels, a band of them.
///
/// # Safety
/// `y` is valid for writes of `geo.output_len()` values (and reads of them with
/// `epi.accumulate`), untouched by anything else during the call.
pub(super) unsafe fn conv(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    y: OutPtr,
) -> Result<(), KernelError> {
    let pixels = geo.input[0] * geo.input[1];
    let (k, groups) = (w.k(), w.groups);
    let co_g = w.out_channels / groups;
    if w.raw.len() != w.out_channels * k || x.len() != geo.batch * groups * k * pixels {
        return Err(KernelError::Conv(
            "pointwise convolution: operand sizes do not match".into(),
        ));
    }
    let panels = pixels.div_ceil(NB);
    let planes = geo.batch * groups;
    let threads = rayon::current_num_threads();
    let parallel = threads > 1 && planes * pixels * k * co_g >= PARALLEL_MACS;
    let want = if parallel { 8 * threads } else { 1 };
    let per_task = panels.div_ceil(want.div_ceil(planes)).max(1);
    let chunks = panels.div_ceil(per_task);
    let row_groups = co_g.div_ceil(RB);
    let (base, extra) = (co_g / row_groups.max(1), co_g % row_groups.max(1));
    let first_row = |r: usize| r * base + r.min(extra);
    // Few panels (a small plane): the channels split into bands too.
    let per_band = row_groups.div_ceil(want.div_ceil(planes * chunks).clamp(1, row_groups.max(1)));
    let bands = row_groups.div_ceil(per_band.max(1));
    let task = |t: usize| {
        let (plane, rest) = (t / (chunks * bands), t % (chunks * bands));
        let (c, band) = (rest / bands, rest % bands);
        let (image, g) = (plane / groups, plane % groups);
        let xg = &x[plane * k * pixels..][..k * pixels];
        let a = &w.raw[g * co_g * k..][..co_g * k];
        for p in c * per_task..panels.min((c + 1) * per_task) {
            let j0 = p * NB;
            let width = NB.min(pixels - j0);
            for rg in band * per_band..row_groups.min((band + 1) * per_band) {
                let (r0, r1) = (first_row(rg), first_row(rg + 1));
                let ch = g * co_g + r0;
                let tile = Tile {
                    k,
                    a: a[r0 * k..].as_ptr(),
                    x: xg[j0..].as_ptr(),
                    pixels,
                    terms: w.terms(ch, r1 - r0),
                    // SAFETY: channel `ch`, pixel `j0` of `image` lies inside the output.
                    out: unsafe { y.at((image * w.out_channels + ch) * pixels + j0) },
                    width,
                };
                // SAFETY: rows `r0..r1` of the group's weights hold `k` values each; the
                // tile's `width` pixels of each of the `k` input planes lie inside `xg`; this
                // task alone writes channels `r0..r1` of the group at pixels `j0..j0 + width`.
                unsafe { tile.run(r1 - r0, epi) };
            }
        }
    };
    let tasks = planes * chunks * bands;
    if parallel && tasks > 1 {
        (0..tasks).into_par_iter().for_each(task);
    } else {
        (0..tasks).for_each(task);
    }
    Ok(())
}

/// One register tile: up to [`RB`] output channels by up to [`NB`] pixels.
struct Tile<'t> {
    k: usize,
    /// The first channel's weights (`k` values; the next channels follow, `k` apart).
    a: *const f32,
    /// Input plane 0 at the tile's first pixel (the next planes follow, `pixels` apart).
    x: *const f32,
    pixels: usize,
    terms: Terms<'t>,
    /// The first channel's output at the tile's first pixel.
    out: *mut f32,
    /// Valid pixels (`1..=NB`).
    width: usize,
}

impl Tile<'_> {
    /// Dispatches on the vectors the tile's pixels reach (a partial last one masked).
    ///
    /// # Safety
    /// AVX-512F and FMA; the pointers cover `rows` channels and `width` pixels as described
    /// on the fields.
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn run(&self, rows: usize, epi: &Epilogue) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            match (self.width.div_ceil(16), self.width.is_multiple_of(16)) {
                (1, _) => with_rows::<1, true>(self, rows, epi),
                (2, _) => with_rows::<2, true>(self, rows, epi),
                (3, _) => with_rows::<3, true>(self, rows, epi),
                (_, true) => with_rows::<4, false>(self, rows, epi),
                _ => with_rows::<4, true>(self, rows, epi),
            }
        }
    }
}

/// Dispatches on the tile's channels (`1..=RB`).
///
/// # Safety
/// As for [`Tile::run`], with `V` vectors reaching `width` pixels.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn with_rows<const V: usize, const MASKED: bool>(t: &Tile<'_>, rows: usize, epi: &Epilogue) {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        match rows {
            6 => reduce::<6, V, MASKED>(t, epi),
            5 => reduce::<5, V, MASKED>(t, epi),
            4 => reduce::<4, V, MASKED>(t, epi),
            3 => reduce::<3, V, MASKED>(t, epi),
            2 => reduce::<2, V, MASKED>(t, epi),
            _ => reduce::<1, V, MASKED>(t, epi),
        }
    }
}

/// `acc[r][v] += a[r][i] * x[i][16 v..]` over the `k` steps, then the epilogue per vector.
///
/// # Safety
/// As for [`Tile::run`], with `R` rows and `V` vectors.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn reduce<const R: usize, const V: usize, const MASKED: bool>(t: &Tile<'_>, epi: &Epilogue) {
    let last = t.width - 16 * (V - 1);
    let tail: __mmask16 = if last >= 16 { !0 } else { (1u16 << last) - 1 };
    // SAFETY: every read stays inside the weights' rows and the input planes' tile columns,
    // every write inside the tile's output (the contract).
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let ar: [*const f32; R] = std::array::from_fn(|r| t.a.add(r * t.k));
        let mut px = t.x;
        for i in 0..t.k {
            let mut b = [_mm512_setzero_ps(); V];
            for (v, bv) in b.iter_mut().enumerate() {
                *bv = if MASKED && v + 1 == V {
                    _mm512_maskz_loadu_ps(tail, px.add(16 * v))
                } else {
                    _mm512_loadu_ps(px.add(16 * v))
                };
            }
            for (row, a) in acc.iter_mut().zip(&ar) {
                let s = _mm512_set1_ps(*a.add(i));
                for (c, bv) in row.iter_mut().zip(&b) {
                    *c = _mm512_fmadd_ps(s, *bv, *c);
                }
            }
            px = px.add(t.pixels);
        }
        let per_vector: [[__m512; R]; V] =
            std::array::from_fn(|v| std::array::from_fn(|r| acc[r][v]));
        for (v, rows) in per_vector.into_iter().enumerate() {
            let cols = if v + 1 == V { last } else { 16 };
            let out = TileOut {
                ptr: t.out.add(16 * v),
                row_stride: t.pixels,
                rows: R,
                cols,
            };
            finish(rows, t.terms, out, epi);
        }
    }
}
