//! The portable microkernel: four depth steps per word, u8 activations and i8 weights.

/// Rows per tile.
pub(crate) const MR: usize = 4;
/// Columns per tile.
pub(crate) const NR: usize = 8;

/// Portable microkernel; see [`crate::kernel::MicroKernel`] for the contract.
///
/// # Safety
/// As [`crate::kernel::MicroKernel`].
pub(crate) unsafe fn ukernel(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    // SAFETY: the caller guarantees each of the `MR` rows of `a` (`a_stride` words apart)
    // holds `kg` words, `b` `kg * NR * 4` bytes and each of the `MR` rows of `c` (`c_stride`
    // values apart) `NR` writable values; the packed buffers and the tile buffer do not
    // overlap, nor do the rows of `c` (`c_stride >= NR`).
    let (rows, b, mut c) = unsafe {
        (
            [0, 1, 2, 3].map(|i| std::slice::from_raw_parts(a.add(i * a_stride), kg)),
            std::slice::from_raw_parts(b, kg * NR * 4),
            [0, 1, 2, 3].map(|i| std::slice::from_raw_parts_mut(c.add(i * c_stride), NR)),
        )
    };
    let mut acc = [[0i32; NR]; MR];
    for (row, src) in acc.iter_mut().zip(&c) {
        row.copy_from_slice(src);
    }
    for (g, bg) in b.chunks_exact(NR * 4).enumerate() {
        for (row, a_row) in acc.iter_mut().zip(&rows) {
            let av = a_row[g].to_ne_bytes();
            for (cell, bv) in row.iter_mut().zip(bg.chunks_exact(4)) {
                let dot: i32 = (0..4)
                    .map(|t| i32::from(av[t]) * i32::from(bv[t] as i8))
                    .sum();
                *cell = cell.wrapping_add(dot);
            }
        }
    }
    for (dst, src) in c.iter_mut().zip(&acc) {
        dst.copy_from_slice(src);
    }
}
