//! Int8 execution kernels for burnish: GEMM (and convolution on top of it) with u8/i8
//! activations, int8 per-channel weights packed once, and requantization fused into the
//! epilogue.
//!
//! Burn's quantized tensors dequantize to f32 on every call; these kernels compute in integers.
//! The microkernel is chosen once per process from the CPU's features ([`Kernel::best`]):
//! AVX-512 VNNI, AVX-VNNI, AVX2 (exact 16-bit products, see [`Kernel::Avx2`]), or portable
//! scalar code. Every kernel is bit-exact against [`reference::gemm_i32`]. Convolution
//! ([`conv2d_int8`]) runs as im2col on top of the same GEMM; [`conv2d_direct`] is the faster
//! direct convolution (no im2col, the microkernel reads the padded input in place, fused
//! requantization, residual and activation) that the runtime uses.
//!
//! ## Kernels and the u8 x i8 saturation problem
//!
//! | kernel | instruction | tile | exact for |
//! |---|---|---|---|
//! | [`Kernel::Avx512Vnni`] | `vpdpbusd` zmm | 8 x 32 | all u8/i8 |
//! | [`Kernel::AvxVnni`] | `vpdpbusd` ymm | 6 x 16 | all u8/i8 |
//! | [`Kernel::Avx2`] | `vpmaddwd` on i16 | 6 x 16 | all u8/i8 |
//! | [`Kernel::Avx2`], 7-bit weights | `vpmaddubsw` + `vpmaddwd` | 6 x 16 | weights in `-64..=63` |
//! | [`Kernel::Avx2`], 6-bit weights | 2 `vpmaddubsw` + `vpaddw` + `vpmaddwd` | 4 x 16 | weights in `-32..=31` |
//! | [`Kernel::Scalar`] | Rust | 4 x 8 | all u8/i8 |
//!
//! The usual AVX2 route, `vpmaddubsw`, adds two u8 x i8 products in a saturating i16
//! (255 * 127 * 2 overflows it), which forces 7-bit activations or weights on callers. The AVX2
//! GEMM kernel here widens both operands to 16 bits (activations when A is packed, weights with
//! `vpmovsxbw` as they are loaded) and uses `vpmaddwd` instead: exact for every input, weights
//! still one byte each. That costs instructions, not correctness: measured on a Zen 3
//! (`cargo bench -p burnish-kernels --bench madd`, 6 x 16 tile in L1, one thread) the exact
//! `vpmaddwd` loop runs 37-46 G multiply-adds/s, the `vpmaddubsw` loop 58-60 G and f32 FMA 27 G
//! on a loaded machine (best of 2000 runs on a quieter one: 74 G, 94 G and 48 G).
//!
//! So when every weight code minus its zero point fits in 7 bits (`-64..=63`: pair sums then
//! stay below 2^15, exact) both the GEMM ([`PackedB`], see [`PackedB::seven_bit`]) and the
//! direct convolution ([`conv2d_direct`]) take the `vpmaddubsw` route by themselves on AVX2
//! without VNNI, and `burnish-quant` writes 7-bit `Conv` weights on such CPUs by default
//! (`--weight-bits auto`, like onnxruntime's `reduce_range`); 8-bit weights stay exact on the
//! `vpmaddwd` route. Three instructions per 32 multiply-adds, two of them on the two vector
//! multiply pipes, bound that route at twice the f32 FMA rate on Zen 3; the GEMM reaches about
//! 1.9x the `gemm` crate's f32 throughput at 1024^3 on one thread (`benches/gemm.rs`).
//!
//! With 6-bit weights (every weight minus its zero point in `-32..=31`, `burnish-quant
//! --weight-bits 6`) a pair sum lies in `-16320..=15810`, so two depth groups' `vpmaddubsw`
//! results add exactly in i16 (`vpaddw`) before one `vpmaddwd` widens them: three
//! multiply-pipe instructions per 64 multiply-adds instead of four, a ceiling 4/3 of the 7-bit
//! route's. [`PackedB`] picks that kernel by itself on AVX2 without VNNI (see
//! [`PackedB::six_bit`]); 7-bit and 8-bit weights keep their routes. Measured on the Zen 3
//! (`cargo run --release -p burnish-kernels --example gemm_ratio 300 3`, one thread): 2.3-2.4x
//! the f32 throughput at 512x768x768 and 1024^3, against 1.9-2.0x for 7-bit weights.
//!
//! i8 activations are shifted to u8 (plus 128, zero point moved alike), so one u8 x i8
//! microkernel serves both; the zero point is removed in the epilogue with B's column sums.
//!
//! ```
//! use burnish_kernels::{PackedB, gemm_requant, quantize_weights_per_column};
//!
//! let (k, n) = (3, 2);
//! let w = [0.5f32, -1.0, 0.25, 0.5, -0.5, 1.0]; // row-major k x n
//! let (codes, scales) = quantize_weights_per_column(&w, k, n);
//! let packed = PackedB::new(&codes, k, n)?.with_scales(scales)?;
//!
//! let a = [130u8, 128, 126]; // one row, zero point 128, scale 0.5: [1, 0, -1]
//! let mut out = [0f32; 2];
//! gemm_requant(&a, 128, 0.5, &packed, Some(&[0.0, 1.0]), &mut out)?;
//! assert!((out[0] - 1.0).abs() < 1e-2 && (out[1] + 1.0).abs() < 1e-2);
//! # Ok::<(), burnish_kernels::KernelError>(())
//! ```

mod conv;
pub mod cpu;
mod direct;
mod driver;
mod error;
pub mod f32;
mod gemm;
mod geometry;
mod kernel;
pub mod lut;
mod pack;
pub mod pool_u8;
mod quant;
pub mod reference;
mod requant;
mod runs;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use conv::{
    PackedConv, QuantizedInput, conv2d_int8, conv2d_int8_i32, conv2d_qlinear, conv2d_scaled,
};
pub use direct::{
    DirectConv, DirectOutput, MAX_DIRECT_DEPTH, OutputScale, Requantize, Residual, conv2d_direct,
};
pub use error::KernelError;
pub use gemm::{
    OutputQuant, gemm_i8i8_i32, gemm_i32, gemm_qlinear, gemm_requant, gemm_requant_u8, gemm_scaled,
    gemm_u8i8_i32, quantize_u8,
};
pub use geometry::{Conv2dGeometry, Conv2dParams};
pub use kernel::Kernel;
pub use pack::{Activation, MAX_K, PackedB, Weights};
pub use quant::{quantize_activations_u8, quantize_weights_per_column};
pub use requant::{QuantOutput, Requant, requantize};
