//! The `MR x NR` microkernel: a tile of output channels x output pixels, reduced over `k`,
//! with the epilogue applied before the tile leaves registers.
//!
//! The AVX2+FMA kernel keeps the 6 x 16 tile in twelve `ymm` accumulators and issues 12 FMAs per
//! step of `k` (two loads of packed input, six broadcasts of weights). The portable kernel is
//! the same computation in plain Rust, used on CPUs without AVX2/FMA and as the test reference.

use super::{Epilogue, MR, NR};

/// Where a tile's results go: `rows x cols` values at `ptr`, rows `row_stride` apart.
#[derive(Clone, Copy)]
pub struct TileOut {
    /// First output value of the tile.
    pub ptr: *mut f32,
    /// Distance between output rows (channels), in elements.
    pub row_stride: usize,
    /// Valid rows (`<= MR`).
    pub rows: usize,
    /// Valid columns (`<= NR`).
    pub cols: usize,
}

/// Where the `NR` input values of each reduction step come from.
#[derive(Clone, Copy)]
pub enum BRows<'a> {
    /// Packed rows, `NR` apart: `b[k * NR..][..NR]`.
    Packed(&'a [f32]),
    /// Rows read in place: `base + offsets[k]`, `NR` readable values each (the padded input of
    /// a stride-1 convolution, where a row of the block is a contiguous run of one input line).
    Indirect {
        /// The first input value of the block for `k = 0`.
        base: *const f32,
        /// Offset of each reduction step's row from `base`.
        offsets: &'a [usize],
    },
}

impl BRows<'_> {
    #[inline(always)]
    fn row(&self, kk: usize) -> *const f32 {
        match *self {
            // SAFETY (of the later reads): callers guarantee `k * NR` packed values.
            BRows::Packed(b) => b[kk * NR..].as_ptr(),
            BRows::Indirect { base, offsets } => base.wrapping_add(offsets[kk]),
        }
    }
}

/// Computes one tile: `acc[r][j] = sum_k a[k*MR + r] * b_k[j]`, then
/// `out[r][j] = clamp(acc + bias[r] (+ out[r][j] when accumulating), min, max)`.
///
/// # Safety
/// `out.ptr` must be valid for reads and writes of `out.rows` rows of `out.cols` values,
/// `out.row_stride` apart, and no other thread may access them during the call; every row of
/// `b` for `k` steps must hold `NR` readable values.
pub unsafe fn tile(k: usize, a: &[f32], b: BRows<'_>, bias: &[f32], out: TileOut, epi: &Epilogue) {
    debug_assert!(a.len() >= k * MR && bias.len() >= out.rows);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked above); the caller upholds the rest.
            unsafe { avx2::tile(k, a, b, bias, out, epi) };
            return;
        }
    }
    // SAFETY: forwarded from this function's contract.
    let acc = unsafe { portable_acc(k, a, b) };
    // SAFETY: forwarded from this function's contract.
    unsafe { store(&acc, bias, out, epi) };
}

/// The plain-Rust accumulation of one tile.
///
/// # Safety
/// Every row of `b` for `k` steps must hold `NR` readable values.
pub unsafe fn portable_acc(k: usize, a: &[f32], b: BRows<'_>) -> [[f32; NR]; MR] {
    let mut acc = [[0f32; NR]; MR];
    for kk in 0..k {
        let av = &a[kk * MR..kk * MR + MR];
        // SAFETY: the caller guarantees NR readable values per row.
        let bv = unsafe { std::slice::from_raw_parts(b.row(kk), NR) };
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] += av[r] * bv[j];
            }
        }
    }
    acc
}

/// Scalar epilogue of an accumulated tile.
///
/// # Safety
/// As for [`tile`].
unsafe fn store(acc: &[[f32; NR]; MR], bias: &[f32], out: TileOut, epi: &Epilogue) {
    for r in 0..out.rows {
        // SAFETY: row `r < rows` of the output region the caller vouches for.
        let row =
            unsafe { std::slice::from_raw_parts_mut(out.ptr.add(r * out.row_stride), out.cols) };
        for (j, y) in row.iter_mut().enumerate() {
            let mut v = acc[r][j] + bias[r];
            if epi.accumulate {
                v += *y;
            }
            *y = clamp(v, epi);
        }
    }
}

/// Clamps to the epilogue's bounds; NaN stays NaN (as ONNX Relu and Clip do).
#[inline]
pub fn clamp(v: f32, epi: &Epilogue) -> f32 {
    if v < epi.min {
        epi.min
    } else if v > epi.max {
        epi.max
    } else {
        v
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{BRows, Epilogue, MR, NR, TileOut, store};

    /// AVX2+FMA tile.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; otherwise as for [`super::tile`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(
        k: usize,
        a: &[f32],
        b: BRows<'_>,
        bias: &[f32],
        out: TileOut,
        epi: &Epilogue,
    ) {
        let mut c = [_mm256_setzero_ps(); 2 * MR];
        let mut pa = a.as_ptr();
        for kk in 0..k {
            let pb = b.row(kk);
            // SAFETY: `a` holds `k * MR` values, each step reads MR and advances by as much;
            // each row of `b` holds NR readable values (the caller's contract).
            unsafe {
                let b0 = _mm256_loadu_ps(pb);
                let b1 = _mm256_loadu_ps(pb.add(8));
                for r in 0..MR {
                    let w = _mm256_broadcast_ss(&*pa.add(r));
                    c[2 * r] = _mm256_fmadd_ps(w, b0, c[2 * r]);
                    c[2 * r + 1] = _mm256_fmadd_ps(w, b1, c[2 * r + 1]);
                }
                pa = pa.add(MR);
            }
        }
        if out.rows == MR && out.cols == NR {
            let lo = _mm256_set1_ps(epi.min);
            let hi = _mm256_set1_ps(epi.max);
            for r in 0..MR {
                let bv = _mm256_set1_ps(bias[r]);
                // SAFETY: a full tile: row `r` has NR writable values at `ptr + r * row_stride`.
                unsafe {
                    let p = out.ptr.add(r * out.row_stride);
                    let mut v0 = _mm256_add_ps(c[2 * r], bv);
                    let mut v1 = _mm256_add_ps(c[2 * r + 1], bv);
                    if epi.accumulate {
                        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(p));
                        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(p.add(8)));
                    }
                    // Operand order keeps NaN: max/min return the second operand on NaN.
                    v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, v0));
                    v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, v1));
                    _mm256_storeu_ps(p, v0);
                    _mm256_storeu_ps(p.add(8), v1);
                }
            }
            return;
        }
        let mut acc = [[0f32; NR]; MR];
        for r in 0..MR {
            // SAFETY: `acc[r]` holds NR = 16 floats.
            unsafe {
                _mm256_storeu_ps(acc[r].as_mut_ptr(), c[2 * r]);
                _mm256_storeu_ps(acc[r].as_mut_ptr().add(8), c[2 * r + 1]);
            }
        }
        // SAFETY: forwarded from this function's contract.
        unsafe { store(&acc, bias, out, epi) };
    }
}
