//! The blocked, parallel loop around the microkernels.
//!
//! Work is cut into tasks of (row block x column block) panels. A task walks the depth in
//! k-blocks; within one, each B sub-panel stays in L1 while the task's A block (sized to a
//! fraction of L2) is swept, and the microkernel adds into the task's i32 tiles. After the last
//! k-block each raw sum goes through the epilogue straight into the output, row by row. Tasks
//! write disjoint output tiles, so they run on rayon with no synchronisation.

use rayon::prelude::*;

use crate::PackedB;

/// Depth groups (32-bit words) per k-block: B sub-panels of 8-16 KiB that stay in L1.
const KC_GROUPS: usize = 128;
/// Bytes of packed A one task sweeps per B sub-panel (about a fifth of a 512 KiB L2).
const A_BLOCK_BYTES: usize = 96 * 1024;
/// Column panels per task.
const COL_BLOCK_PANELS: usize = 8;
/// Multiply-adds below which the call stays on the calling thread.
const PARALLEL_MACS: usize = 1 << 21;

/// An output pointer shared by tasks that write disjoint elements.
struct SharedOut<T>(*mut T);

// SAFETY: tasks only write disjoint elements through the pointer (see `run`), and `T: Send`.
unsafe impl<T: Send> Send for SharedOut<T> {}
// SAFETY: as above; no element is read or written by two tasks.
unsafe impl<T: Send> Sync for SharedOut<T> {}

impl<T> SharedOut<T> {
    fn ptr(&self) -> *mut T {
        self.0
    }
}

/// Computes `out[i, j0 + j] = epi(i, j0, sums)` row segment by row segment, where `sums[j]` is
/// `sum_k A[i, k] * B[k, j0 + j]` for packed `a` (`m` rows) and `b`.
///
/// `epi(i, j0, sums, out)` fills `out` (as long as `sums`, at most `nr` columns starting at
/// `j0`) of row `i`.
/// `out` must hold `m * b.n()` elements (checked by the public entry points).
pub(crate) fn run<T, F>(b: &PackedB, a: &[u32], m: usize, out: &mut [T], epi: F)
where
    T: Send,
    F: Fn(usize, usize, &[i32], &mut [T]) + Sync,
{
    assert_eq!(out.len(), m * b.n(), "output length");
    let imp = b.imp();
    let (mr, nr, n) = (imp.mr, imp.nr, b.n());
    let tile_len = mr * nr;
    let kg = b.k().div_ceil(imp.ku);
    assert_eq!(a.len(), m.div_ceil(mr) * kg * mr, "packed A length");
    let (row_panels, col_panels) = (m.div_ceil(mr), n.div_ceil(nr));
    let row_block = (A_BLOCK_BYTES / (mr * KC_GROUPS.min(kg) * 4)).max(1);
    let row_blocks = row_panels.div_ceil(row_block);
    let col_blocks = col_panels.div_ceil(COL_BLOCK_PANELS);
    let shared = SharedOut(out.as_mut_ptr());

    let task = |t: usize| {
        let (rb, cb) = (t / col_blocks, t % col_blocks);
        let rows = rb * row_block..((rb + 1) * row_block).min(row_panels);
        let cols = cb * COL_BLOCK_PANELS..((cb + 1) * COL_BLOCK_PANELS).min(col_panels);
        // Tiles of this task, `[column panel][row panel][mr * nr]`, summed over k-blocks.
        let mut acc = vec![0i32; rows.len() * cols.len() * tile_len];
        for g0 in (0..kg).step_by(KC_GROUPS) {
            let groups = KC_GROUPS.min(kg - g0);
            for (cj, pn) in cols.clone().enumerate() {
                let b_sub = &b.panel(pn)[g0 * nr * imp.ku..][..groups * nr * imp.ku];
                for (ri, pm) in rows.clone().enumerate() {
                    let a_sub = &a[pm * kg * mr + g0..][..(mr - 1) * kg + groups];
                    let tile = &mut acc[(cj * rows.len() + ri) * tile_len..][..tile_len];
                    let (a_ptr, b_ptr, c_ptr) = (a_sub.as_ptr(), b_sub.as_ptr(), tile.as_mut_ptr());
                    // SAFETY: `a_sub` holds `groups` words of each of `mr` rows `kg` apart,
                    // `b_sub` `groups * nr * ku` bytes, `tile` `mr * nr` values; `b.kernel()`
                    // was checked supported when B was packed, and its 7-bit variant is only
                    // chosen for weights in `-64..=63`.
                    unsafe { (imp.ukernel)(groups, a_ptr, kg, b_ptr, c_ptr) };
                }
            }
        }
        // The epilogue runs once all tiles are summed, row by row across the task's column
        // panels, so each output row is written in one contiguous run.
        for (ri, pm) in rows.clone().enumerate() {
            for i in 0..mr.min(m - pm * mr) {
                let row = pm * mr + i;
                for (cj, pn) in cols.clone().enumerate() {
                    let (col0, width) = (pn * nr, nr.min(n - pn * nr));
                    let tile = &acc[(cj * rows.len() + ri) * tile_len..][..tile_len];
                    // SAFETY: `row < m` and `col0 + width <= n`, so the segment lies inside
                    // `out` (`m * n` elements, borrowed mutably for the whole call); each
                    // (row, column) belongs to exactly one task and one tile, so no other
                    // reference to these elements exists while this one lives.
                    let dst = unsafe {
                        std::slice::from_raw_parts_mut(shared.ptr().add(row * n + col0), width)
                    };
                    epi(row, col0, &tile[i * nr..][..width], dst);
                }
            }
        }
    };

    let tasks = row_blocks * col_blocks;
    if m * n * b.k() >= PARALLEL_MACS && tasks > 1 && rayon::current_num_threads() > 1 {
        (0..tasks).into_par_iter().for_each(task);
    } else {
        (0..tasks).for_each(task);
    }
}
