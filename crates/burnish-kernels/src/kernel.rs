//! The kernel table and the start-up dispatch.
//!
//! Every kernel is described by one [`KernelImpl`]: the tile it computes (`mr` x `nr`), how
//! many depth steps share one 32-bit word (`ku`), and its microkernel. Packing (A and B) is
//! written once against that description, so a new CPU only adds a microkernel and a row in
//! [`imp`].

use std::sync::OnceLock;

use crate::KernelError;

/// An int8 GEMM microkernel implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// Portable Rust; runs everywhere, used as the reference and fallback.
    Scalar,
    /// x86-64 AVX2: u8/i8 widened to i16 and multiplied exactly with `vpmaddwd`; 7-bit weights
    /// (see [`crate::PackedB::seven_bit`]) run on `vpmaddubsw` instead, 6-bit weights (see
    /// [`crate::PackedB::six_bit`]) on `vpmaddubsw` with two depth groups summed in i16.
    Avx2,
    /// x86-64 AVX-VNNI (256-bit `vpdpbusd`, Alder Lake and later).
    AvxVnni,
    /// x86-64 AVX-512 VNNI (512-bit `vpdpbusd`, Cascade Lake, Zen 4 and later).
    Avx512Vnni,
}

impl Kernel {
    /// Every kernel this build knows, fastest first.
    pub const ALL: [Kernel; 4] = [
        Kernel::Avx512Vnni,
        Kernel::AvxVnni,
        Kernel::Avx2,
        Kernel::Scalar,
    ];

    /// A short lower-case name (`avx512-vnni`, `avx-vnni`, `avx2`, `scalar`).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::AvxVnni => "avx-vnni",
            Kernel::Avx512Vnni => "avx512-vnni",
        }
    }

    /// Whether this CPU can run the kernel (checked at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("avxvnni")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The kernels this CPU can run, fastest first; always ends with [`Kernel::Scalar`].
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// The kernel named by [`Kernel::name`], if any.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kernel new [`crate::PackedB`]s use, chosen once per process: the fastest this CPU
    /// supports, unless the `BURNISH_INT8_KERNEL` environment variable names a supported one
    /// (e.g. `scalar`, to compare or to rule a SIMD kernel out).
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            std::env::var("BURNISH_INT8_KERNEL")
                .ok()
                .and_then(|name| Kernel::from_name(name.trim()))
                .filter(|k| k.is_supported())
                .unwrap_or(Kernel::available()[0])
        })
    }

    /// Whether the kernel multiplies int8 with dot-product instructions (`vpdpbusd`: AVX-VNNI,
    /// AVX-512 VNNI): where int8 inference pays off against float.
    pub fn has_dot_product(self) -> bool {
        matches!(self, Kernel::AvxVnni | Kernel::Avx512Vnni)
    }

    /// Checks that this CPU can run the kernel.
    pub fn require(self) -> Result<Kernel, KernelError> {
        if self.is_supported() {
            Ok(self)
        } else {
            Err(KernelError::Unsupported(self.name()))
        }
    }

    /// Rows x columns of the output tile one microkernel call computes.
    pub fn tile(self) -> (usize, usize) {
        let imp = imp(self);
        (imp.mr, imp.nr)
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Adds the raw u8 x i8 products of `kg` depth groups to one `mr` x `nr` tile:
/// `c[i * c_stride + j] += sum_g sum_t a[i, g, t] * b[g, j, t]` (wrapping i32).
///
/// # Safety
/// Each of the `mr` rows of `a` (`a_stride` words apart) is readable for `kg` words, `b` for
/// `kg * nr * ku` bytes, each of the `mr` rows of `c` (`c_stride` values apart) readable and
/// writable for `nr` values, and the CPU supports the kernel's target features.
pub(crate) type MicroKernel = unsafe fn(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
);

/// The description of one kernel that packing and the driver work from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelImpl {
    /// Rows of A per panel.
    pub mr: usize,
    /// Columns of B per panel.
    pub nr: usize,
    /// Depth steps per 32-bit word: 4 (bytes) or 2 (16-bit lanes).
    pub ku: usize,
    /// The tile routine.
    pub ukernel: MicroKernel,
    /// A routine for a row panel with one real row (a matrix-vector product): it sums row 0
    /// of the tile only, the other rows keep their values.
    pub row1: Option<MicroKernel>,
}

static SCALAR: KernelImpl = KernelImpl {
    mr: crate::scalar::MR,
    nr: crate::scalar::NR,
    ku: 4,
    ukernel: crate::scalar::ukernel,
    row1: None,
};

/// The table row of a kernel. Callers check [`Kernel::is_supported`] before running it.
pub(crate) fn imp(kernel: Kernel) -> &'static KernelImpl {
    match kernel {
        Kernel::Scalar => &SCALAR,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => &crate::x86::AVX2,
        #[cfg(target_arch = "x86_64")]
        Kernel::AvxVnni => &crate::x86::AVX_VNNI,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vnni => &crate::x86::AVX512_VNNI,
        #[cfg(not(target_arch = "x86_64"))]
        _ => &SCALAR,
    }
}

/// The table row of the kernel's 7-bit weight variant, if it has one: a faster microkernel that
/// is exact only while every packed weight lies in `-64..=63` (AVX2's `vpmaddubsw` route).
pub(crate) fn imp_7bit(kernel: Kernel) -> Option<&'static KernelImpl> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => Some(&crate::x86::AVX2_7BIT),
        _ => None,
    }
}

/// The table row of the kernel's 6-bit weight variant, if it has one: exact only while every
/// packed weight lies in `-32..=31`, so that two groups' `vpmaddubsw` pair sums add in i16
/// (AVX2; it shares the 7-bit variant's layout).
pub(crate) fn imp_6bit(kernel: Kernel) -> Option<&'static KernelImpl> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => Some(&crate::x86::AVX2_6BIT),
        _ => None,
    }
}
