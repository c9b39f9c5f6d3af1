//! VNNI microkernels: `vpdpbusd` multiplies u8 by i8 and adds groups of four into i32 lanes
//! without intermediate saturation, so results are exact with bytes packed four to a word.

use std::arch::x86_64::{
    __m256i, __m512i, _mm256_dpbusd_avx_epi32, _mm256_loadu_si256, _mm256_set1_epi32,
    _mm256_setzero_si256, _mm256_storeu_si256, _mm512_add_epi32, _mm512_dpbusd_epi32,
    _mm512_loadu_si512, _mm512_set1_epi32, _mm512_setzero_si512, _mm512_storeu_si512,
};

/// Rows per tile, AVX-VNNI.
pub(super) const MR_256: usize = 6;
/// Columns per tile, AVX-VNNI (two 8-lane vectors).
pub(super) const NR_256: usize = 16;
/// Rows per tile, AVX-512 VNNI.
pub(super) const MR_512: usize = 8;
/// Columns per tile, AVX-512 VNNI (two 16-lane vectors).
pub(super) const NR_512: usize = 32;

/// # Safety
/// As [`crate::kernel::MicroKernel`]; the CPU supports AVX2 and AVX-VNNI (the kernel table only
/// hands it out when both were detected).
#[target_feature(enable = "avx2,avxvnni")]
pub(super) unsafe fn ukernel_avxvnni(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    let mut acc = [[_mm256_setzero_si256(); 2]; MR_256];
    for (i, row) in acc.iter_mut().enumerate() {
        // SAFETY: row `i < MR_256` of the tile; two 8-lane loads read its 16 values.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m256i>();
            *row = [_mm256_loadu_si256(cp), _mm256_loadu_si256(cp.add(1))];
        }
    }
    for g in 0..kg {
        // SAFETY: `g < kg`, so bytes `g * 4 * NR_256 .. + 64` of `b` are in bounds.
        let (b0, b1) = unsafe {
            let bp = b.add(g * 4 * NR_256).cast::<__m256i>();
            (_mm256_loadu_si256(bp), _mm256_loadu_si256(bp.add(1)))
        };
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `i < MR_256` of `a` holds `kg > g` words.
            let aw = unsafe { a.add(i * a_stride + g).read() };
            let av = _mm256_set1_epi32(aw as i32);
            row[0] = _mm256_dpbusd_avx_epi32(row[0], av, b0);
            row[1] = _mm256_dpbusd_avx_epi32(row[1], av, b1);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row `i < MR_256` of the tile; two 8-lane stores fill its 16 values.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m256i>();
            _mm256_storeu_si256(cp, row[0]);
            _mm256_storeu_si256(cp.add(1), row[1]);
        }
    }
}

/// # Safety
/// As [`crate::kernel::MicroKernel`]; the CPU supports AVX-512F and AVX-512 VNNI (the kernel
/// table only hands it out when both were detected).
#[target_feature(enable = "avx512f,avx512vnni")]
pub(super) unsafe fn ukernel_avx512vnni(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    let mut acc = [[_mm512_setzero_si512(); 2]; MR_512];
    for (i, row) in acc.iter_mut().enumerate() {
        // SAFETY: row `i < MR_512` of the tile; two 16-lane loads read its 32 values.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m512i>();
            *row = [_mm512_loadu_si512(cp), _mm512_loadu_si512(cp.add(1))];
        }
    }
    for g in 0..kg {
        // SAFETY: `g < kg`, so bytes `g * 4 * NR_512 .. + 128` of `b` are in bounds.
        let (b0, b1) = unsafe {
            let bp = b.add(g * 4 * NR_512).cast::<__m512i>();
            (_mm512_loadu_si512(bp), _mm512_loadu_si512(bp.add(1)))
        };
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `i < MR_512` of `a` holds `kg > g` words.
            let aw = unsafe { a.add(i * a_stride + g).read() };
            let av = _mm512_set1_epi32(aw as i32);
            row[0] = _mm512_dpbusd_epi32(row[0], av, b0);
            row[1] = _mm512_dpbusd_epi32(row[1], av, b1);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row `i < MR_512` of the tile; two 16-lane stores fill its 32 values.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m512i>();
            _mm512_storeu_si512(cp, row[0]);
            _mm512_storeu_si512(cp.add(1), row[1]);
        }
    }
}

/// Row 0 of an AVX-512 VNNI tile (a matrix-vector product: the full tile would compute seven
/// padding rows for nothing). Even and odd depth groups go to separate accumulators, so four
/// `vpdpbusd` chains are in flight.
///
/// # Safety
/// As [`ukernel_avx512vnni`], for row 0 of `a` and `c` only.
#[target_feature(enable = "avx512f,avx512vnni")]
pub(super) unsafe fn ukernel_avx512vnni_row1(
    kg: usize,
    a: *const u32,
    _a_stride: usize,
    b: *const u8,
    c: *mut i32,
    _c_stride: usize,
) {
    let cp = c.cast::<__m512i>();
    // SAFETY: row 0 of the tile: two 16-lane loads read its 32 values.
    let mut acc = unsafe {
        [
            _mm512_loadu_si512(cp),
            _mm512_loadu_si512(cp.add(1)),
            _mm512_setzero_si512(),
            _mm512_setzero_si512(),
        ]
    };
    let mut g = 0;
    while g + 2 <= kg {
        // SAFETY: `g + 1 < kg`: words `g`, `g + 1` of row 0 of `a` and bytes
        // `g * 4 * NR_512 .. + 256` of `b` are in bounds.
        unsafe {
            let bp = b.add(g * 4 * NR_512).cast::<__m512i>();
            let a0 = _mm512_set1_epi32(a.add(g).read() as i32);
            let a1 = _mm512_set1_epi32(a.add(g + 1).read() as i32);
            acc[0] = _mm512_dpbusd_epi32(acc[0], a0, _mm512_loadu_si512(bp));
            acc[1] = _mm512_dpbusd_epi32(acc[1], a0, _mm512_loadu_si512(bp.add(1)));
            acc[2] = _mm512_dpbusd_epi32(acc[2], a1, _mm512_loadu_si512(bp.add(2)));
            acc[3] = _mm512_dpbusd_epi32(acc[3], a1, _mm512_loadu_si512(bp.add(3)));
        }
        g += 2;
    }
    if g < kg {
        // SAFETY: `g < kg`, as above for one group.
        unsafe {
            let bp = b.add(g * 4 * NR_512).cast::<__m512i>();
            let a0 = _mm512_set1_epi32(a.add(g).read() as i32);
            acc[0] = _mm512_dpbusd_epi32(acc[0], a0, _mm512_loadu_si512(bp));
            acc[1] = _mm512_dpbusd_epi32(acc[1], a0, _mm512_loadu_si512(bp.add(1)));
        }
    }
    // SAFETY: row 0 of the tile: two 16-lane stores fill its 32 values.
    unsafe {
        _mm512_storeu_si512(cp, _mm512_add_epi32(acc[0], acc[2]));
        _mm512_storeu_si512(cp.add(1), _mm512_add_epi32(acc[1], acc[3]));
    }
}
