//! JPEG sample reconstruction as libjpeg does it by default: the accurate integer inverse DCT
//! (`jpeg_idct_islow`), chroma upsampling (the "fancy" triangle filters for 2:1 ratios, plain
//! replication for the others, with the same rounding biases and edge handling) and the
//! fixed-point YCbCr to RGB conversion.

/// One 1-D pass of the accurate integer IDCT (13 fraction bits): the eight outputs before
/// descaling.
fn idct_1d(v: [i64; 8]) -> [i64; 8] {
    let z1 = (v[2] + v[6]) * 4433;
    let tmp2 = z1 - v[6] * 15137;
    let tmp3 = z1 + v[2] * 6270;
    let tmp0 = (v[0] + v[4]) << 13;
    let tmp1 = (v[0] - v[4]) << 13;
    let (t10, t13, t11, t12) = (tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2);
    let (a0, a1, a2, a3) = (v[7], v[5], v[3], v[1]);
    let (z1, z2, z3, z4) = (a0 + a3, a1 + a2, a0 + a2, a1 + a3);
    let z5 = (z3 + z4) * 9633;
    let (z3, z4) = (z3 * -16069 + z5, z4 * -3196 + z5);
    let (z1, z2) = (z1 * -7373, z2 * -20995);
    let o0 = a0 * 2446 + z1 + z3;
    let o1 = a1 * 16819 + z2 + z4;
    let o2 = a2 * 25172 + z2 + z3;
    let o3 = a3 * 12299 + z1 + z4;
    [
        t10 + o3,
        t11 + o2,
        t12 + o1,
        t13 + o0,
        t13 - o0,
        t12 - o1,
        t11 - o2,
        t10 - o3,
    ]
}

fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// Inverse DCT of one block of quantized coefficients (natural order) with quantization table
/// `q`, written as 8 rows of 8 samples `stride` apart into `out`. Columns first, keeping 2 extra
/// fraction bits, then rows; results are range-limited the way libjpeg's table does (the low
/// 10 bits taken as a signed offset from 128, clamped to 0..=255).
pub(crate) fn idct_islow(coef: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    let mut ws = [0i64; 64];
    for c in 0..8 {
        let v = std::array::from_fn(|i| coef[i * 8 + c] as i64 * q[i * 8 + c] as i64);
        for (i, x) in idct_1d(v).into_iter().enumerate() {
            ws[i * 8 + c] = descale(x, 11) as i32 as i64;
        }
    }
    for (r, row) in ws.chunks_exact(8).enumerate() {
        let v = std::array::from_fn(|i| row[i]);
        let dst = &mut out[r * stride..r * stride + 8];
        for (d, x) in dst.iter_mut().zip(idct_1d(v)) {
            let s = ((descale(x, 18) & 1023) ^ 512) - 512 + 128;
            *d = s.clamp(0, 255) as u8;
        }
    }
}

/// YCbCr to RGB with 16 fraction bits and libjpeg's rounding.
pub(crate) fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (y as i64, cb as i64 - 128, cr as i64 - 128);
    let half = 1i64 << 15;
    let r = y + ((91881 * cr + half) >> 16);
    let g = y + ((-22554 * cb + half - 46802 * cr) >> 16);
    let b = y + ((116130 * cb + half) >> 16);
    [r, g, b].map(|v| v.clamp(0, 255) as u8)
}

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
