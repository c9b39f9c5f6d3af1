//! The blocked, parallel loop around the microkernels.
//!
//! Work is cut into tasks of (row block x column block) panels. A task walks the depth in
//! k-blocks; within one, each B sub-panel stays in L1 while the task's A block (sized to a
//! fraction of L2) is swept, and the microkernel adds into the task's i32 tiles. After the last
//! k-block each output row of the task is gathered from its tiles into one run and goes through
//! the epilogue straight into the output. Tasks write disjoint output tiles, so they run on
//! rayon with no synchronisation; each thread reuses one tile buffer across tasks and calls.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::PackedB;

/// Depth groups (32-bit words) per k-block: B sub-panels of 16-32 KiB that stay in L1 (256
/// measured ~5% faster than 128 at 1024^3 on Zen 3, one thread).
const KC_GROUPS: usize = 256;
/// Bytes of packed A one task sweeps per B sub-panel (about a fifth of a 512 KiB L2).
const A_BLOCK_BYTES: usize = 96 * 1024;
/// Bytes of i32 tiles one task accumulates at most (bounds the per-thread tile buffer when a
/// shallow depth lets many row panels share one A block).
const ACC_BYTES: usize = 256 * 1024;
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

thread_local! {
    /// Per-thread sums, kept between tasks so that large accumulators are not mapped and
    /// faulted in afresh on every call.
    static SCRATCH: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// Computes `out[i, j0 + j] = epi(i, j0, sums)` row segment by row segment, where `sums[j]` is
/// `init[j0 + j] + sum_k A[i, k] * B[k, j0 + j]` (wrapping) for packed `a` (`m` rows) and `b`;
/// `init` holds one start value per column.
///
/// `epi(i, j0, sums, out)` fills `out` (as long as `sums`, at most `COL_BLOCK_PANELS * nr`
/// columns starting at `j0`) of row `i`; it may overwrite `sums`.
/// `out` must hold `m * b.n()` elements (checked by the public entry points).
pub(crate) fn run<T, F>(b: &PackedB, a: &[u32], m: usize, init: &[i32], out: &mut [T], epi: F)
where
    T: Send,
    F: Fn(usize, usize, &mut [i32], &mut [T]) + Sync,
{
    assert_eq!(out.len(), m * b.n(), "output length");
    assert_eq!(init.len(), b.n(), "start values");
    if m == 0 {
        return;
    }
    let imp = b.imp();
    let (mr, nr, n) = (imp.mr, imp.nr, b.n());
    let tile_len = mr * nr;
    let kg = b.k().div_ceil(imp.ku);
    assert_eq!(a.len(), m.div_ceil(mr) * kg * mr, "packed A length");
    let (row_panels, col_panels) = (m.div_ceil(mr), n.div_ceil(nr));
    let row_block_max = (A_BLOCK_BYTES / (mr * KC_GROUPS.min(kg) * 4))
        .min(ACC_BYTES / (COL_BLOCK_PANELS * tile_len * 4))
        .max(1);
    let col_blocks = col_panels.div_ceil(COL_BLOCK_PANELS);
    let threads = rayon::current_num_threads();
    let parallel = m * n * b.k() >= PARALLEL_MACS && threads > 1;
    // Row blocks of even size, and enough of them that every thread gets a task.
    let min_row_blocks = if parallel {
        threads.div_ceil(col_blocks)
    } else {
        1
    };
    let row_blocks = row_panels
        .div_ceil(row_block_max)
        .max(min_row_blocks)
        .min(row_panels);
    let row_block = row_panels.div_ceil(row_blocks);
    let row_blocks = row_panels.div_ceil(row_block);
    let shared = SharedOut(out.as_mut_ptr());

    let task = |t: usize| {
        SCRATCH.with_borrow_mut(|acc| {
            let (rb, cb) = (t / col_blocks, t % col_blocks);
            let rows = rb * row_block..((rb + 1) * row_block).min(row_panels);
            let cols = cb * COL_BLOCK_PANELS..((cb + 1) * COL_BLOCK_PANELS).min(col_panels);
            // The task's sums, one run of `ldc` columns per output row (tile `(ri, cj)` starts
            // at row `ri * mr`, column `cj * nr`), summed over k-blocks from `init`.
            let (col0, width, ldc) = (
                cols.start * nr,
                (cols.end * nr).min(n) - cols.start * nr,
                cols.len() * nr,
            );
            acc.clear();
            for _ in 0..rows.len() * mr {
                acc.extend_from_slice(&init[col0..][..width]);
                acc.resize(acc.len() + ldc - width, 0);
            }
            for g0 in (0..kg).step_by(KC_GROUPS) {
                let groups = KC_GROUPS.min(kg - g0);
                for (cj, pn) in cols.clone().enumerate() {
                    let b_sub = &b.panel(pn)[g0 * nr * imp.ku..][..groups * nr * imp.ku];
                    for (ri, pm) in rows.clone().enumerate() {
                        let ukernel = match imp.row1 {
                            Some(row1) if m - pm * mr == 1 => row1,
                            _ => imp.ukernel,
                        };
                        let a_sub = &a[pm * kg * mr + g0..][..(mr - 1) * kg + groups];
                        let tile = &mut acc[ri * mr * ldc + cj * nr..][..(mr - 1) * ldc + nr];
                        let (a_ptr, b_ptr, c_ptr) =
                            (a_sub.as_ptr(), b_sub.as_ptr(), tile.as_mut_ptr());
                        // SAFETY: `a_sub` holds `groups` words of each of `mr` rows `kg` apart,
                        // `b_sub` `groups * nr * ku` bytes, `tile` `nr` values of each of `mr`
                        // rows `ldc >= nr` apart; `b.kernel()`
                        // was checked supported when B was packed, and its 7-bit variant is only
                        // chosen for weights in `-64..=63`; `row1` only for a panel whose one
                        // real row is row 0.
                        unsafe { ukernel(groups, a_ptr, kg, b_ptr, c_ptr, ldc) };
                    }
                }
            }
            // The epilogue runs once all tiles are summed, one call per output row of the task,
            // written contiguously.
            for (ri, pm) in rows.clone().enumerate() {
                for i in 0..mr.min(m - pm * mr) {
                    let row = pm * mr + i;
                    // SAFETY: `row < m` and `col0 + width <= n`, so the run lies inside `out`
                    // (`m * n` elements, borrowed mutably for the whole call); each (row, column)
                    // belongs to exactly one task, so no other reference to these elements exists
                    // while this one lives.
                    let dst = unsafe {
                        std::slice::from_raw_parts_mut(shared.ptr().add(row * n + col0), width)
                    };
                    epi(row, col0, &mut acc[(ri * mr + i) * ldc..][..width], dst);
                }
            }
        })
    };

    let tasks = row_blocks * col_blocks;
    if parallel && tasks > 1 {
        (0..tasks).into_par_iter().for_each(task);
    } else {
        (0..tasks).for_each(task);
    }
}
