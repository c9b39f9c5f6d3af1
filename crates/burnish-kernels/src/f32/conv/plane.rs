//! Convolutions with channels along the vectors (AVX-512). The blocked driver puts 16 output
//! pixels in a vector, so a 7x7 plane fills 49 of 64 lanes, and its 6 x 16 tile (six
//! accumulators) reads the input at arbitrary alignment. Here the input, padded once, is read
//! in place as the left operand of the weight's packed product
//! ([`crate::f32::linear::PackedLinear::forward_gathered`]: each output pixel's window origin
//! plus each reduction step's offset), 6 pixels x 64 channels per register tile with no lane
//! idle, and the epilogue writes the pixels x channels sums back as NCHW planes, a chunk of
//! pixels at a time so the sums stay in cache. Measured on Zen 4, one thread, best of four
//! alternations against the blocked driver: 512->512 3x3 on 7x7 3193 -> 2428 us, 64->64 3x3
//! on 56x56 2912 -> 2383 us (onnxruntime 2225), 256->64 1x1 on 56x56 1956 -> 1161 us; with
//! two threads, images and chunks run as tasks (the same three: 0.81-0.83x).

use rayon::prelude::*;

use super::driver::OutPtr;
use super::micro::clamp;
use super::padded::Padded;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights};
use crate::KernelError;

/// Output pixels per image from which a one-group convolution takes this path (smaller ones
/// take the few-pixel path).
const MIN_PIXELS: usize = super::few::FEW_PIXELS + 1;
/// Output pixels per image up to which it does.
const MAX_PIXELS: usize = 196;
/// A reduction from which any plane size takes this path when it is at least as long as the
/// output channels: the transposing epilogue costs about one step per output, which then
/// stays small beside the product (shorter ones go faster on the blocked driver's pixel lanes:
/// 1x1 64->128 on 12x160 1.07x, 3x3 16->64 on 56x56 1.02x its time).
const MIN_K: usize = 192;
/// Output channels from which it pays (a 64-channel panel per register tile).
const MIN_CHANNELS: usize = 64;
/// Output pixels whose sums one product computes before the epilogue writes them out, so the
/// sums stay in cache (larger planes go in equal chunks of about this many).
const CHUNK_PIXELS: usize = 256;
/// Sums from which the epilogue is split across threads.
const PARALLEL_VALUES: usize = 1 << 15;

/// True when `geo` (checked against `w`) runs on this path on this CPU (pointwise convs that
/// [`super::wide`] takes aside): a reduction of at least `max(co, MIN_K)` steps at any
/// plane size (see [`MIN_K`]); on planes up to [`MAX_PIXELS`] also where the blocked driver
/// would leave more of its 16 pixel lanes idle than this path leaves channel lanes (7x7 3x3
/// 512->512: 2960 -> 2330 us; 13x13 3x3 96->96 stays, 326 against 333). Measured on Zen 4,
/// one thread, best of four alternations.
pub(super) fn applies(geo: &Conv2dGeometry, w: &PackedConvWeights) -> bool {
    let Ok([oh, ow]) = geo.output() else {
        return false;
    };
    let (pixels, co) = (oh * ow, w.out_channels);
    if !crate::cpu::features().avx512() || w.groups != 1 || co < MIN_CHANNELS {
        return false;
    }
    pixels >= MIN_PIXELS && (w.k() >= co.max(MIN_K) || lanes_fuller(pixels, co))
}

/// True when a plane of `pixels` (up to [`MAX_PIXELS`]) leaves more of 16 pixel lanes idle
/// than `co` channels leave of 16 channel lanes.
pub(super) fn lanes_fuller(pixels: usize, co: usize) -> bool {
    let used = |n: usize| n as f32 / (16 * n.div_ceil(16)) as f32;
    pixels <= MAX_PIXELS && co >= MIN_CHANNELS && used(co) > used(pixels) + 0.03
}

/// The convolution of `x` into `y` (see [`super::conv2d`]), writing every output value; `geo`
/// was checked against `w`, `x` and the output, and [`applies`] holds. Images and large
/// planes go in chunks of pixels, one task each; a single chunk splits its product and
/// epilogue across threads instead.
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
    let co = w.out_channels;
    let linear = w.linear()?;
    let padded = Padded::new(x, geo, true);
    let steps = padded.offsets(geo);
    let origins: Vec<usize> = (0..pixels).map(|p| padded.origin(p / ow, p % ow)).collect();
    let threads = rayon::current_num_threads();
    let mut per_image = pixels.div_ceil(CHUNK_PIXELS);
    if per_image > 1 && !geo.batch.is_multiple_of(threads) {
        per_image = per_image.next_multiple_of(threads);
    }
    let chunk = pixels.div_ceil(per_image);
    let per_image = pixels.div_ceil(chunk);
    let tasks = geo.batch * per_image;
    let terms = w.terms(0, co);
    let failed = || KernelError::Conv("small-plane convolution: operand sizes do not match".into());
    if threads > 1 && tasks == 1 {
        let mut sums = vec![0f32; pixels * co];
        let xi = padded.channels_from(0);
        let parallel = sums.len() >= PARALLEL_VALUES;
        linear
            .forward_gathered(xi, (&origins, &steps), &mut sums, true)
            .ok_or_else(failed)?;
        let write = |b: usize| {
            let channels = b * BLOCK..co.min((b + 1) * BLOCK);
            // SAFETY: block `b` writes only its own channels' planes of the one image.
            unsafe { finish(&sums, co, channels, (0, pixels), (&terms, epi), y) }
        };
        if parallel {
            (0..co.div_ceil(BLOCK)).into_par_iter().for_each(write);
        } else {
            (0..co.div_ceil(BLOCK)).for_each(write);
        }
        return Ok(());
    }
    let task = |sums: &mut Vec<f32>, t: usize| -> Result<(), KernelError> {
        let (image, c) = (t / per_image, t % per_image);
        let rows = &origins[c * chunk..pixels.min((c + 1) * chunk)];
        sums.resize(rows.len() * co, 0.0);
        let xi = padded.channels_from(image * geo.in_channels);
        linear
            .forward_gathered(xi, (rows, &steps), sums, false)
            .ok_or_else(failed)?;
        // SAFETY: `image` lies inside `out`; this task alone writes its pixels `c * chunk..`.
        let yi = OutPtr(unsafe { y.at(image * co * pixels) });
        for b in 0..co.div_ceil(BLOCK) {
            let channels = b * BLOCK..co.min((b + 1) * BLOCK);
            // SAFETY: as above, for every channel of the image.
            unsafe { finish(sums, co, channels, (c * chunk, pixels), (&terms, epi), yi) };
        }
        Ok(())
    };
    if threads > 1 {
        (0..tasks)
            .into_par_iter()
            .try_for_each_init(Vec::new, |sums, t| task(sums, t))
    } else {
        let mut sums = Vec::new();
        (0..tasks).try_for_each(|t| task(&mut sums, t))
    }
}

/// Output channels the epilogue transposes at a time: one cache line of each pixel's sums (a
/// column walk would read lines `co` values apart, which with `co` a power of two all fall in
/// one L1 set).
const BLOCK: usize = 16;

/// Writes pixels `p0..` (as many as `sums` holds rows of `co`) of output channels
/// `channels` (planes of `pixels` values from `y`) from the pixels x channels `sums`
/// (`sums[p * co + j]` is the chunk's pixel `p` of channel `j`): the bias and affine terms,
/// then the residual when there is one, then the clamp; in AVX-512 registers
/// ([`super::transpose`]) where the CPU has them.
///
/// # Safety
/// `y` holds `co` planes of `pixels` values, `p0` plus the chunk's pixels fit in one,
/// `channels` lies in `0..co`, and nothing else touches the values written.
unsafe fn finish(
    sums: &[f32],
    co: usize,
    channels: std::ops::Range<usize>,
    (p0, pixels): (usize, usize),
    (terms, epi): (&super::Terms<'_>, &Epilogue),
    y: OutPtr,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx512() {
        for c in channels.clone().step_by(BLOCK) {
            let block = c..channels.end.min(c + BLOCK);
            // SAFETY: AVX-512 was checked; the rest is this function's contract.
            unsafe { super::transpose::planes(sums, co, block, (p0, pixels), terms, epi, y) };
        }
        return;
    }
    for (p, row) in sums.chunks_exact(co).enumerate() {
        for j in channels.clone() {
            // SAFETY: channel `j < co`, pixel `p0 + p < pixels` (this function's contract).
            let dst = unsafe { &mut *y.at(j * pixels + p0 + p) };
            let v = terms.apply(j, row[j]);
            *dst = clamp(if epi.accumulate { v + *dst } else { v }, epi);
        }
    }
}
