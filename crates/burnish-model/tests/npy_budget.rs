//! The NPZ reader under a memory budget: a zip bomb (64 MiB of zeros deflated to 64 KiB) is an
//! error naming the archive and the member, read no further than its NPY header; above the
//! budget's reach the same file reads. One test: the budget is process-wide.

use std::path::PathBuf;

use burnish_model::limits::set_max_tensor_bytes;
use burnish_model::read_tensors;

#[test]
fn zip_bombs_stop_at_the_memory_budget() {
    let bomb =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/npy/bomb_64mib.npz");
    set_max_tensor_bytes(16 << 20);
    let e = read_tensors(&bomb).unwrap_err().to_string();
    assert!(
        e.contains("bomb_64mib.npz") && e.contains("entry `x`"),
        "{e}"
    );
    assert!(e.contains("memory limit of 16777216 bytes"), "{e}");
    set_max_tensor_bytes(128 << 20);
    let x = read_tensors(&bomb).unwrap().remove("x").unwrap();
    assert_eq!(x.shape, vec![(64 << 20) / 4 - 32]);
    assert!(x.as_f32().unwrap().iter().all(|&v| v == 0.0));
}
