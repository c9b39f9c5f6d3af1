//! Enum-like attributes (modes, flags, element types) and the constant inputs that size an
//! output (`Resize` scales and sizes).

use super::{Known, MAX_DIM, attr_err, int, int_in, ints_in_range, one_of};
use crate::DType;
use crate::attr::Attribute;
use crate::graph::Node;

const COORDINATE_MODES: &[&str] = &[
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
];

const CONSTANT_VALUES: &[&str] = &[
    "value",
    "value_float",
    "value_floats",
    "value_int",
    "value_ints",
    "value_string",
    "value_strings",
    "sparse_value",
];

pub(super) fn check(node: &Node, known: &Known, opset: i64) -> Result<(), String> {
    match node.op_type.as_str() {
        "Resize" | "Upsample" => resize(node, known, opset),
        "Pad" => {
            one_of(node, "mode", &["constant", "reflect", "edge", "wrap"])?;
            ints_in_range(node, "pads", -MAX_DIM).map(drop)
        }
        "Cast" => dtype_attr(node, "to", true),
        "RandomNormal" | "RandomUniform" => {
            dtype_attr(node, "dtype", false)?;
            ints_in_range(node, "shape", 0).map(drop)
        }
        "EyeLike" | "RandomNormalLike" | "RandomUniformLike" | "Multinomial" | "Bernoulli" => {
            dtype_attr(node, "dtype", false)
        }
        "Constant" => {
            let n = CONSTANT_VALUES
                .iter()
                .filter(|a| node.attrs.contains_key(**a))
                .count();
            match n {
                1 => Ok(()),
                _ => Err(format!(
                    "has {n} value attributes; a Constant needs exactly one of {}",
                    CONSTANT_VALUES.join(", ")
                )),
            }
        }
        "ConstantOfShape" => match node.attrs.get("value") {
            Some(Attribute::Tensor(t)) if t.len() != 1 => Err(attr_err(
                "value",
                format!("holds {} elements; it must hold one", t.len()),
            )),
            _ => Ok(()),
        },
        "DepthToSpace" | "SpaceToDepth" => {
            one_of(node, "mode", &["DCR", "CRD"])?;
            int_in(node, "blocksize", 1..=MAX_DIM)
        }
        "GridSample" => {
            let modes = ["bilinear", "nearest", "bicubic", "linear", "cubic"];
            one_of(node, "mode", &modes)?;
            one_of(node, "padding_mode", &["zeros", "border", "reflection"])?;
            int_in(node, "align_corners", 0..=1)
        }
        "Gelu" => one_of(node, "approximate", &["none", "tanh"]),
        "Gemm" => {
            int_in(node, "transA", 0..=1)?;
            int_in(node, "transB", 0..=1)
        }
        "TopK" => {
            int_in(node, "largest", 0..=1)?;
            int_in(node, "sorted", 0..=1)
        }
        "CumSum" => {
            int_in(node, "exclusive", 0..=1)?;
            int_in(node, "reverse", 0..=1)
        }
        "LRN" => int_in(node, "size", 1..=MAX_DIM),
        "Split" => ints_in_range(node, "split", 0).map(drop),
        op if op.starts_with("Reduce") => {
            int_in(node, "keepdims", 0..=1)?;
            int_in(node, "noop_with_empty_axes", 0..=1)
        }
        _ => Ok(()),
    }
}

/// An element-type attribute must name a type burnish represents.
fn dtype_attr(node: &Node, name: &str, required: bool) -> Result<(), String> {
    match int(node, name) {
        Some(code) if code > i32::MAX as i64 || DType::from_onnx(code as i32).is_none() => {
            Err(attr_err(
                name,
                format!("is {code}, not an element type burnish supports"),
            ))
        }
        None if required && !node.attrs.contains_key(name) => {
            Err(format!("required attribute `{name}` is missing"))
        }
        _ => Ok(()),
    }
}

fn resize(node: &Node, known: &Known, opset: i64) -> Result<(), String> {
    let modes: &[&str] = match (node.op_type.as_str(), opset) {
        ("Upsample", _) => &["nearest", "linear", "bilinear"],
        (_, 11..) => &["nearest", "linear", "cubic"],
        _ => &["nearest", "linear"],
    };
    one_of(node, "mode", modes)?;
    one_of(node, "coordinate_transformation_mode", COORDINATE_MODES)?;
    let nearest = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];
    one_of(node, "nearest_mode", &nearest)?;
    let policies = ["stretch", "not_larger", "not_smaller"];
    one_of(node, "keep_aspect_ratio_policy", &policies)?;
    int_in(node, "exclude_outside", 0..=1)?;
    int_in(node, "antialias", 0..=1)?;
    let (scales_at, sizes_at) = match (node.op_type.as_str(), opset) {
        ("Resize", 11..) => (2, Some(3)),
        _ => (1, None),
    };
    let rank = if node.attrs.contains_key("axes") {
        super::ints(node, "axes")?.map(|a| a.len())
    } else {
        known.rank(node.input(0).unwrap_or(""))
    };
    let scales = node.input(scales_at).and_then(|n| known.constant(n));
    let sizes = sizes_at
        .and_then(|i| node.input(i))
        .and_then(|n| known.constant(n));
    if let (Some(sc), Some(sz)) = (scales, sizes)
        && !sc.is_empty()
        && !sz.is_empty()
    {
        return Err("has both scales and sizes; give one".into());
    }
    if let Some(sc) = scales.filter(|t| !t.is_empty()) {
        let values = sc.to_f64_vec().unwrap_or_default();
        if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(format!("scale {v} is not a positive finite number"));
        }
        if let Some(r) = rank
            && values.len() != r
        {
            return Err(format!("has {} scales for rank {r}", values.len()));
        }
    }
    if let Some(sz) = sizes.filter(|t| !t.is_empty()) {
        let values = sz.to_f64_vec().unwrap_or_default();
        if let Some(v) = values.iter().find(|v| !(0.0..=MAX_DIM as f64).contains(*v)) {
            return Err(format!("size {v} is negative or too large"));
        }
        if let Some(r) = rank
            && values.len() != r
        {
            return Err(format!("has {} sizes for rank {r}", values.len()));
        }
    }
    Ok(())
}
