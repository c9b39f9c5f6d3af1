//! libjpeg's chroma upsampling: the "fancy" triangle filters for 2:1 ratios and plain
//! replication for the others, with the same rounding biases and edge handling.

/// A downsampled component plane: `dw` x `dh` samples, rows `stride` apart.
pub(crate) struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub dw: usize,
    pub dh: usize,
}

impl Plane<'_> {
    /// Row `r`, clamped to the plane (libjpeg repeats the edge rows as context).
    fn row(&self, r: isize) -> &[u8] {
        let r = r.clamp(0, self.dh as isize - 1) as usize;
        &self.data[r * self.stride..r * self.stride + self.dw]
    }
}

/// One row doubled horizontally with the triangle filter.
fn h2_fancy(colsum: &[i32], out: &mut Vec<i32>, scale: i32, (lo, hi): (i32, i32), shift: u32) {
    let n = colsum.len();
    out.clear();
    for i in 0..n {
        let this = colsum[i] * 3;
        let left = if i == 0 {
            colsum[0] * scale - this
        } else {
            colsum[i - 1]
        };
        let right = if i + 1 == n {
            colsum[n - 1] * scale - this
        } else {
            colsum[i + 1]
        };
        out.push((this + left + lo) >> shift);
        out.push((this + right + hi) >> shift);
    }
}

/// Upsamples `p` by `fh` x `fv` to a `width` x `height` plane (cropping the padding).
pub(crate) fn upsample(p: &Plane, fh: usize, fv: usize, width: usize, height: usize) -> Vec<u8> {
    let mut out = vec![0u8; width * height];
    if p.dw == 0 || p.dh == 0 || width == 0 {
        return out;
    }
    let mut wide: Vec<i32> = Vec::with_capacity(p.dw * 2);
    let mut sums: Vec<i32> = Vec::with_capacity(p.dw);
    for (y, dst) in out.chunks_mut(width).enumerate() {
        let r = (y / fv) as isize;
        let below = y % fv == 1;
        match (fh, fv) {
            (2, 1) if p.dw > 2 => {
                sums.clear();
                sums.extend(p.row(r).iter().map(|&v| v as i32));
                h2_fancy(&sums, &mut wide, 4, (1, 2), 2);
            }
            (1, 2) => {
                let near = if below { p.row(r + 1) } else { p.row(r - 1) };
                let bias = if below { 2 } else { 1 };
                wide.clear();
                wide.extend(
                    p.row(r)
                        .iter()
                        .zip(near)
                        .map(|(&a, &b)| (a as i32 * 3 + b as i32 + bias) >> 2),
                );
            }
            (2, 2) if p.dw > 2 => {
                let near = if below { p.row(r + 1) } else { p.row(r - 1) };
                sums.clear();
                sums.extend(
                    p.row(r)
                        .iter()
                        .zip(near)
                        .map(|(&a, &b)| a as i32 * 3 + b as i32),
                );
                h2_fancy(&sums, &mut wide, 4, (8, 7), 4);
            }
            _ => {
                wide.clear();
                wide.extend(
                    p.row(r)
                        .iter()
                        .flat_map(|&v| std::iter::repeat_n(v as i32, fh)),
                );
            }
        }
        for (d, &v) in dst.iter_mut().zip(&wide) {
            *d = v.clamp(0, 255) as u8;
        }
    }
    out
}
