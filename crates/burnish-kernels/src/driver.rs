//! The blocked, parallel loop around the microkernels.
//!
//! Work is cut into tasks of (row block x column block) panels; a task runs the microkernel on
//! each tile with the column panel outermost (so one B panel stays in L1 while the A block,
//! sized to about half an L2, is swept), then passes each raw i32 sum through the epilogue
//! straight into the output. Tasks write disjoint output tiles, so they run on rayon with no
//! synchronisation.

use rayon::prelude::*;

use crate::PackedB;
use crate::kernel::{MAX_TILE, imp};

/// Bytes of packed A one task sweeps per B panel.
const A_BLOCK_BYTES: usize = 192 * 1024;
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

/// Computes `out[i, j] = epi(j, sum_k A[i, k] * B[k, j])` for packed `a` (`m` rows) and `b`.
///
/// `out` must hold `m * b.n()` elements (checked by the public entry points).
pub(crate) fn run<T, F>(b: &PackedB, a: &[u32], m: usize, out: &mut [T], epi: F)
where
    T: Send,
    F: Fn(usize, i32) -> T + Sync,
{
    assert_eq!(out.len(), m * b.n(), "output length");
    let imp = imp(b.kernel());
    assert!(imp.mr * imp.nr <= MAX_TILE);
    let (mr, nr, n) = (imp.mr, imp.nr, b.n());
    let kg = b.k().div_ceil(imp.ku);
    assert_eq!(a.len(), m.div_ceil(mr) * kg * mr, "packed A length");
    let (row_panels, col_panels) = (m.div_ceil(mr), n.div_ceil(nr));
    let row_block = (A_BLOCK_BYTES / (mr * kg * 4)).max(1);
    let row_blocks = row_panels.div_ceil(row_block);
    let col_blocks = col_panels.div_ceil(COL_BLOCK_PANELS);
    let shared = SharedOut(out.as_mut_ptr());

    let task = |t: usize| {
        let (rb, cb) = (t / col_blocks, t % col_blocks);
        let mut tile = [0i32; MAX_TILE];
        let col_end = ((cb + 1) * COL_BLOCK_PANELS).min(col_panels);
        let row_end = ((rb + 1) * row_block).min(row_panels);
        for pn in cb * COL_BLOCK_PANELS..col_end {
            let b_panel = b.panel(pn);
            let cols = nr.min(n - pn * nr);
            for pm in rb * row_block..row_end {
                let a_panel = &a[pm * kg * mr..][..kg * mr];
                // SAFETY: `a_panel` holds `kg * mr` words, `b_panel` `kg * nr` words, `tile`
                // at least `mr * nr` values; `b.kernel()` was checked supported at packing.
                unsafe { (imp.ukernel)(kg, a_panel.as_ptr(), b_panel.as_ptr(), tile.as_mut_ptr()) };
                let rows = mr.min(m - pm * mr);
                for i in 0..rows {
                    let row = pm * mr + i;
                    for j in 0..cols {
                        let col = pn * nr + j;
                        let value = epi(col, tile[i * nr + j]);
                        // SAFETY: `row < m` and `col < n`, so the index is inside `out`
                        // (`m * n` elements, borrowed mutably for the whole call); each
                        // (row, col) belongs to exactly one task and one tile.
                        unsafe { shared.ptr().add(row * n + col).write(value) };
                    }
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
