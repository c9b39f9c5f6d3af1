//! Float32 kernels: convolution ([`conv`]), packed GEMM ([`linear`]), pooling, element-wise maps with vectorizable transcendental approximations
//! ([`math`]), compiled for AVX-512, AVX2+FMA and the baseline, chosen at run time.

pub mod conv;
pub mod linear;
pub mod map;
pub mod math;
pub mod phase;
pub mod pool;
pub mod softmax;
