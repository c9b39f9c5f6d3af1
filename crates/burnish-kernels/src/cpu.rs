//! The CPU's instruction-set features, probed once per process: the one place kernels ask
//! which vector instructions they may use.

use std::sync::OnceLock;

/// Vector features of the running CPU that burnish's kernels choose between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// AVX2 (256-bit integer and float vectors).
    pub avx2: bool,
    /// Fused multiply-add (with AVX2 on every CPU that has both).
    pub fma: bool,
    /// AVX-512 Foundation.
    pub avx512f: bool,
    /// AVX-512 byte and word instructions.
    pub avx512bw: bool,
    /// AVX-512 vector-length extensions (EVEX forms of 128- and 256-bit instructions).
    pub avx512vl: bool,
    /// AVX-512 VNNI (`vpdpbusd` on 512-bit vectors; on 256-bit ones with `avx512vl`).
    pub avx512vnni: bool,
    /// AVX-512 VBMI (`vpermi2b`: byte permutes across a whole vector, for lookup tables),
    /// with AVX-512 F and BW.
    pub avx512vbmi: bool,
    /// AVX-VNNI (`vpdpbusd` on 256-bit vectors).
    pub avxvnni: bool,
}

impl Features {
    /// AVX2 with FMA: the 256-bit float kernels.
    pub fn avx2_fma(&self) -> bool {
        self.avx2 && self.fma
    }

    /// AVX-512 F with FMA: the 512-bit float kernels.
    pub fn avx512(&self) -> bool {
        self.avx512f && self.fma
    }

    /// `vpdpbusd` on 256-bit vectors in its EVEX form (AVX-512 VNNI with VL).
    pub fn vnni_256(&self) -> bool {
        self.avx2 && self.avx512vnni && self.avx512vl
    }

    /// The widest float vector tier, for reports (`avx512`, `avx2`, `baseline`).
    pub fn float_tier(&self) -> &'static str {
        if self.avx512() {
            "avx512"
        } else if self.avx2_fma() {
            "avx2"
        } else {
            "baseline"
        }
    }
}

/// The running CPU's features (probed on first use). `BURNISH_CPU=avx2` or `=baseline` caps
/// them, to measure or test the narrower kernels on a wider CPU.
pub fn features() -> &'static Features {
    static FEATURES: OnceLock<Features> = OnceLock::new();
    FEATURES.get_or_init(|| {
        let probed = probe();
        match std::env::var("BURNISH_CPU").as_deref() {
            Ok("baseline") => Features::default(),
            Ok("avx2") => Features {
                avx512f: false,
                avx512bw: false,
                avx512vl: false,
                avx512vnni: false,
                avx512vbmi: false,
                ..probed
            },
            _ => probed,
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn probe() -> Features {
    use std::arch::is_x86_feature_detected as has;
    Features {
        avx2: has!("avx2"),
        fma: has!("fma"),
        avx512f: has!("avx512f"),
        avx512bw: has!("avx512bw"),
        avx512vl: has!("avx512vl"),
        avx512vnni: has!("avx512vnni"),
        avx512vbmi: has!("avx512f") && has!("avx512bw") && has!("avx512vbmi"),
        avxvnni: has!("avxvnni"),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn probe() -> Features {
    Features::default()
}
