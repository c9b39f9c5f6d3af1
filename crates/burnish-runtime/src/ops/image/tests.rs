//! Error paths and small checks of the image/signal ops and of the pool, resize, pad, reduce
//! and recurrent features added with them: bad data gives `Err`, never a panic.

use burnish_model::{Attribute, Buffer, TensorData};

use crate::ops::test_support::run_node;
use crate::value::Value;

/// Builds `op` with `attrs` at `opset` and runs it on `inputs` (`None`: omitted).
fn run(
    op: &str,
    attrs: &[(&str, Attribute)],
    opset: i64,
    inputs: Vec<Option<TensorData>>,
) -> Result<Vec<Value>, String> {
    run_node("", op, attrs, opset, inputs)
}

fn f32s(shape: &[usize], f: impl Fn(usize) -> f32) -> Option<TensorData> {
    let n = shape.iter().product();
    Some(TensorData::from_f32(
        shape.to_vec(),
        (0..n).map(f).collect(),
    ))
}

fn i64s(shape: &[usize], v: Vec<i64>) -> Option<TensorData> {
    Some(TensorData::from_i64(shape.to_vec(), v))
}

fn ints(v: &[i64]) -> Attribute {
    Attribute::Ints(v.to_vec())
}

fn floats_of(v: &Value) -> Vec<f64> {
    v.to_f64_vec().expect("numeric")
}

#[test]
fn grid_ops_reject_mismatched_shapes() {
    let x = f32s(&[1, 1, 3, 3], |i| i as f32);
    let err = run(
        "GridSample",
        &[],
        22,
        vec![x.clone(), f32s(&[1, 2, 2, 3], |_| 0.0)],
    );
    assert!(err.unwrap_err().contains("do not fit"));
    let err = run(
        "GridSample",
        &[("mode", Attribute::String("area".into()))],
        22,
        vec![],
    );
    assert!(err.unwrap_err().contains("mode"));
    let theta = f32s(&[2, 2, 3], |_| 1.0);
    let err = run(
        "AffineGrid",
        &[],
        20,
        vec![theta.clone(), i64s(&[4], vec![1, 1, 2, 2])],
    );
    assert!(err.unwrap_err().contains("does not fit theta"));
    let err = run(
        "AffineGrid",
        &[],
        20,
        vec![theta, i64s(&[3], vec![2, 1, 2])],
    );
    assert!(err.is_err());
}

#[test]
fn grid_sample_identity_grid_returns_the_input() {
    let x = f32s(&[1, 1, 2, 3], |i| i as f32 * 1.5);
    let theta = f32s(&[1, 2, 3], |i| [1.0, 0.0, 0.0, 0.0, 1.0, 0.0][i]);
    let grid = run(
        "AffineGrid",
        &[],
        20,
        vec![theta, i64s(&[4], vec![1, 1, 2, 3])],
    )
    .unwrap();
    let grid = grid[0].to_data().unwrap();
    for mode in ["nearest", "linear", "cubic"] {
        let attrs = [("mode", Attribute::String(mode.into()))];
        let y = run(
            "GridSample",
            &attrs,
            22,
            vec![x.clone(), Some(grid.clone())],
        )
        .unwrap();
        let want = x.as_ref().unwrap().to_f64_vec().unwrap();
        for (a, b) in floats_of(&y[0]).iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{mode}: {a} vs {b}");
        }
    }
}

#[test]
fn detection_ops_reject_bad_indices_and_shapes() {
    let x = f32s(&[1, 1, 4, 4], |i| i as f32);
    let rois = f32s(&[1, 4], |_| 1.0);
    let err = run(
        "RoiAlign",
        &[],
        16,
        vec![x.clone(), rois.clone(), i64s(&[1], vec![3])],
    );
    assert!(err.unwrap_err().contains("batch index 3"));
    let err = run("RoiAlign", &[], 16, vec![x, rois, i64s(&[2], vec![0, 0])]);
    assert!(err.is_err());
    let boxes = f32s(&[1, 3, 4], |i| i as f32);
    let err = run(
        "NonMaxSuppression",
        &[],
        11,
        vec![boxes.clone(), f32s(&[1, 1, 2], |_| 0.5)],
    );
    assert!(err.unwrap_err().contains("must be [B, N, 4]"));
    let y = run(
        "NonMaxSuppression",
        &[],
        11,
        vec![boxes, f32s(&[1, 2, 3], |i| i as f32), i64s(&[1], vec![1])],
    )
    .unwrap();
    assert_eq!(y[0].to_i64_vec().unwrap(), vec![0, 0, 2, 0, 1, 2]);
}

#[test]
fn deform_conv_rejects_an_offset_of_the_wrong_shape() {
    let x = f32s(&[1, 1, 3, 3], |i| i as f32);
    let w = f32s(&[1, 1, 2, 2], |_| 1.0);
    let err = run(
        "DeformConv",
        &[],
        19,
        vec![x.clone(), w.clone(), f32s(&[1, 8, 3, 3], |_| 0.0)],
    );
    assert!(err.unwrap_err().contains("do not fit"));
    let y = run(
        "DeformConv",
        &[],
        19,
        vec![x, w, f32s(&[1, 8, 2, 2], |_| 0.0)],
    )
    .unwrap();
    assert_eq!(floats_of(&y[0]), vec![8.0, 12.0, 20.0, 24.0]);
}

#[test]
fn signal_ops_reject_bad_axes_lengths_and_sizes() {
    let x = f32s(&[2, 4, 1], |i| i as f32);
    let err = run("DFT", &[], 20, vec![x.clone(), None, i64s(&[], vec![2])]);
    assert!(err.unwrap_err().contains("axis 2"));
    let err = run("DFT", &[], 20, vec![x.clone(), i64s(&[], vec![0])]);
    assert!(err.unwrap_err().contains("dft_length 0"));
    let err = run("DFT", &[], 17, vec![f32s(&[2, 4, 3], |_| 0.0)]);
    assert!(err.is_err());
    let err = run(
        "STFT",
        &[],
        17,
        vec![x.clone(), i64s(&[], vec![1]), None, i64s(&[], vec![9])],
    );
    assert!(err.unwrap_err().contains("frame_length 9"));
    let err = run("HannWindow", &[], 17, vec![i64s(&[], vec![-2])]);
    assert!(err.unwrap_err().contains("negative"));
    let err = run(
        "HannWindow",
        &[("output_datatype", Attribute::Int(8))],
        17,
        vec![],
    );
    assert!(err.is_err());
    let scalar = |v: f32| Some(TensorData::from_f32(vec![], vec![v]));
    let mel = vec![
        i64s(&[], vec![4]),
        i64s(&[], vec![16]),
        i64s(&[], vec![0]),
        scalar(0.0),
        scalar(100.0),
    ];
    assert!(run("MelWeightMatrix", &[], 17, mel).is_err());
}

#[test]
fn inverse_of_forward_dft_is_the_signal() {
    for n in [1, 5, 16, 100] {
        let x = f32s(&[1, n, 2], |i| ((i * 7919) % 13) as f32 - 6.0);
        let y = run("DFT", &[], 20, vec![x.clone()]).unwrap();
        let back = run(
            "DFT",
            &[("inverse", Attribute::Int(1))],
            20,
            vec![Some(y[0].to_data().unwrap())],
        );
        let want = x.as_ref().unwrap().to_f64_vec().unwrap();
        for (a, b) in floats_of(&back.unwrap()[0]).iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "n {n}: {a} vs {b}");
        }
    }
}

#[test]
fn pools_reject_bad_attributes_and_inputs() {
    let x = f32s(&[1, 1, 4, 4], |i| i as f32);
    let err = run(
        "LpPool",
        &[("kernel_shape", ints(&[2, 2])), ("p", Attribute::Int(0))],
        18,
        vec![],
    );
    assert!(err.unwrap_err().contains("p 0"));
    let err = run(
        "LpPool",
        &[("kernel_shape", ints(&[2]))],
        18,
        vec![x.clone()],
    );
    assert!(err.unwrap_err().contains("kernel_shape"));
    let err = run(
        "MaxPool",
        &[("storage_order", Attribute::Int(2))],
        12,
        vec![],
    );
    assert!(err.is_err());
    let attrs = [
        ("kernel_shape", ints(&[2, 2, 2])),
        ("dilations", ints(&[2, 1, 1])),
    ];
    let err = run(
        "AveragePool",
        &attrs,
        19,
        vec![f32s(&[1, 1, 2, 3, 3], |_| 1.0)],
    );
    assert!(err.unwrap_err().contains("does not fit"));
}

#[test]
fn resize_takes_negative_axes_and_rejects_bad_scales() {
    let x = f32s(&[1, 1, 2, 2], |i| i as f32);
    let attrs = [("axes", ints(&[-1]))];
    let sizes = i64s(&[1], vec![4]);
    let y = run("Resize", &attrs, 19, vec![x.clone(), None, None, sizes]).unwrap();
    assert_eq!(y[0].shape(), vec![1, 1, 2, 4]);
    let scales = f32s(&[4], |i| [1.0, 1.0, 0.0, 2.0][i]);
    let err = run("Resize", &[], 19, vec![x.clone(), None, scales]);
    assert!(err.unwrap_err().contains("must be positive"));
    let attrs = [(
        "coordinate_transformation_mode",
        Attribute::String("tf_crop_and_resize".into()),
    )];
    let sizes = i64s(&[4], vec![1, 1, 3, 3]);
    assert!(run("Resize", &attrs, 19, vec![x, None, None, sizes]).is_err());
}

#[test]
fn pad_reduce_and_recurrent_errors() {
    let empty = Some(TensorData::new(vec![0, 2], Buffer::F32(vec![])).unwrap());
    let pads = i64s(&[4], vec![1, 0, 1, 0]);
    let err = run(
        "Pad",
        &[("mode", Attribute::String("wrap".into()))],
        19,
        vec![empty, pads],
    );
    assert!(err.unwrap_err().contains("empty"));
    let b = Some(TensorData::new(vec![2], Buffer::Bool(vec![true, false])).unwrap());
    assert!(run("ReduceSum", &[], 18, vec![b.clone()]).is_err());
    let y = run("ReduceMin", &[], 18, vec![b]).unwrap();
    assert_eq!(y[0].to_i64_vec().unwrap(), vec![0]);
    let e = Some(TensorData::new(vec![0], Buffer::I32(vec![])).unwrap());
    assert!(run("ReduceLogSum", &[], 18, vec![e.clone()]).is_err());
    let y = run("ReduceMin", &[], 18, vec![e]).unwrap();
    assert_eq!(y[0].to_i64_vec().unwrap(), vec![i32::MAX as i64]);
    let attrs = [("hidden_size", Attribute::Int(2))];
    let rnn = vec![
        f32s(&[1, 1, 3], |_| 1.0),
        f32s(&[1, 2, 3], |_| 1.0),
        f32s(&[1, 2, 2], |_| 1.0),
        f32s(&[1, 3], |_| 1.0),
    ];
    assert!(
        run("RNN", &attrs, 22, rnn)
            .unwrap_err()
            .contains("B [1, 3]")
    );
    let lstm = vec![
        f32s(&[1, 1, 3], |_| 1.0),
        f32s(&[1, 8, 3], |_| 1.0),
        f32s(&[1, 8, 2], |_| 1.0),
        None,
        None,
        None,
        None,
        f32s(&[1, 5], |_| 1.0),
    ];
    assert!(
        run("LSTM", &attrs, 22, lstm)
            .unwrap_err()
            .contains("P [1, 5]")
    );
}
