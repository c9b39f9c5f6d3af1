//! The NPY/NPZ reader on files numpy wrote (Fortran order, big-endian, deflated NPZ) and on
//! malformed ones (lying zip sizes, a zip bomb, headers numpy rejects): arrays numpy reads come
//! back with numpy's values, the others are errors naming the file and the member.
//! Files: tests/fixtures/npy, written by tests/fixtures/gen/gen_npy_cases.py.

use std::path::PathBuf;

use burnish_model::{Buffer, read_tensors};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/npy")
        .join(name)
}

fn arange_f32(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32).collect()
}

#[test]
fn fortran_order_arrays_come_back_in_row_major_order() {
    let t = read_tensors(fixture("fortran_f4.npy"))
        .unwrap()
        .remove("fortran_f4")
        .unwrap();
    assert_eq!(t.shape, vec![2, 3, 4]);
    assert_eq!(t.data, Buffer::F32(arange_f32(24)));
}

#[test]
fn big_endian_arrays_are_byte_swapped() {
    let t = read_tensors(fixture("big_endian_i4.npy"))
        .unwrap()
        .remove("big_endian_i4")
        .unwrap();
    assert_eq!(t.shape, vec![2, 3]);
    assert_eq!(t.data, Buffer::I32((0..6).collect()));
}

#[test]
fn deflated_npz_members_are_read() {
    let all = read_tensors(fixture("deflated.npz")).unwrap();
    assert_eq!(all["x"].data, Buffer::F32(arange_f32(24)));
    assert_eq!(all["y"].data, Buffer::I64((0..5).collect()));
}

fn error_of(name: &str) -> String {
    read_tensors(fixture(name)).unwrap_err().to_string()
}

#[test]
fn lying_zip_sizes_are_errors_naming_archive_and_member() {
    for name in ["claims_8gib.npz", "claims_more.npz"] {
        let e = error_of(name);
        assert!(e.contains(name) && e.contains("entry `x`"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn headers_numpy_rejects_and_truncated_data_are_errors() {
    let e = error_of("descr_empty.npy");
    assert!(
        e.contains("descr_empty.npy") && e.contains("`descr` is empty"),
        "{e}"
    );
    let e = error_of("truncated.npy");
    assert!(e.contains("truncated NPY data: 50 bytes"), "{e}");
    let e = error_of("shape_2p40.npy");
    assert!(e.contains("memory limit"), "{e}");
}

#[test]
fn directories_and_missing_files_are_errors_without_repetition() {
    let dir = fixture("");
    let e = read_tensors(&dir).unwrap_err().to_string();
    assert!(e.contains("is a directory"), "{e}");
    let e = read_tensors(fixture("nope.npz")).unwrap_err().to_string();
    assert!(e.contains("nope.npz"), "{e}");
}
