//! `MaxPool` on 8-bit codes (NCHW planes), the int8 graph's pool: the maximum commutes with
//! dequantization, so pooling the codes is exact.
//!
//! u8 codes compare unsigned, i8 codes signed; the padding holds the type's smallest code, so
//! it never wins (every window holds an input element). Per output row, the window's input rows
//! reduce into one padded row, then the row's columns: stride 1 as shifted reads, stride 2 after
//! an even/odd split of the row (two contiguous phases), larger strides through a scalar split.
//! Each reduction keeps all of a chunk's taps in registers and stores once (64 bytes with
//! AVX-512 BW, the tail masked, so short rows take one instruction per tap; 32 with AVX2).
//! Planes run on the thread pool when the output is large.

use rayon::prelude::*;

use crate::f32::pool::PoolAxis;

#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
use x86::{reduce_avx2, reduce_avx512, split2_avx512};

/// Outputs from which planes run in parallel.
const PARALLEL_OUTPUTS: usize = 1 << 15;

/// Taps reduced in registers at a time (wider windows fold in the maximum so far).
const MAX_TAPS: usize = 16;

/// Max-pools `planes` planes of `rows.input x cols.input` codes into `out`
/// (`planes x rows.output x cols.output`); `signed` compares the bytes as i8 codes. `None`
/// when a size is inconsistent, a window has a zero extent, or an output window holds no input
/// element.
pub fn max_pool2d_u8(
    x: &[u8],
    planes: usize,
    rows: PoolAxis,
    cols: PoolAxis,
    signed: bool,
    out: &mut [u8],
) -> Option<()> {
    pool_on(Isa::probe(), x, planes, rows, cols, signed, out)
}

/// [`max_pool2d_u8`] on the loops of `isa` (tests run every route the CPU has).
fn pool_on(
    isa: Isa,
    x: &[u8],
    planes: usize,
    rows: PoolAxis,
    cols: PoolAxis,
    signed: bool,
    out: &mut [u8],
) -> Option<()> {
    let (ins, outs) = (rows.input * cols.input, rows.output * cols.output);
    let fits = |a: &PoolAxis| {
        a.kernel > 0
            && a.stride > 0
            && a.dilation > 0
            && (0..a.output).all(|o| (0..a.kernel).any(|t| tap(a, o, t).is_some()))
    };
    if x.len() != planes.checked_mul(ins)? || out.len() != planes.checked_mul(outs)? {
        return None;
    }
    if !fits(&rows) || !fits(&cols) {
        return None;
    }
    if outs == 0 {
        return Some(());
    }
    let job = Job {
        rows,
        cols,
        signed,
        isa,
    };
    let init = || Row::new(cols, signed);
    let run = |row: &mut Row, (src, dst): (&[u8], &mut [u8])| job.plane(src, dst, row);
    if rayon::current_num_threads() > 1 && out.len() >= PARALLEL_OUTPUTS {
        x.par_chunks_exact(ins.max(1))
            .zip(out.par_chunks_exact_mut(outs))
            .for_each_init(init, run);
    } else {
        let mut row = init();
        x.chunks_exact(ins.max(1))
            .zip(out.chunks_exact_mut(outs))
            .for_each(|p| run(&mut row, p));
    }
    Some(())
}

/// Input index of tap `t` of output `o`, when inside the input.
fn tap(a: &PoolAxis, o: usize, t: usize) -> Option<usize> {
    (o * a.stride + t * a.dilation)
        .checked_sub(a.pad)
        .filter(|&i| i < a.input)
}

/// One output row's scratch: the padded reduced input row, and its column phases.
struct Row {
    padded: Vec<u8>,
    phases: Vec<u8>,
    phase_len: usize,
}

impl Row {
    fn new(cols: PoolAxis, signed: bool) -> Self {
        let span = cols.output.saturating_sub(1) * cols.stride
            + cols.kernel.saturating_sub(1) * cols.dilation
            + 1;
        let len = span.max(cols.pad + cols.input);
        let phase_len = len.div_ceil(cols.stride);
        let low = if signed { 0x80 } else { 0 };
        Self {
            padded: vec![low; phase_len * cols.stride],
            phases: vec![low; phase_len * cols.stride],
            phase_len,
        }
    }
}

/// The vector instructions the row loops use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    fn probe() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let f = crate::cpu::features();
            if f.avx512() && f.avx512bw {
                return Self::Avx512;
            }
            if f.avx2_fma() {
                return Self::Avx2;
            }
        }
        Self::Portable
    }
}

/// One pool's geometry and route.
#[derive(Clone, Copy)]
struct Job {
    rows: PoolAxis,
    cols: PoolAxis,
    signed: bool,
    isa: Isa,
}

impl Job {
    fn plane(&self, src: &[u8], dst: &mut [u8], row: &mut Row) {
        match self.isa {
            Isa::Portable => self.rows_of(src, dst, row),
            // SAFETY: `probe` saw AVX2.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { self.rows_avx2(src, dst, row) },
            // SAFETY: `probe` saw AVX-512 F and BW.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { self.rows_avx512(src, dst, row) },
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn rows_avx2(&self, src: &[u8], dst: &mut [u8], row: &mut Row) {
        self.rows_of(src, dst, row);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,avx512f,avx512bw")]
    fn rows_avx512(&self, src: &[u8], dst: &mut [u8], row: &mut Row) {
        self.rows_of(src, dst, row);
    }

    #[inline(always)]
    fn rows_of(&self, src: &[u8], dst: &mut [u8], row: &mut Row) {
        let (rows, cols) = (self.rows, self.cols);
        let w = cols.input;
        let mut from = [std::ptr::null(); MAX_TAPS + 1];
        for (oy, line) in dst.chunks_exact_mut(cols.output).enumerate() {
            let down = row.padded[cols.pad..].as_mut_ptr();
            let mut ys = (0..rows.kernel)
                .filter_map(|t| tap(&rows, oy, t))
                .peekable();
            let mut first = true;
            while ys.peek().is_some() {
                let mut k = 0;
                if !first {
                    from[k] = down.cast_const();
                    k += 1;
                }
                for y in ys.by_ref().take(MAX_TAPS) {
                    from[k] = src[y * w..][..w].as_ptr();
                    k += 1;
                }
                // SAFETY: every source holds `w` bytes (input rows, or the padded row's
                // interior, which `down` is).
                unsafe { self.reduce(down, w, &from[..k]) };
                first = false;
            }
            self.across(row, line, &mut from);
        }
    }

    /// The maximum over each output's window of columns of `row.padded`.
    #[inline(always)]
    fn across(&self, row: &mut Row, line: &mut [u8], from: &mut [*const u8; MAX_TAPS + 1]) {
        let cols = self.cols;
        let (s, n) = (cols.stride, row.phase_len);
        let taps: &[u8] = match s {
            1 => &row.padded,
            2 => {
                let (even, odd) = row.phases.split_at_mut(n);
                self.split2(&row.padded, even, odd);
                &row.phases
            }
            _ => {
                for (i, &v) in row.padded.iter().enumerate() {
                    row.phases[(i % s) * n + i / s] = v;
                }
                &row.phases
            }
        };
        let (len, out) = (line.len(), line.as_mut_ptr());
        let mut t = 0;
        while t < cols.kernel {
            let mut k = 0;
            if t > 0 {
                from[k] = out.cast_const();
                k += 1;
            }
            for t in t..cols.kernel.min(t + MAX_TAPS) {
                let at = t * cols.dilation;
                from[k] = taps[(at % s) * n + at / s..][..len].as_ptr();
                k += 1;
            }
            // SAFETY: every phase slice holds `len` bytes, and so does `line`.
            unsafe { self.reduce(out, len, &from[..k]) };
            t += MAX_TAPS;
        }
    }

    /// `dst[i] = max over sources of src[i]`: each chunk's sources in registers, one store.
    /// A source may be `dst` itself (each chunk is read before it is written).
    ///
    /// # Safety
    /// `dst` and every source hold `len` bytes; `from` is not empty.
    #[inline(always)]
    unsafe fn reduce(&self, dst: *mut u8, len: usize, from: &[*const u8]) {
        #[cfg(target_arch = "x86_64")]
        match self.isa {
            // SAFETY: `Isa::Avx512` was probed; the caller vouches for the buffers.
            Isa::Avx512 => return unsafe { reduce_avx512(dst, len, from, self.signed) },
            // SAFETY: as above, for AVX2.
            Isa::Avx2 => return unsafe { reduce_avx2(dst, len, from, self.signed) },
            Isa::Portable => {}
        }
        // SAFETY: the caller vouches for the buffers.
        unsafe { reduce_scalar(dst, 0, len, from, self.signed) }
    }

    /// `even[j] = src[2j]`, `odd[j] = src[2j + 1]`.
    #[inline(always)]
    fn split2(&self, src: &[u8], even: &mut [u8], odd: &mut [u8]) {
        let n = even.len().min(odd.len()).min(src.len() / 2);
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx512 {
            // SAFETY: `Isa::Avx512` was probed; `n` fits all three buffers.
            return unsafe { split2_avx512(src, even, odd, n) };
        }
        for j in 0..n {
            even[j] = src[2 * j];
            odd[j] = src[2 * j + 1];
        }
    }
}

/// [`Job::reduce`] one byte at a time, from byte `from_byte`.
///
/// # Safety
/// As for [`Job::reduce`].
#[inline(always)]
unsafe fn reduce_scalar(
    dst: *mut u8,
    from_byte: usize,
    len: usize,
    from: &[*const u8],
    signed: bool,
) {
    let flip = if signed { 0x80 } else { 0 };
    for i in from_byte..len {
        // SAFETY: `i < len`, within every buffer.
        let m = from.iter().map(|p| unsafe { *p.add(i) } ^ flip).max();
        unsafe { *dst.add(i) = m.unwrap_or(0) ^ flip };
    }
}
