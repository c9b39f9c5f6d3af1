//! x86-64 microkernels. Each is one `#[target_feature]` function over the shared packed
//! layout; [`crate::kernel::Kernel::is_supported`] gates them at run time.

mod avx2;
mod maddubs;
mod vnni;

use crate::kernel::KernelImpl;

/// AVX2, exact 16-bit products (`vpmaddwd`).
pub(crate) static AVX2: KernelImpl = KernelImpl {
    mr: avx2::MR,
    nr: avx2::NR,
    ku: 2,
    ukernel: avx2::ukernel_avx2,
    row1: None,
};

/// AVX2 for weights in `-64..=63`: `vpmaddubsw`, four bytes per word.
pub(crate) static AVX2_7BIT: KernelImpl = KernelImpl {
    mr: maddubs::MR,
    nr: maddubs::NR,
    ku: 4,
    ukernel: maddubs::tile::<{ maddubs::MR }, { maddubs::NV }, false>,
    row1: None,
};

/// AVX2 for weights in `-32..=31`: `vpmaddubsw` with two depth groups summed in i16.
pub(crate) static AVX2_6BIT: KernelImpl = KernelImpl {
    mr: maddubs::MR_6BIT,
    nr: maddubs::NR,
    ku: 4,
    ukernel: maddubs::tile::<{ maddubs::MR_6BIT }, { maddubs::NV }, true>,
    row1: None,
};

/// AVX-VNNI, 256-bit `vpdpbusd`.
pub(crate) static AVX_VNNI: KernelImpl = KernelImpl {
    mr: vnni::MR_256,
    nr: vnni::NR_256,
    ku: 4,
    ukernel: vnni::ukernel_avxvnni,
    row1: None,
};

/// AVX-512 VNNI, 512-bit `vpdpbusd`.
pub(crate) static AVX512_VNNI: KernelImpl = KernelImpl {
    mr: vnni::MR_512,
    nr: vnni::NR_512,
    ku: 4,
    ukernel: vnni::ukernel_avx512vnni,
    row1: Some(vnni::ukernel_avx512vnni_row1),
};
