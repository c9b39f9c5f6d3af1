//! Environment fingerprint and hashing.

use burnish_bench::{BuildInfo, Environment, sha256_file, sha256_hex};

#[test]
fn fingerprint_describes_this_machine_without_its_name() {
    let env = Environment::detect(BuildInfo::default());
    assert!(env.logical_cores >= 1);
    assert_eq!(env.os, std::env::consts::OS);
    assert_eq!(env.arch, std::env::consts::ARCH);
    if cfg!(target_os = "linux") {
        assert!(env.kernel.is_some());
        assert!(env.load_avg_1m.is_some());
    }
    if env.isa.avx512f {
        assert!(env.isa.avx2, "AVX-512 machines have AVX2");
    }
    #[cfg(target_arch = "aarch64")]
    assert!(env.isa.neon);
    let json = serde_json::to_string(&env).unwrap();
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if host.len() >= 4 {
            assert!(
                !json.contains(host),
                "fingerprint leaks the hostname {host}"
            );
        }
    }
}

#[test]
fn sha256_matches_the_standard_vectors_and_streams_files() {
    // FIPS 180-2 test vectors.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let path = std::env::temp_dir().join(format!("burnish-sha-{}", std::process::id()));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    assert_eq!(sha256_file(&path).unwrap(), sha256_hex(&data));
    std::fs::remove_file(&path).unwrap();
    assert!(sha256_file(&path).is_err());
}
