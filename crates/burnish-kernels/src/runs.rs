//! How a block of consecutive output pixels splits into runs along output rows: the shared
//! first step of every kernel that gathers a block's receptive fields into a packed panel
//! (the f32 and the int8 direct convolutions).

/// The runs of the block of output pixels `p0..p0 + cols` (rows `ow` wide) that each lie on one
/// output row: per run, its first column within the block and `origin(oy, ox)` of its first
/// pixel; the count is the second value. `cols` must not exceed `N`.
#[inline(always)]
pub(crate) fn row_runs<const N: usize>(
    p0: usize,
    cols: usize,
    ow: usize,
    origin: impl Fn(usize, usize) -> usize,
) -> ([(usize, usize); N], usize) {
    let mut runs = [(0usize, 0usize); N];
    let (mut n, mut c) = (0, 0);
    while c < cols {
        let (oy, ox) = ((p0 + c) / ow, (p0 + c) % ow);
        runs[n] = (c, origin(oy, ox));
        n += 1;
        c += (ow - ox).min(cols - c);
    }
    (runs, n)
}

#[cfg(test)]
mod tests {
    use super::row_runs;

    #[test]
    fn a_block_splits_at_row_ends() {
        // Rows 5 wide: pixels 3..15 are 3..5 | 5..10 | 10..15.
        let (runs, n) = row_runs::<16>(3, 12, 5, |oy, ox| oy * 100 + ox);
        assert_eq!(&runs[..n], &[(0, 3), (2, 100), (7, 200)]);
        let (runs, n) = row_runs::<16>(0, 16, 40, |oy, ox| oy * 100 + ox);
        assert_eq!(&runs[..n], &[(0, 0)]);
    }
}
