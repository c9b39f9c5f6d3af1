//! The convolution input as the microkernel reads it: padding materialized and, for strided
//! convolutions, each channel split into phase planes, in a per-thread scratch buffer.

use std::cell::Cell;

use rayon::prelude::*;

use super::{Conv2dGeometry, NR};

thread_local! {
    /// The last padded buffer this thread released, reused by its next convolution.
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Scratch buffers above this many values are freed rather than kept for the next call.
const KEEP_MAX: usize = 4 << 20;

/// The input with its padding materialized (zeros) and, for strided convolutions, each channel
/// split into phase planes (`phase[a][b][y][x] = padded[y*sh + a][x*sw + b]`), so that every
/// convolution reads runs of consecutive values, as a stride-1 one does. Only the phase planes
/// some kernel tap reads are stored (one of four for a 1x1 stride-2 conv). Ends with `NR` values
/// of slack so fixed-width reads past a run stay inside the buffer.
///
/// An unpadded stride-1 input is used in place when the caller's reads never leave a row.
pub(crate) struct Padded<'a> {
    store: Store<'a>,
    /// Height and width of one phase plane.
    phase: [usize; 2],
    /// Values per channel (all its stored phase planes).
    channel: usize,
    /// Stored slot of phase `(a, b)` at `a * stride_w + b`, `usize::MAX` when not stored.
    slots: Vec<usize>,
    stride_w: usize,
}

enum Store<'a> {
    Borrowed(&'a [f32]),
    Owned(Vec<f32>),
}

impl<'a> Padded<'a> {
    /// Pads and phase-splits `x`; `in_place_ok` allows reading an unpadded stride-1 input
    /// directly (the caller keeps its reads inside `x`: the buffer has no slack then).
    pub(crate) fn new(x: &'a [f32], geo: &Conv2dGeometry, in_place_ok: bool) -> Self {
        let [h, w] = geo.input;
        let [sh, sw] = geo.window.stride;
        let [pt, pl] = geo.window.pad_begin();
        let ph = h + pt + geo.window.pad_end()[0];
        let pw = w + pl + geo.window.pad_end()[1];
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.window.dilation;
        let rows_used: Vec<bool> = (0..sh)
            .map(|a| (0..kh).any(|ky| ky * dh % sh == a))
            .collect();
        let cols_used: Vec<bool> = (0..sw)
            .map(|b| (0..kw).any(|kx| kx * dw % sw == b))
            .collect();
        let mut slots = vec![usize::MAX; sh * sw];
        let mut used = Vec::new();
        for a in (0..sh).filter(|&a| rows_used[a]) {
            for b in (0..sw).filter(|&b| cols_used[b]) {
                slots[a * sw + b] = used.len();
                used.push((a, b));
            }
        }
        let plane = phase[0] * phase[1];
        let channel = used.len() * plane;
        let unpadded = geo.window.pad_begin() == [0, 0] && geo.window.pad_end() == [0, 0];
        if in_place_ok && unpadded && geo.window.stride == [1, 1] {
            return Self {
                store: Store::Borrowed(x),
                phase,
                channel,
                slots,
                stride_w: sw,
            };
        }
        let planes = geo.batch * geo.in_channels;
        let len = planes * channel + NR;
        let mut data = SCRATCH.with(Cell::take);
        // Values kept from the last call are overwritten below (every stored plane is written
        // in full); only growth is zero-filled.
        if data.len() > len {
            data.truncate(len);
        } else {
            data.resize(len, 0.0);
        }
        data[planes * channel..].fill(0.0);
        // Phase column j of phase (a, b) holds padded column j * sw + b, input column
        // j * sw + b - pl: inside the input for j in first..end, starting at input column start.
        let cols: Vec<(usize, usize, usize, usize)> = used
            .iter()
            .map(|&(a, b)| {
                let first = pl.saturating_sub(b).div_ceil(sw).min(phase[1]);
                let end = (pl + w).saturating_sub(b).div_ceil(sw).min(phase[1]);
                let end = end.max(first);
                let start = (first * sw + b).saturating_sub(pl).min(w);
                (a, first, end, start)
            })
            .collect();
        // At least 16 Ki values per task; with several threads, an even split once the whole
        // fill is 8 Ki values or more (a serial fill left the other threads idle at batch 1).
        let threads = rayon::current_num_threads();
        let min_planes = if threads > 1 && planes * channel >= 8 * 1024 {
            planes.div_ceil(threads)
        } else {
            (16 * 1024 / channel.max(1)).max(1)
        };
        data[..planes * channel]
            .par_chunks_mut(channel.max(1))
            .zip(x.par_chunks(h * w))
            .with_min_len(min_planes)
            .for_each(|(dst, src)| {
                let plan = Fill {
                    cols: &cols,
                    plane,
                    phase,
                    stride: [sh, sw],
                    pad_top: pt,
                    input: [h, w],
                };
                plan.run(dst, src);
            });
        Self {
            store: Store::Owned(data),
            phase,
            channel,
            slots,
            stride_w: sw,
        }
    }

    /// Offset of every reduction step `(channel, ky, kx)` from a block's base.
    pub(crate) fn offsets(&self, geo: &Conv2dGeometry) -> Vec<usize> {
        let [kh, kw] = geo.kernel;
        let [dh, dw] = geo.window.dilation;
        let [sh, sw] = geo.window.stride;
        let [qh, qw] = self.phase;
        let taps: Vec<usize> = (0..kh)
            .flat_map(|ky| (0..kw).map(move |kx| (ky * dh, kx * dw)))
            .map(|(y, x)| {
                let slot = self.slots[(y % sh) * self.stride_w + x % sw];
                slot * qh * qw + (y / sh) * qw + x / sw
            })
            .collect();
        let mut offsets = Vec::with_capacity(geo.in_per_group() * taps.len());
        for ci in 0..geo.in_per_group() {
            offsets.extend(taps.iter().map(|t| ci * self.channel + t));
        }
        offsets
    }

    /// Offset of output pixel `(oy, ox)`'s window origin within its channel's phase planes.
    pub(crate) fn origin(&self, oy: usize, ox: usize) -> usize {
        oy * self.phase[1] + ox
    }

    /// The planes from input channel `first` (counted over all images) on, with the slack.
    pub(crate) fn channels_from(&self, first: usize) -> &[f32] {
        let data = match &self.store {
            Store::Borrowed(x) => x,
            Store::Owned(v) => v.as_slice(),
        };
        &data[first * self.channel..]
    }
}

/// How one input channel becomes its stored phase planes.
struct Fill<'c> {
    /// Per stored phase: its row phase and the columns that hold input values (see `new`).
    cols: &'c [(usize, usize, usize, usize)],
    plane: usize,
    phase: [usize; 2],
    stride: [usize; 2],
    pad_top: usize,
    input: [usize; 2],
}

impl Fill<'_> {
    /// Writes every value of `dst`, one channel's planes, from `src`, its input plane; with
    /// AVX2 where the CPU has it.
    fn run(&self, dst: &mut [f32], src: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU must support AVX2.
            #[target_feature(enable = "avx2")]
            unsafe fn wide(fill: &Fill<'_>, dst: &mut [f32], src: &[f32]) {
                // SAFETY: this function's contract: the CPU supports AVX2.
                fill.body(unsafe { avx2::Avx2::new() }, dst, src)
            }
            if crate::cpu::features().avx2_fma() {
                // SAFETY: the CPU supports AVX2 (checked above).
                unsafe { wide(self, dst, src) };
                return;
            }
        }
        self.body(Portable, dst, src)
    }

    #[inline(always)]
    fn body<R: RowOps>(&self, ops: R, dst: &mut [f32], src: &[f32]) {
        match self.stride[1] {
            1 => self.rows(ops, dst, src, |d, s, at| ops.copy(d, &s[at..at + d.len()])),
            2 => self.rows(ops, dst, src, |d, s, at| ops.every2(d, s, at)),
            3 => self.rows(ops, dst, src, |d, s, at| every::<3>(d, &s[at..])),
            4 => self.rows(ops, dst, src, |d, s, at| every::<4>(d, &s[at..])),
            sw => self.rows(ops, dst, src, |d, s, at| {
                for (d, s) in d.iter_mut().zip(s[at..].iter().step_by(sw)) {
                    *d = *s;
                }
            }),
        }
    }

    /// The fill with `gather(dst, line, at)` moving one input line's values from `line[at]` on
    /// into a phase row.
    #[inline(always)]
    fn rows<R: RowOps>(
        &self,
        ops: R,
        dst: &mut [f32],
        src: &[f32],
        gather: impl Fn(&mut [f32], &[f32], usize),
    ) {
        let ([sh, _], [h, w], pt) = (self.stride, self.input, self.pad_top);
        for (plane_dst, &(a, first, end, start)) in dst.chunks_exact_mut(self.plane).zip(self.cols)
        {
            for (r, row) in plane_dst.chunks_exact_mut(self.phase[1]).enumerate() {
                let y = r * sh + a;
                if y < pt || y - pt >= h {
                    ops.zero(row);
                    continue;
                }
                let line = &src[(y - pt) * w..(y - pt + 1) * w];
                let (head, rest) = row.split_at_mut(first);
                let (mid, tail) = rest.split_at_mut(end - first);
                ops.zero(head);
                ops.zero(tail);
                gather(mid, line, start);
            }
        }
    }
}

/// The row operations of a fill; the rows are short (tens of values), so the AVX2 versions
/// avoid `memcpy`/`memset` calls and finish with masked moves.
trait RowOps: Copy {
    /// `dst[..] = 0`.
    fn zero(self, dst: &mut [f32]);
    /// `dst[..] = src[..]` (equal lengths).
    fn copy(self, dst: &mut [f32], src: &[f32]);
    /// `dst[t] = src[at + 2 t]`; `src` holds at least `at + 2 (dst.len() - 1) + 1` values.
    fn every2(self, dst: &mut [f32], src: &[f32], at: usize);
}

#[derive(Clone, Copy)]
struct Portable;

impl RowOps for Portable {
    fn zero(self, dst: &mut [f32]) {
        dst.fill(0.0);
    }
    fn copy(self, dst: &mut [f32], src: &[f32]) {
        dst.copy_from_slice(src);
    }
    fn every2(self, dst: &mut [f32], src: &[f32], at: usize) {
        every::<2>(dst, &src[at..]);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::RowOps;

    /// Proof that the CPU supports AVX2: made only where that was checked.
    #[derive(Clone, Copy)]
    pub(super) struct Avx2(());

    impl Avx2 {
        /// # Safety
        /// The CPU must support AVX2.
        #[inline(always)]
        pub(super) unsafe fn new() -> Self {
            Self(())
        }
    }

    /// Copies `n < 8` values with 4-, 2- and 1-wide moves (masked stores are slow on AMD).
    ///
    /// # Safety
    /// `s` readable and `d` writable for `n` values; AVX2 available.
    #[inline(always)]
    unsafe fn copy_short(d: *mut f32, s: *const f32, n: usize) {
        // SAFETY: each move stays within the `n` values the caller vouches for.
        unsafe {
            let mut i = 0;
            if n - i >= 4 {
                _mm_storeu_ps(d.add(i), _mm_loadu_ps(s.add(i)));
                i += 4;
            }
            if n - i >= 2 {
                d.add(i)
                    .cast::<u64>()
                    .write_unaligned(s.add(i).cast::<u64>().read_unaligned());
                i += 2;
            }
            if n > i {
                *d.add(i) = *s.add(i);
            }
        }
    }

    impl RowOps for Avx2 {
        #[inline(always)]
        fn zero(self, dst: &mut [f32]) {
            let (n, p) = (dst.len(), dst.as_mut_ptr());
            let mut i = 0;
            // SAFETY: the token proves AVX2; every store stays inside `dst`.
            unsafe {
                let z = _mm256_setzero_ps();
                while i + 8 <= n {
                    _mm256_storeu_ps(p.add(i), z);
                    i += 8;
                }
                const ZEROS: [f32; 8] = [0.0; 8];
                copy_short(p.add(i), ZEROS.as_ptr(), n - i);
            }
        }

        #[inline(always)]
        fn copy(self, dst: &mut [f32], src: &[f32]) {
            assert_eq!(dst.len(), src.len());
            let (n, d, s) = (dst.len(), dst.as_mut_ptr(), src.as_ptr());
            let mut i = 0;
            // SAFETY: the token proves AVX2; loads and stores stay inside the equal-length
            // slices.
            unsafe {
                while i + 8 <= n {
                    _mm256_storeu_ps(d.add(i), _mm256_loadu_ps(s.add(i)));
                    i += 8;
                }
                copy_short(d.add(i), s.add(i), n - i);
            }
        }

        #[inline(always)]
        fn every2(self, dst: &mut [f32], src: &[f32], at: usize) {
            let n = dst.len();
            assert!(n == 0 || src.len() > at + 2 * (n - 1));
            let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
            let mut t = 0;
            // SAFETY: the token proves AVX2; each vector step reads src[at+2t..at+2t+16]
            // (checked against its length) and writes dst[t..t+8] (t + 8 <= n); the last
            // vector reads src[at+2t0-1..at+2t0+15] (both ends checked) and writes
            // dst[t0..n]; the scalar tail stays within the asserted bounds.
            unsafe {
                while t + 8 <= n && at + 2 * t + 16 <= src.len() {
                    let a = _mm256_loadu_ps(s.add(at + 2 * t));
                    let b = _mm256_loadu_ps(s.add(at + 2 * t + 8));
                    // [a0 a2 b0 b2 | a4 a6 b4 b6], then 64-bit lanes reordered 0, 2, 1, 3.
                    let e = _mm256_shuffle_ps::<0x88>(a, b);
                    let e = _mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(e));
                    _mm256_storeu_ps(d.add(t), _mm256_castpd_ps(e));
                    t += 8;
                }
                // The last 8 as the odd lanes of a load one value earlier, when that stays
                // inside `src`; it may rewrite some values with equal ones.
                if t < n && n >= 8 && at + 2 * (n - 8) >= 1 && at + 2 * (n - 8) + 15 <= src.len() {
                    let t0 = n - 8;
                    let a = _mm256_loadu_ps(s.add(at + 2 * t0 - 1));
                    let b = _mm256_loadu_ps(s.add(at + 2 * t0 + 7));
                    let o = _mm256_shuffle_ps::<0xDD>(a, b);
                    let o = _mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(o));
                    _mm256_storeu_ps(d.add(t0), _mm256_castpd_ps(o));
                    t = n;
                }
                while t < n {
                    *d.add(t) = *s.add(at + 2 * t);
                    t += 1;
                }
            }
        }
    }
}

/// `dst[t] = src[t * S]`; `src` holds at least `(dst.len() - 1) * S + 1` values.
#[inline(always)]
fn every<const S: usize>(dst: &mut [f32], src: &[f32]) {
    let (chunks, rest) = src.as_chunks::<S>();
    let n = dst.len().min(chunks.len());
    for (d, c) in dst[..n].iter_mut().zip(chunks) {
        *d = c[0];
    }
    if let (Some(d), Some(&s)) = (dst.get_mut(n), rest.first()) {
        *d = s;
    }
}

impl Drop for Padded<'_> {
    fn drop(&mut self) {
        if let Store::Owned(v) = &mut self.store
            && v.capacity() <= KEEP_MAX
        {
            let v = std::mem::take(v);
            SCRATCH.with(|c| c.set(v));
        }
    }
}
