//! Error paths of the text ops: bad attributes, wrong input types and corrupt images give
//! `Err`, never a panic; and a few semantic checks (RE2 translation, splitting).

use std::path::Path;

use burnish_model::{Attribute, Buffer, TensorData};

use super::pattern::{compile_full, translate};
use crate::ops::test_support::run_node;
use crate::value::Value;

fn run(
    op: &str,
    attrs: &[(&str, Attribute)],
    inputs: Vec<TensorData>,
) -> Result<Vec<Value>, String> {
    run_node("", op, attrs, 20, inputs.into_iter().map(Some).collect())
}

fn strs(shape: &[usize], v: &[&str]) -> TensorData {
    TensorData::new(
        shape.to_vec(),
        Buffer::String(v.iter().map(|s| s.to_string()).collect()),
    )
    .expect("shape")
}

fn text(s: &str) -> Attribute {
    Attribute::String(s.into())
}

fn out_strings(v: &Value) -> Vec<String> {
    match v.to_data().expect("data").data {
        Buffer::String(s) => s,
        other => panic!("not strings: {other:?}"),
    }
}

#[test]
fn re2_perl_classes_are_ascii() {
    let re = compile_full(r"\w+\s\d").expect("compiles");
    assert!(re.is_match("ab_1 7"));
    assert!(!re.is_match("é 7"));
    assert!(!re.is_match("a\u{2003}7"));
    assert!(
        compile_full(r"(?i)\bA\B\w")
            .expect("compiles")
            .is_match("ab")
    );
    assert!(compile_full(r"\Qa.b\E").expect("compiles").is_match("a.b"));
    assert!(!compile_full(r"\Qa.b\E").expect("compiles").is_match("axb"));
    assert_eq!(translate(r"[\w-]"), "[0-9A-Za-z_-]");
    assert!(compile_full(r"[^\W]+").expect("compiles").is_match("a1"));
    assert!(
        compile_full(r"[[:alpha:]&]+")
            .expect("compiles")
            .is_match("a&b")
    );
}

#[test]
fn regex_errors() {
    let x = strs(&[1], &["a"]);
    let e = run(
        "RegexFullMatch",
        &[("pattern", text("(a"))],
        vec![x.clone()],
    )
    .expect_err("err");
    assert!(e.contains("pattern"), "{e}");
    assert!(run("RegexFullMatch", &[], vec![x]).is_err());
    let num = TensorData::from_f32(vec![1], vec![1.0]);
    assert!(run("RegexFullMatch", &[("pattern", text("a"))], vec![num]).is_err());
    assert!(
        run(
            "RegexFullMatch",
            &[("pattern", text(r"\"))],
            vec![strs(&[0], &[])]
        )
        .is_err()
    );
}

#[test]
fn concat_and_equal_reject_bad_operands() {
    let a = strs(&[2], &["a", "b"]);
    let b = strs(&[3], &["a", "b", "c"]);
    assert!(run("StringConcat", &[], vec![a.clone(), b]).is_err());
    let f = TensorData::from_f32(vec![2], vec![1.0, 2.0]);
    assert!(run("StringConcat", &[], vec![a.clone(), f.clone()]).is_err());
    assert!(run("Equal", &[], vec![a.clone(), f]).is_err());
    let y = run("Equal", &[], vec![a.clone(), strs(&[], &["b"])]).expect("broadcast");
    assert_eq!(y[0].to_f64_vec().expect("bool"), vec![0.0, 1.0]);
}

#[test]
fn split_semantics_and_errors() {
    let x = strs(&[3], &[" a  b ", "", "c d e"]);
    let y = run("StringSplit", &[("maxsplit", Attribute::Int(1))], vec![x]).expect("split");
    assert_eq!(y[0].shape(), vec![3, 2]);
    assert_eq!(out_strings(&y[0]), vec!["a", "b ", "", "", "c", "d e"]);
    assert_eq!(y[1].to_i64_vec().expect("ints"), vec![2, 0, 2]);
    let f = TensorData::from_f32(vec![1], vec![1.0]);
    assert!(run("StringSplit", &[], vec![f]).is_err());
}

#[test]
fn normalizer_errors() {
    let x = strs(&[1, 2], &["a", "b"]);
    assert!(
        run(
            "StringNormalizer",
            &[("case_change_action", text("TITLE"))],
            vec![x]
        )
        .is_err()
    );
    let x3 = strs(&[2, 1], &["a", "b"]);
    assert!(run("StringNormalizer", &[], vec![x3]).is_err());
    let y = run(
        "StringNormalizer",
        &[("case_change_action", text("UPPER"))],
        vec![strs(&[1], &["straße"])],
    )
    .expect("runs");
    assert_eq!(out_strings(&y[0]), vec!["STRAßE"]);
}

fn tfidf_attrs(counts: &[i64], indexes: &[i64]) -> Vec<(&'static str, Attribute)> {
    vec![
        ("mode", text("TF")),
        ("min_gram_length", Attribute::Int(1)),
        ("max_gram_length", Attribute::Int(2)),
        ("max_skip_count", Attribute::Int(0)),
        ("ngram_counts", Attribute::Ints(counts.to_vec())),
        ("ngram_indexes", Attribute::Ints(indexes.to_vec())),
        ("pool_int64s", Attribute::Ints(vec![1, 2, 1, 2])),
    ]
}

#[test]
fn tfidf_rejects_bad_attributes_and_inputs() {
    let x = TensorData::from_i64(vec![4], vec![1, 2, 1, 2]);
    assert!(
        run(
            "TfIdfVectorizer",
            &tfidf_attrs(&[0, 2], &[0, 1, 2]),
            vec![x.clone()]
        )
        .is_ok()
    );
    assert!(
        run(
            "TfIdfVectorizer",
            &tfidf_attrs(&[0, 3], &[0, 1, 2]),
            vec![x.clone()]
        )
        .is_err()
    );
    assert!(
        run(
            "TfIdfVectorizer",
            &tfidf_attrs(&[0, 9], &[0, 1, 2]),
            vec![x.clone()]
        )
        .is_err()
    );
    assert!(
        run(
            "TfIdfVectorizer",
            &tfidf_attrs(&[0, 2], &[0, -1, 2]),
            vec![x.clone()]
        )
        .is_err()
    );
    assert!(
        run(
            "TfIdfVectorizer",
            &tfidf_attrs(&[0, 2], &[0, 1]),
            vec![x.clone()]
        )
        .is_err()
    );
    let mut weighted = tfidf_attrs(&[0, 2], &[0, 1, 2]);
    weighted.push(("weights", Attribute::Floats(vec![1.0])));
    assert!(run("TfIdfVectorizer", &weighted, vec![x.clone()]).is_err());
    let attrs = tfidf_attrs(&[0, 2], &[0, 1, 2]);
    assert!(run("TfIdfVectorizer", &attrs, vec![strs(&[1], &["a"])]).is_err());
    let cube = TensorData::from_i64(vec![1, 2, 2], vec![1, 2, 1, 2]);
    assert!(run("TfIdfVectorizer", &attrs, vec![cube]).is_err());
    let empty = TensorData::from_i64(vec![2, 0], vec![]);
    let y = run("TfIdfVectorizer", &attrs, vec![empty]).expect("empty rows");
    assert_eq!(y[0].shape(), vec![2, 3]);
}

/// The encoded bytes of a committed ImageDecoder case.
fn case_bytes(case: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ops/text")
        .join(case)
        .join("test_data_set_0/input_0.pb");
    let bytes = std::fs::read(&path).expect("fixture");
    let proto =
        <onnx_ir::TensorProto as onnx_ir::Message>::parse_from_bytes(&bytes).expect("proto");
    match burnish_model::onnx::decode_tensor(&proto, None)
        .expect("tensor")
        .data
    {
        Buffer::U8(v) => v,
        other => panic!("not bytes: {other:?}"),
    }
}

fn decode(bytes: &[u8], format: &str) -> Result<Vec<Value>, String> {
    let t = TensorData::new(vec![bytes.len()], Buffer::U8(bytes.to_vec())).expect("shape");
    run("ImageDecoder", &[("pixel_format", text(format))], vec![t])
}

#[test]
fn image_decoder_survives_corrupt_data() {
    for case in [
        "image_decoder_jpeg_422_restart_odd_size_rgb",
        "image_decoder_jpeg_progressive_444_restart_bgr",
        "image_decoder_png_rgba_rgb",
    ] {
        let good = case_bytes(case);
        assert!(decode(&good, "RGB").is_ok());
        for n in (0..good.len()).step_by(7) {
            let _ = decode(&good[..n], "RGB");
        }
        for i in (0..good.len()).step_by(5) {
            let mut bad = good.clone();
            bad[i] ^= 0x5A;
            let _ = decode(&bad, "Grayscale");
        }
    }
    assert!(decode(&[], "RGB").is_err());
    assert!(decode(b"not an image at all", "RGB").is_err());
    assert!(
        decode(
            &[
                0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0x11, 0
            ],
            "RGB"
        )
        .is_err()
    );
    assert!(decode(&[0xFF, 0xD8, 0xFF], "HSV").is_err());
    let f = TensorData::from_f32(vec![2], vec![1.0, 2.0]);
    assert!(run("ImageDecoder", &[], vec![f]).is_err());
}
