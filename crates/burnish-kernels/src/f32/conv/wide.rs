//! Convolutions with 64 output pixels per register tile (AVX-512), for every non-depthwise
//! convolution the channel-lane path ([`super::plane`]) does not take. A tile is 6 output
//! channels by 64 consecutive pixels of one output row (24 `zmm` accumulators); each reduction
//! step loads 64 input values at the tile's window origin plus the step's offset (the padded,
//! phase-split planes of [`Padded`], so stride 2 reads consecutive values too), broadcasts 6
//! weights from the unpacked `[out, in, kh, kw]` weights and issues 24 FMAs; the epilogue
//! (bias, scale and shift, residual, clamps) runs on the accumulators and stores straight into
//! the NCHW planes. A pointwise conv (1x1, stride 1, unpadded) reads the input planes in
//! place, its tiles running across output rows. The blocked driver's 6 x 16 tile issues one
//! load per 6 FMAs, and the channel-lane path transposes every output; both fall behind on
//! short reductions and few channels. Measured on Zen 4, one thread, best of three or four
//! alternations: 128->32 1x1 on 27x27 86 -> 56 us (onnxruntime 78), 64->256 1x1 on 56x56 1204
//! -> 1060 (onnxruntime 1120), the 3->64 3x3/2 stem on 224x224 755 -> 606 (onnxruntime 669),
//! 16->32 5x5 on 28x28 292 -> 230, 64->64 3x3 in 4 groups on 28x28 323 -> 218.

use std::arch::x86_64::*;

use rayon::prelude::*;

use super::driver::OutPtr;
use super::micro::TileOut;
use super::padded::Padded;
use super::zmm::finish;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights, Terms};
use crate::KernelError;

/// Output channels per register tile.
const RB: usize = 6;
/// Pixels per register tile (four vectors).
const NB: usize = 64;
/// Output pixels per image from which a convolution takes this path.
const MIN_PIXELS: usize = 32;
/// Multiply-adds from which a call splits its tiles across threads.
const PARALLEL_MACS: usize = 1 << 17;

/// True when `geo` (checked against `w`) runs on this path on this CPU: any non-depthwise
/// convolution of at least [`MIN_PIXELS`] output pixels per image except those the
/// channel-lane path runs faster: a long reduction (3x3 64->64 on 56x56 2306 us there, 2443
/// here) and, for pointwise convs, small planes whose lanes the channels fill better (512->2048
/// on 7x7 981 against 1184 us).
pub(super) fn applies(geo: &Conv2dGeometry, w: &PackedConvWeights) -> bool {
    let Ok([oh, ow]) = geo.output() else {
        return false;
    };
    if !crate::cpu::features().avx512() || w.is_depthwise() || oh * ow < MIN_PIXELS {
        return false;
    }
    if is_flat(geo) {
        !(w.groups == 1 && super::plane::lanes_fuller(oh * ow, w.out_channels))
    } else {
        !super::plane::applies(geo, w)
    }
}

/// The convolution of `x` into `y` (see [`super::conv2d`]); `geo` was checked against `w`, `x`
/// and the output, and [`applies`] holds. Tasks take runs of 64-pixel panels (a row's 64
/// pixels, or a flat plane's) of one image and group, and all its output channels or, on planes
/// of few panels, a band of them.
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
    let [oh, ow] = geo.output()?;
    let pixels = oh * ow;
    let (k, groups) = (w.k(), w.groups);
    let co_g = w.out_channels / groups;
    let flat = is_flat(geo);
    if w.raw.len() != w.out_channels * k || (flat && x.len() != geo.batch * groups * k * pixels) {
        return Err(KernelError::Conv(
            "convolution: weights or input do not match the geometry".into(),
        ));
    }
    let padded = (!flat).then(|| Padded::new(x, geo, true));
    // Rows whose windows lie back to back in the planes (a flat conv, a 1x1 or 2x2 one with
    // stride 2) run as one: tiles cross row ends, the addresses per pixel unchanged.
    let merged = padded
        .as_ref()
        .is_none_or(|p| oh == 1 || p.origin(1, 0) == ow);
    let (rows, row_len) = if merged { (1, pixels) } else { (oh, ow) };
    let steps: Vec<usize> = match &padded {
        None => (0..k).map(|i| i * pixels).collect(),
        Some(p) => p.offsets(geo),
    };
    let per_row = row_len.div_ceil(NB);
    let panels = rows * per_row;
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
    let cin_g = geo.in_per_group();
    let task = |t: usize| {
        let (plane, rest) = (t / (chunks * bands), t % (chunks * bands));
        let (c, band) = (rest / bands, rest % bands);
        let (image, g) = (plane / groups, plane % groups);
        let xg = match &padded {
            None => &x[plane * k * pixels..],
            Some(p) => p.channels_from(image * geo.in_channels + g * cin_g),
        };
        let a = &w.raw[g * co_g * k..][..co_g * k];
        for p in c * per_task..panels.min((c + 1) * per_task) {
            let (row, j0) = (p / per_row, p % per_row * NB);
            let width = NB.min(row_len - j0);
            let origin = padded.as_ref().map_or(j0, |pd| pd.origin(row, j0));
            debug_assert!(!merged || row == 0);
            for rg in band * per_band..row_groups.min((band + 1) * per_band) {
                let (r0, r1) = (first_row(rg), first_row(rg + 1));
                let ch = g * co_g + r0;
                let at = (image * w.out_channels + ch) * pixels + row * row_len + j0;
                let tile = Tile {
                    k,
                    a: a[r0 * k..].as_ptr(),
                    x: xg[origin..].as_ptr(),
                    steps: steps.as_ptr(),
                    pixels,
                    terms: w.terms(ch, r1 - r0),
                    // SAFETY: channel `ch`, pixel `(row, j0)` of `image` lies inside the output.
                    out: unsafe { y.at(at) },
                    width,
                };
                // SAFETY: rows `r0..r1` of the group's weights hold `k` values each; the
                // tile's `width` values from its origin plus each step's offset lie inside
                // `xg` (the padded planes, or the input planes of a flat conv); this task
                // alone writes channels `r0..r1` of the group at its `width` pixels.
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

/// True for a 1x1 kernel with stride 1 and no padding: the input planes, read in place, are the
/// operand as they are, and a tile may run across output rows.
fn is_flat(geo: &Conv2dGeometry) -> bool {
    geo.kernel == [1, 1]
        && geo.window.stride == [1, 1]
        && geo.window.pads == [0; 4]
        && geo.input[0] * geo.input[1] == geo.output().map_or(0, |[oh, ow]| oh * ow)
}

/// One register tile: up to [`RB`] output channels by up to [`NB`] pixels.
struct Tile<'t> {
    k: usize,
    /// The first channel's weights (`k` values; the next channels follow, `k` apart).
    a: *const f32,
    /// The input at the tile's first pixel's window origin.
    x: *const f32,
    /// Offset of each reduction step from `x`.
    steps: *const usize,
    /// Output pixels per channel plane.
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
        for i in 0..t.k {
            let px = t.x.add(*t.steps.add(i));
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
