//! The portable microkernel: four depth steps per word, u8 activations and i8 weights.

/// Rows per tile.
pub(crate) const MR: usize = 4;
/// Columns per tile.
pub(crate) const NR: usize = 8;

/// Portable microkernel; see [`crate::kernel::MicroKernel`] for the contract.
///
/// # Safety
/// As [`crate::kernel::MicroKernel`].
pub(crate) unsafe fn ukernel(kg: usize, a: *const u32, b: *const u8, c: *mut i32) {
    // SAFETY: the caller guarantees `a` holds `kg * MR` words, `b` `kg * NR * 4` bytes and `c`
    // `MR * NR` writable values; the three do not overlap (packed buffers vs a tile buffer).
    let (a, b, c) = unsafe {
        (
            std::slice::from_raw_parts(a, kg * MR),
            std::slice::from_raw_parts(b, kg * NR * 4),
            std::slice::from_raw_parts_mut(c, MR * NR),
        )
    };
    let mut acc = [[0i32; NR]; MR];
    for (row, src) in acc.iter_mut().zip(c.chunks_exact(NR)) {
        row.copy_from_slice(src);
    }
    for (ag, bg) in a.chunks_exact(MR).zip(b.chunks_exact(NR * 4)) {
        for (row, &aw) in acc.iter_mut().zip(ag) {
            let av = aw.to_le_bytes();
            for (cell, bv) in row.iter_mut().zip(bg.chunks_exact(4)) {
                let dot: i32 = (0..4)
                    .map(|t| i32::from(av[t]) * i32::from(bv[t] as i8))
                    .sum();
                *cell = cell.wrapping_add(dot);
            }
        }
    }
    for (dst, src) in c.chunks_exact_mut(NR).zip(&acc) {
        dst.copy_from_slice(src);
    }
}
