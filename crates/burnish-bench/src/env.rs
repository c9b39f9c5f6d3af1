//! Environment fingerprint: what machine and build produced a result, without the hostname.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::BenchError;
use crate::resources::{load_average_1m, logical_cores};

/// Instruction-set extensions relevant to inference kernels, as detected at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsaFlags {
    /// x86 AVX2.
    pub avx2: bool,
    /// x86 FMA.
    pub fma: bool,
    /// x86 AVX-512 Foundation.
    pub avx512f: bool,
    /// x86 AVX-512 VNNI (int8 dot products).
    pub avx512vnni: bool,
    /// x86 AVX-VNNI (VEX-encoded int8 dot products).
    pub avxvnni: bool,
    /// x86 AMX tiles (from `/proc/cpuinfo`; std cannot detect it on stable Rust).
    pub amx: bool,
    /// Arm NEON (Advanced SIMD).
    pub neon: bool,
    /// Arm dot-product instructions.
    pub dotprod: bool,
    /// Arm int8 matrix multiply.
    pub i8mm: bool,
}

impl IsaFlags {
    /// Detects the flags of the running CPU.
    pub fn detect() -> Self {
        #[allow(unused_mut)]
        let mut f = Self::default();
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            f.avx2 = std::arch::is_x86_feature_detected!("avx2");
            f.fma = std::arch::is_x86_feature_detected!("fma");
            f.avx512f = std::arch::is_x86_feature_detected!("avx512f");
            f.avx512vnni = std::arch::is_x86_feature_detected!("avx512vnni");
            f.avxvnni = std::arch::is_x86_feature_detected!("avxvnni");
            f.amx = cpuinfo_flags().iter().any(|fl| fl == "amx_tile");
        }
        #[cfg(target_arch = "aarch64")]
        {
            f.neon = std::arch::is_aarch64_feature_detected!("neon");
            f.dotprod = std::arch::is_aarch64_feature_detected!("dotprod");
            f.i8mm = std::arch::is_aarch64_feature_detected!("i8mm");
        }
        f
    }

    /// The names of the flags that are set, e.g. `["avx2", "fma"]`.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("avx2", self.avx2),
            ("fma", self.fma),
            ("avx512f", self.avx512f),
            ("avx512vnni", self.avx512vnni),
            ("avxvnni", self.avxvnni),
            ("amx", self.amx),
            ("neon", self.neon),
            ("dotprod", self.dotprod),
            ("i8mm", self.i8mm),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect()
    }
}

/// Facts only the caller knows: what was built and what was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// burnish version.
    pub burnish_version: Option<String>,
    /// Git revision of the burnish build.
    pub git_revision: Option<String>,
    /// Backend name (e.g. `flex`).
    pub backend: Option<String>,
    /// Thread settings, free form (e.g. `intra_op=4`).
    pub threads: Option<String>,
    /// SHA-256 of the model file, lowercase hex.
    pub model_sha256: Option<String>,
}

/// The machine and build a result came from. Contains no hostname or user name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model name (`/proc/cpuinfo`), when known.
    pub cpu_model: Option<String>,
    /// Logical cores available to the process.
    pub logical_cores: usize,
    /// Instruction-set extensions.
    pub isa: IsaFlags,
    /// Operating system (`linux`, `macos`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`), when known.
    pub kernel: Option<String>,
    /// 1-minute load average when the fingerprint was taken.
    pub load_avg_1m: Option<f64>,
    /// Caller-provided build facts.
    pub build: BuildInfo,
}

impl Environment {
    /// Fingerprints the running machine and attaches the caller's build facts.
    pub fn detect(build: BuildInfo) -> Self {
        Self {
            cpu_model: cpu_model(),
            logical_cores: logical_cores(),
            isa: IsaFlags::detect(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            load_avg_1m: load_average_1m(),
            build,
        }
    }
}

fn cpuinfo() -> Option<String> {
    std::fs::read_to_string("/proc/cpuinfo").ok()
}

fn cpu_model() -> Option<String> {
    let info = cpuinfo()?;
    ["model name", "Hardware", "Model", "cpu model"]
        .iter()
        .find_map(|key| {
            info.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn cpuinfo_flags() -> Vec<String> {
    cpuinfo()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("flags").and_then(|r| r.split_once(':')))
                .map(|(_, v)| v.split_whitespace().map(str::to_string).collect())
        })
        .unwrap_or_default()
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of a file's contents, lowercase hex, streaming (constant memory).
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String, BenchError> {
    let path = path.as_ref();
    let io = |source| BenchError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
