//! Packed operands: weights (B) packed once at load, activations (A) packed per call.
//!
//! Depth is cut into groups of `ku` steps (4 for byte kernels, 2 for AVX2). B holds one byte
//! per weight in panels of `nr` columns, laid out `[panel][depth group][column][ku]`, so a
//! group of a panel is one contiguous `nr * ku`-byte vector load. A is stored as 32-bit words
//! holding a group of one row (four bytes, or two zero-extended 16-bit lanes for AVX2), in
//! panels of `mr` rows laid out `[panel][row][depth group]`: each word is one broadcast, and
//! packing is a contiguous, vectorizable conversion per row rather than a transposition.
//! Edges are padded with zeros, which add nothing to the sums.

use rayon::prelude::*;

use crate::kernel::{KernelImpl, imp, imp_6bit, imp_7bit};
use crate::{Kernel, KernelError};

/// The largest reduction depth: `MAX_K * 255 * 128 < 2^31`, so raw sums never overflow i32.
pub const MAX_K: usize = 65_536;

/// Activation element types the kernels accept: `u8` and `i8`.
///
/// Both are fed to the kernels as offset-binary bytes (`i8` plus 128), with the zero point
/// moved the same way, so one u8 x i8 kernel serves both.
pub trait Activation: Copy + Send + Sync + sealed::Sealed {
    /// The value as an unsigned byte: `u8` unchanged, `i8` plus 128.
    fn to_offset_u8(self) -> u8;
}

impl Activation for u8 {
    fn to_offset_u8(self) -> u8 {
        self
    }
}

impl Activation for i8 {
    fn to_offset_u8(self) -> u8 {
        (self as u8) ^ 0x80
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for i8 {}
}

/// Weight codes as stored in a model: signed or unsigned bytes.
#[derive(Debug, Clone, Copy)]
pub enum Weights<'a> {
    /// Signed codes (the usual, symmetric case).
    I8(&'a [i8]),
    /// Unsigned codes; stored as `code - 128` with the zero point moved alike.
    U8(&'a [u8]),
}

impl Weights<'_> {
    fn len(&self) -> usize {
        match self {
            Weights::I8(v) => v.len(),
            Weights::U8(v) => v.len(),
        }
    }
}

/// The microkernel family weights are packed for, from the range of the centered weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The kernel's exact route, any i8/u8 weight.
    Exact,
    /// The 7-bit variant: centered weights in `-64..=63`.
    SevenBit,
    /// The 6-bit variant: centered weights in `-32..=31`.
    SixBit,
}

/// Int8 weights `B[k, n]` (row-major) packed for one kernel, with the column sums used for the
/// activation zero-point correction, optional per-column weight zero points and per-column
/// scales.
#[derive(Debug, Clone)]
pub struct PackedB {
    kernel: Kernel,
    /// The microkernel (and so the layout) the data is packed for.
    imp: &'static KernelImpl,
    /// Which of the kernel's microkernels `imp` is.
    route: Route,
    k: usize,
    n: usize,
    data: Vec<u8>,
    col_sums: Vec<i32>,
    /// Per-column zero points of the stored i8 codes; empty when all are zero.
    zero_points: Vec<i32>,
    scales: Vec<f32>,
}

impl PackedB {
    /// Packs row-major `b` (`k` x `n`) for the fastest kernel of this CPU, scales all 1.
    pub fn new(b: &[i8], k: usize, n: usize) -> Result<Self, KernelError> {
        Self::with_kernel(Kernel::best(), b, k, n)
    }

    /// Packs row-major `b` (`k` x `n`) for an explicit kernel, which this CPU must support.
    pub fn with_kernel(kernel: Kernel, b: &[i8], k: usize, n: usize) -> Result<Self, KernelError> {
        Self::quantized(kernel, Weights::I8(b), &[0], k, n)
    }

    /// Packs row-major weight codes `b` (`k` x `n`, i8 or u8) with zero points (one, or one
    /// per column, in the codes' own range), so products use `b - zero_point`. Exact while
    /// `k * 255 * 255 < 2^31` (any `k <= 33_025`) for u8 or non-zero-point weights.
    ///
    /// When every `b - zero_point` lies in `-64..=63` (7-bit weights) and the kernel has a
    /// faster microkernel for that case (AVX2's `vpmaddubsw`, see [`PackedB::seven_bit`]), the
    /// weights are packed for it with the zero points subtracted; when they lie in `-32..=31`
    /// (6-bit weights), for the faster still paired variant ([`PackedB::six_bit`]). Results
    /// are identical on every route.
    pub fn quantized(
        kernel: Kernel,
        b: Weights<'_>,
        zero_points: &[i32],
        k: usize,
        n: usize,
    ) -> Result<Self, KernelError> {
        kernel.require()?;
        check_depth(k)?;
        if n == 0 {
            return Err(KernelError::ZeroDimension { what: "n" });
        }
        check_len("b", k * n, b.len())?;
        if zero_points.len() != 1 {
            check_len("zero_points", n, zero_points.len())?;
        }
        let (codes, shift) = match b {
            Weights::I8(v) => (std::borrow::Cow::Borrowed(v), 0),
            Weights::U8(v) => (
                std::borrow::Cow::Owned(v.iter().map(|&x| (x ^ 0x80) as i8).collect()),
                128,
            ),
        };
        let zero_points: Vec<i32> = (0..n)
            .map(|j| zero_points[j.min(zero_points.len() - 1)] - shift)
            .collect();
        if let Some(narrow) = imp_7bit(kernel) {
            let centered = |(idx, &v): (usize, &i8)| i64::from(v) - i64::from(zero_points[idx % n]);
            let (lo, hi) = codes
                .iter()
                .enumerate()
                .map(centered)
                .fold((i64::MAX, i64::MIN), |(lo, hi), c| (lo.min(c), hi.max(c)));
            let route = match imp_6bit(kernel) {
                Some(six) if -32 <= lo && hi <= 31 => Some((six, Route::SixBit)),
                _ if -64 <= lo && hi <= 63 => Some((narrow, Route::SevenBit)),
                _ => None,
            };
            if let Some((imp, route)) = route {
                let codes: Vec<i8> = codes
                    .iter()
                    .enumerate()
                    .map(|e| centered(e) as i8)
                    .collect();
                let mut packed = Self::pack(kernel, imp, &codes, k, n);
                packed.route = route;
                return Ok(packed);
            }
        }
        let mut packed = Self::pack(kernel, imp(kernel), &codes, k, n);
        if zero_points.iter().any(|&z| z != 0) {
            packed.zero_points = zero_points;
        }
        Ok(packed)
    }

    fn pack(kernel: Kernel, imp: &'static KernelImpl, b: &[i8], k: usize, n: usize) -> Self {
        let KernelImpl { nr, ku, .. } = *imp;
        let kg = k.div_ceil(ku);
        let panels = n.div_ceil(nr);
        let mut data = vec![0u8; panels * kg * nr * ku];
        for (p, panel) in data.chunks_exact_mut(kg * nr * ku).enumerate() {
            for (g, group) in panel.chunks_exact_mut(nr * ku).enumerate() {
                for (j, lanes) in group.chunks_exact_mut(ku).enumerate() {
                    let col = p * nr + j;
                    if col >= n {
                        break;
                    }
                    for (t, lane) in lanes.iter_mut().enumerate() {
                        let row = g * ku + t;
                        if row < k {
                            *lane = b[row * n + col] as u8;
                        }
                    }
                }
            }
        }
        let mut col_sums = vec![0i32; n];
        for row in b.chunks_exact(n) {
            for (s, &v) in col_sums.iter_mut().zip(row) {
                *s += i32::from(v);
            }
        }
        Self {
            kernel,
            imp,
            route: Route::Exact,
            k,
            n,
            data,
            col_sums,
            zero_points: Vec::new(),
            scales: vec![1.0; n],
        }
    }

    /// Per-column zero points of the stored (signed) codes, or `None` when all are zero.
    pub(crate) fn zero_points(&self) -> Option<&[i32]> {
        (!self.zero_points.is_empty()).then_some(self.zero_points.as_slice())
    }

    /// Sets the per-column (per output channel) dequantization scales.
    pub fn with_scales(mut self, scales: Vec<f32>) -> Result<Self, KernelError> {
        check_len("scales", self.n, scales.len())?;
        for &s in &scales {
            check_scale("scales", s)?;
        }
        self.scales = scales;
        Ok(self)
    }

    /// The kernel the weights were packed for.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Whether the weights run on one of the kernel's narrow-weight `vpmaddubsw` variants:
    /// every weight minus its zero point lies in `-64..=63` and the kernel is
    /// [`Kernel::Avx2`], whose `vpmaddubsw` route (u8 x i8 pair sums in i16, exact for such
    /// weights) then replaces the exact 16-bit route. Also true for 6-bit packs
    /// ([`PackedB::six_bit`]), which are 7-bit weights too.
    pub fn seven_bit(&self) -> bool {
        self.route != Route::Exact
    }

    /// Whether the weights run on the kernel's 6-bit variant: every weight minus its zero point
    /// lies in `-32..=31` and the kernel is [`Kernel::Avx2`], so two depth groups' `vpmaddubsw`
    /// pair sums add in i16 exactly and share one `vpmaddwd`. Implies [`PackedB::seven_bit`].
    pub fn six_bit(&self) -> bool {
        self.route == Route::SixBit
    }

    /// The microkernel the weights were packed for.
    pub(crate) fn imp(&self) -> &'static KernelImpl {
        self.imp
    }

    /// Reduction depth (rows of B).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output columns (columns of B).
    pub fn n(&self) -> usize {
        self.n
    }

    /// `sum_k B[k, j]` for every column `j`, over the stored codes (with the zero points
    /// already subtracted when [`PackedB::seven_bit`], 6-bit packs included).
    pub fn col_sums(&self) -> &[i32] {
        &self.col_sums
    }

    /// Per-column dequantization scales.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Size of the packed weights in bytes.
    pub fn packed_bytes(&self) -> usize {
        self.data.len()
    }

    /// Bytes of one column panel (`kg * nr * ku`).
    pub(crate) fn panel(&self, p: usize) -> &[u8] {
        let len = self.k.div_ceil(self.imp.ku) * self.imp.nr * self.imp.ku;
        &self.data[p * len..(p + 1) * len]
    }
}

/// Packs row-major activations `a` (`m` x `k`) into row panels for `imp`.
pub(crate) fn pack_a<A: Activation>(imp: &KernelImpl, a: &[A], m: usize, k: usize) -> Vec<u32> {
    let (mr, ku) = (imp.mr, imp.ku);
    let kg = k.div_ceil(ku);
    let mut data = vec![0u32; m.div_ceil(mr) * kg * mr];
    let pack_panel = |(p, panel): (usize, &mut [u32])| {
        for (i, dst) in panel
            .chunks_exact_mut(kg)
            .take(mr.min(m - p * mr))
            .enumerate()
        {
            let row = &a[(p * mr + i) * k..][..k];
            if ku == 4 {
                // SAFETY: `kg` initialized words are `4 * kg` initialized bytes; u8 has no
                // alignment requirement, and the view holds the only borrow of `dst`.
                let bytes = unsafe {
                    std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), 4 * kg)
                };
                for (d, v) in bytes.iter_mut().zip(row) {
                    *d = v.to_offset_u8();
                }
            } else {
                // SAFETY: `kg` initialized words are `2 * kg` initialized u16s; u32 alignment
                // covers u16's, and the view holds the only borrow of `dst`. Lane `2g` lands in
                // the low half of word `g` on little-endian x86, the only user of 16-bit lanes.
                let halves = unsafe {
                    std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u16>(), 2 * kg)
                };
                for (d, v) in halves.iter_mut().zip(row) {
                    *d = u16::from(v.to_offset_u8());
                }
            }
        }
    };
    if m * k >= 1 << 16 {
        data.par_chunks_mut(kg * mr)
            .enumerate()
            .for_each(pack_panel);
    } else {
        data.chunks_mut(kg * mr).enumerate().for_each(pack_panel);
    }
    data
}

pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), KernelError> {
    if expected == actual {
        Ok(())
    } else {
        Err(KernelError::Length {
            what,
            expected,
            actual,
        })
    }
}

pub(crate) fn check_depth(k: usize) -> Result<(), KernelError> {
    if (1..=MAX_K).contains(&k) {
        Ok(())
    } else {
        Err(KernelError::DepthOutOfRange { k, max: MAX_K })
    }
}

pub(crate) fn check_scale(what: &'static str, value: f32) -> Result<(), KernelError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(KernelError::Scale { what, value })
    }
}
