//! What happens to a tile of exact i32 sums: stored as is, or requantized to u8/i8 codes with
//! a bias, an optional quantized residual and the activation clamp. The portable version here
//! is the definition; the AVX2 version (`avx2.rs`) computes the same f32 operations in the same
//! order, so both give identical codes.

use crate::pack::Activation;
use crate::{KernelError, QuantOutput};

use super::{MR, NR, Tile};

/// How exact sums become real values before output quantization.
#[derive(Debug, Clone, Copy)]
pub enum OutputScale<'a> {
    /// onnxruntime's integer requantization (`MlasRequantizeOutput`):
    /// `q = round_half_even(f32(acc + bias[c]) * multiplier[c]) + zero_point`.
    Int {
        /// Per-output-channel `x_scale * w_scale[c] / y_scale`.
        multiplier: &'a [f32],
        /// Optional i32 bias in accumulator units.
        bias: Option<&'a [i32]>,
    },
    /// A float bias and an optional residual, quantized once:
    /// `v = f32(acc) * scale[c] + bias[c] + f32(z - z_zp) * z_scale`,
    /// `q = round_half_even(v / y_scale) + zero_point` (each operation rounded to f32, left to
    /// right, no fused multiply-add).
    Float {
        /// Per-output-channel `x_scale * w_scale[c]`.
        scale: &'a [f32],
        /// Optional f32 bias in real units.
        bias: Option<&'a [f32]>,
        /// Output scale.
        y_scale: f32,
    },
}

/// A quantized tensor of the output's shape added before output quantization.
#[derive(Debug, Clone, Copy)]
pub struct Residual<'a, Z> {
    /// Codes, NCHW like the output.
    pub codes: &'a [Z],
    /// The code of real zero.
    pub zero_point: Z,
    /// Real value of one step.
    pub scale: f32,
}

/// The requantizing epilogue of [`super::conv2d_direct`].
#[derive(Debug, Clone, Copy)]
pub struct Requantize<'a, Z = u8> {
    /// Scale (and bias) of the exact sums.
    pub scale: OutputScale<'a>,
    /// The output code of real zero.
    pub zero_point: i32,
    /// Smallest output code (at least the type's minimum; folds a `Relu`/`Clip`).
    pub min: i32,
    /// Largest output code (at most the type's maximum).
    pub max: i32,
    /// Optional residual, only with [`OutputScale::Float`].
    pub residual: Option<Residual<'a, Z>>,
}

impl<Z: Activation> Requantize<'_, Z> {
    pub(crate) fn check<O: QuantOutput>(&self, oc: usize, len: usize) -> Result<(), KernelError> {
        let per_channel =
            |what, n: usize| -> Result<(), KernelError> { crate::pack::check_len(what, oc, n) };
        match self.scale {
            OutputScale::Int { multiplier, bias } => {
                per_channel("multiplier", multiplier.len())?;
                if let Some(b) = bias {
                    per_channel("bias", b.len())?;
                }
                if self.residual.is_some() {
                    return Err(KernelError::Conv(
                        "a residual needs the float output scale".into(),
                    ));
                }
            }
            OutputScale::Float {
                scale,
                bias,
                y_scale,
            } => {
                per_channel("scale", scale.len())?;
                if let Some(b) = bias {
                    per_channel("bias", b.len())?;
                }
                crate::pack::check_scale("y_scale", y_scale)?;
            }
        }
        if let Some(r) = &self.residual {
            crate::pack::check_len("residual", len, r.codes.len())?;
        }
        crate::requant::check_output_range::<O>(self.zero_point, self.min, self.max)
    }

    /// The code of one sum `acc` of output channel `c`, residual code `z` (offset-binary, or
    /// unused).
    #[inline]
    pub(crate) fn code(&self, acc: i32, c: usize, z: i32) -> i32 {
        let lo = (self.min - self.zero_point) as f32;
        let hi = (self.max - self.zero_point) as f32;
        let v = match self.scale {
            OutputScale::Int { multiplier, bias } => {
                let b = bias.map_or(0, |b| b[c]);
                acc.wrapping_add(b) as f32 * multiplier[c]
            }
            OutputScale::Float {
                scale,
                bias,
                y_scale,
            } => {
                let mut v = acc as f32 * scale[c];
                if let Some(b) = bias {
                    v += b[c];
                }
                if let Some(r) = &self.residual {
                    v += (z - i32::from(r.zero_point.to_offset_u8())) as f32 * r.scale;
                }
                v / y_scale
            }
        };
        // Clamping to integer bounds before rounding equals rounding and then clamping.
        v.max(lo).min(hi).round_ties_even() as i32 + self.zero_point
    }
}

/// Where the epilogue of a tile writes: output elements of type `T` at `ptr`.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr<T>(pub *mut T);
// SAFETY: tasks write disjoint tiles of the output through the pointer (see the driver).
unsafe impl<T: Send> Send for OutPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for OutPtr<T> {}

/// One tile's place in the output: `rows` channels from `at` (element index), `stride` apart,
/// `cols` consecutive pixels each.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// Global output channel of row 0.
    pub channel: usize,
    pub at: usize,
    pub stride: usize,
    pub rows: usize,
    pub cols: usize,
}

/// The tile epilogue: exact sums to output elements.
pub(crate) trait Sink: Sync {
    /// Writes `tile` to `place`.
    ///
    /// # Safety
    /// `place` lies inside the output buffer and no other thread accesses it during the call.
    unsafe fn store(&self, tile: &Tile, place: Place, avx2: bool);
}

/// Raw i32 sums (`ConvInteger`).
pub(crate) struct I32Sink(pub OutPtr<i32>);

impl Sink for I32Sink {
    unsafe fn store(&self, tile: &Tile, p: Place, _avx2: bool) {
        for (r, row) in tile.iter().enumerate().take(p.rows) {
            // SAFETY: the caller vouches for `p`'s region.
            let dst = unsafe {
                std::slice::from_raw_parts_mut(self.0.0.add(p.at + r * p.stride), p.cols)
            };
            dst.copy_from_slice(&row[..p.cols]);
        }
    }
}

/// Requantized u8/i8 codes.
pub(crate) struct QuantSink<'a, O, Z> {
    pub out: OutPtr<O>,
    pub requant: Requantize<'a, Z>,
}

impl<O: QuantOutput, Z: Activation> Sink for QuantSink<'_, O, Z> {
    unsafe fn store(&self, tile: &Tile, p: Place, avx2: bool) {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: AVX2 was detected by the caller; the region is the caller's promise.
            unsafe { super::avx2::store_quant(tile, p, self.out.0, &self.requant) };
            return;
        }
        let _ = avx2;
        for (r, row) in tile.iter().enumerate().take(p.rows) {
            let at = p.at + r * p.stride;
            // SAFETY: the caller vouches for `p`'s region.
            let dst = unsafe { std::slice::from_raw_parts_mut(self.out.0.add(at), p.cols) };
            let z = self.requant.residual.map(|r| &r.codes[at..at + p.cols]);
            for (j, d) in dst.iter_mut().enumerate() {
                let zj = z.map_or(0, |z| i32::from(z[j].to_offset_u8()));
                *d = O::from_code(self.requant.code(row[j], p.channel + r, zj));
            }
        }
    }
}

const _: () = assert!(MR == 6 && NR == 16);
