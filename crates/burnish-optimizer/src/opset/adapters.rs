//! The rewrites of the op versions whose form changed. Each takes the node in the form before
//! the change and returns the node(s) in the form after it, or says why it cannot.

use burnish_model::{AttrExt, Attribute, Buffer, Node, TensorData};

use super::ctx::{Ctx, float_scalar};
use crate::rewrite::use_count;

/// An adapter: the node before a version change -> the nodes after it.
pub type Adapter = fn(&mut Ctx, Node) -> Result<Vec<Node>, String>;

fn attr_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Removes the attributes an op version dropped (legacy flags with no effect at inference).
fn without(mut n: Node, names: &[&str]) -> Result<Vec<Node>, String> {
    for k in names {
        n.attrs.remove(*k);
    }
    Ok(vec![n])
}

/// Opset 6: `consumed_inputs` (a legacy memory hint) is gone.
pub fn drop_consumed(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    without(n, &["consumed_inputs"])
}

/// `BatchNormalization`/`Dropout` 7: `is_test` is gone (inference is the only mode).
pub fn drop_is_test(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    without(n, &["is_test"])
}

/// `RNN`/`GRU`/`LSTM` 7: `output_sequence` is gone (`Y` is simply optional).
pub fn drop_output_sequence(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    without(n, &["output_sequence"])
}

/// `Gemm` 7: `broadcast` is gone (`C` broadcasts unidirectionally).
pub fn gemm_broadcast(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    without(n, &["broadcast"])
}

/// Binary ops 7: `broadcast`/`axis` give way to numpy broadcasting. With `axis` set, `B`'s
/// dims align at `axis` of `A`: a constant `B` gets the trailing 1s numpy needs.
pub fn legacy_broadcast(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let b = n.attrs.int_or("broadcast", 0).map_err(attr_err)?;
    let axis = n.attrs.int_opt("axis").map_err(attr_err)?;
    n.attrs.remove("broadcast");
    n.attrs.remove("axis");
    let Some(axis) = axis.filter(|_| b == 1) else {
        return Ok(vec![n]);
    };
    let (a, bn) = (n.inputs[0].clone(), n.inputs[1].clone());
    let (Some(ra), Some(rb)) = (ctx.rank(&a), ctx.rank(&bn)) else {
        return Err(format!(
            "legacy broadcast along axis {axis}: the ranks of `{a}` and `{bn}` are not declared"
        ));
    };
    let ax = if axis < 0 { axis + ra as i64 } else { axis } as usize;
    if ax + rb == ra {
        return Ok(vec![n]);
    }
    let Some(t) = ctx.value(&bn).cloned() else {
        return Err(format!(
            "legacy broadcast along axis {axis}: `{bn}` is not a constant to reshape"
        ));
    };
    let mut shape = t.shape.clone();
    shape.resize(ra - ax, 1);
    let name = ctx.constant(
        &format!("{bn}_aligned"),
        TensorData {
            shape,
            data: t.data,
        },
    );
    n.inputs[1] = name;
    Ok(vec![n])
}

/// `Cast` 6: `to` is an element-type code instead of a name.
pub fn cast_code(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    if let Some(Attribute::String(s)) = n.attrs.get("to") {
        let code = match s.to_ascii_uppercase().as_str() {
            "FLOAT" => 1,
            "UINT8" => 2,
            "INT8" => 3,
            "UINT16" => 4,
            "INT16" => 5,
            "INT32" => 6,
            "INT64" => 7,
            "STRING" => 8,
            "BOOL" => 9,
            "FLOAT16" => 10,
            "DOUBLE" => 11,
            "UINT32" => 12,
            "UINT64" => 13,
            other => return Err(format!("unknown Cast target `{other}`")),
        };
        n.attrs.insert("to".into(), Attribute::Int(code));
    }
    Ok(vec![n])
}

/// `Concat` 4: `axis` becomes required (it defaulted to 1).
pub fn concat_axis(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    n.attrs.entry("axis".into()).or_insert(Attribute::Int(1));
    Ok(vec![n])
}

/// Moves the int-list attribute `attr` to input `slot` as an int64 initializer (omitted
/// inputs before it become `""`). Absent attribute: nothing changes.
fn ints_to_input(ctx: &mut Ctx, mut n: Node, attr: &str, slot: usize) -> Result<Vec<Node>, String> {
    let Some(v) = n.attrs.ints_opt(attr).map_err(attr_err)? else {
        return Ok(vec![n]);
    };
    n.attrs.remove(attr);
    let name = ctx.ints(&format!("{}_{attr}", n.name), v);
    if n.inputs.len() < slot {
        n.inputs.resize(slot, String::new());
    }
    n.inputs.insert(slot, name);
    n.inputs.truncate(slot + 1);
    Ok(vec![n])
}

/// `Squeeze`/`Unsqueeze`/`ReduceSum` 13 and the other reductions 18: `axes` becomes input 1.
pub fn axes_to_input(ctx: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    ints_to_input(ctx, n, "axes", 1)
}

/// `Split` 13: `split` becomes input 1.
pub fn split_to_input(ctx: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    ints_to_input(ctx, n, "split", 1)
}

/// `Split` 2: the sizes may no longer come as a second input.
pub fn split_2(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    if n.input(1).is_some() {
        return Err("Split-1 with the sizes as an input has no later form".into());
    }
    Ok(vec![n])
}

/// `Reshape` 5: `shape` becomes input 1.
pub fn reshape_5(ctx: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    let n = without(n, &["consumed_inputs"])?.remove(0);
    ints_to_input(ctx, n, "shape", 1)
}

/// `TopK` 10: `k` becomes a one-element int64 input.
pub fn topk_10(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let k = n
        .attrs
        .int_opt("k")
        .map_err(attr_err)?
        .ok_or("TopK without `k`")?;
    n.attrs.remove("k");
    let name = ctx.ints(&format!("{}_k", n.name), vec![k]);
    n.inputs.truncate(1);
    n.inputs.push(name);
    Ok(vec![n])
}

/// `Slice` 10: `starts`, `ends` and `axes` become inputs 1-3.
pub fn slice_10(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let mut inputs = vec![n.inputs[0].clone()];
    for (k, required) in [("starts", true), ("ends", true), ("axes", false)] {
        match n.attrs.ints_opt(k).map_err(attr_err)? {
            Some(v) => inputs.push(ctx.ints(&format!("{}_{k}", n.name), v)),
            None if required => return Err(format!("Slice without `{k}`")),
            None => {}
        }
        n.attrs.remove(k);
    }
    n.inputs = inputs;
    Ok(vec![n])
}

/// `Pad` 2: `paddings` is renamed `pads`.
pub fn pad_2(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    if let Some(p) = n.attrs.remove("paddings") {
        n.attrs.insert("pads".into(), p);
    }
    Ok(vec![n])
}

/// `Pad` 11: `pads` becomes an int64 input, a non-zero `value` a scalar input of the data's
/// type.
pub fn pad_11(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let pads = n
        .attrs
        .ints_opt("pads")
        .map_err(attr_err)?
        .ok_or("Pad without `pads`")?;
    let value = n.attrs.float_or("value", 0.0).map_err(attr_err)?;
    n.attrs.remove("pads");
    n.attrs.remove("value");
    let p = ctx.ints(&format!("{}_pads", n.name), pads);
    n.inputs.truncate(1);
    n.inputs.push(p);
    if value != 0.0 {
        let t = ctx.float_type(&n.inputs[0])?;
        let v = ctx.constant(&format!("{}_value", n.name), float_scalar(t, value));
        n.inputs.push(v);
    }
    Ok(vec![n])
}

/// `Clip` 11: `min`/`max` become scalar inputs of the data's type.
pub fn clip_11(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let lo = n.attrs.float_opt("min").map_err(attr_err)?;
    let hi = n.attrs.float_opt("max").map_err(attr_err)?;
    n.attrs.remove("min");
    n.attrs.remove("max");
    if lo.is_none() && hi.is_none() {
        return Ok(vec![n]);
    }
    let t = ctx.float_type(&n.inputs[0])?;
    n.inputs.truncate(1);
    n.inputs.push(match lo {
        Some(v) => ctx.constant(&format!("{}_min", n.name), float_scalar(t, v)),
        None => String::new(),
    });
    if let Some(v) = hi {
        let name = ctx.constant(&format!("{}_max", n.name), float_scalar(t, v));
        n.inputs.push(name);
    }
    Ok(vec![n])
}

/// `Softmax`/`LogSoftmax`/`Hardmax` 13: `axis` names one axis instead of the point where the
/// input is coerced to 2-D. Where the two differ (an axis before the last, or an undeclared
/// rank), the old meaning is spelled out: `Flatten(axis) -> op(axis 1) -> Reshape(Shape(x))`.
pub fn coerce_2d(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let axis = n.attrs.int_or("axis", 1).map_err(attr_err)?;
    let x = n.inputs[0].clone();
    let last = match (axis, ctx.rank(&x)) {
        (-1, _) => true,
        (a, Some(r)) => (if a < 0 { a + r as i64 } else { a }) == r as i64 - 1,
        _ => false,
    };
    if last {
        n.attrs.insert("axis".into(), Attribute::Int(-1));
        return Ok(vec![n]);
    }
    let base = n.name.clone();
    let (flat, y2, shape) = (
        ctx.fresh(&format!("{x}_2d")),
        ctx.fresh(&format!("{}_2d", n.outputs[0])),
        ctx.fresh(&format!("{x}_shape")),
    );
    let mut flatten = ctx.node(
        &format!("{base}_flatten"),
        "Flatten",
        vec![x.clone()],
        vec![flat.clone()],
    );
    flatten.attrs.insert("axis".into(), Attribute::Int(axis));
    let y = std::mem::replace(&mut n.outputs, vec![y2.clone()]);
    n.inputs = vec![flat];
    n.attrs.insert("axis".into(), Attribute::Int(-1));
    let shape_node = ctx.node(
        &format!("{base}_shape"),
        "Shape",
        vec![x],
        vec![shape.clone()],
    );
    let reshape = ctx.node(&format!("{base}_reshape"), "Reshape", vec![y2, shape], y);
    Ok(vec![flatten, n, shape_node, reshape])
}

/// `Dropout` 12: `ratio` would become an input; at inference it has no effect, so it is
/// dropped.
pub fn dropout_12(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    without(n, &["ratio"])
}

/// `BatchNormalization` 9: `spatial` is gone (statistics are per channel).
pub fn batchnorm_9(_: &mut Ctx, n: Node) -> Result<Vec<Node>, String> {
    if n.attrs.int_or("spatial", 1).map_err(attr_err)? == 0 {
        return Err("spatial = 0 (per-activation statistics) has no form from opset 9 on".into());
    }
    without(n, &["spatial"])
}

/// `BatchNormalization` 14: the training outputs change; they must be unused.
pub fn batchnorm_14(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    if let Some(o) = n.outputs[1..]
        .iter()
        .find(|o| !o.is_empty() && use_count(ctx.graph, o) > 0)
    {
        return Err(format!("the training output `{o}` is read"));
    }
    n.outputs.truncate(1);
    Ok(vec![n])
}

/// `Upsample` 7: `height_scale`/`width_scale` become `scales`, `bilinear` is `linear`.
pub fn upsample_7(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let h = n.attrs.float_or("height_scale", 1.0).map_err(attr_err)?;
    let w = n.attrs.float_or("width_scale", 1.0).map_err(attr_err)?;
    n.attrs.remove("height_scale");
    n.attrs.remove("width_scale");
    n.attrs
        .insert("scales".into(), Attribute::Floats(vec![1.0, 1.0, h, w]));
    if n.attrs.string_or("mode", "nearest").map_err(attr_err)? == "bilinear" {
        n.attrs
            .insert("mode".into(), Attribute::String("linear".into()));
    }
    Ok(vec![n])
}

/// `Upsample` 9: `scales` becomes a float input.
pub fn upsample_9(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let s = n
        .attrs
        .floats_opt("scales")
        .map_err(attr_err)?
        .ok_or("Upsample without `scales`")?;
    n.attrs.remove("scales");
    let name = ctx.constant(
        &format!("{}_scales", n.name),
        TensorData::from_f32(vec![s.len()], s),
    );
    n.inputs.truncate(1);
    n.inputs.push(name);
    Ok(vec![n])
}

/// `Upsample` 10 (deprecated): becomes `Resize`-10, which has the same inputs.
pub fn upsample_10(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    n.op_type = "Resize".into();
    Ok(vec![n])
}

/// `Resize` 11: inputs `(X, roi, scales)`, coordinates `asymmetric` as before; nearest
/// rounding as Resize-10 had it (onnxruntime: down for upsampling, up for downsampling), which
/// needs constant scales that all go one way.
pub fn resize_11(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let mode = n.attrs.string_or("mode", "nearest").map_err(attr_err)?;
    if mode == "nearest" {
        let scales = n
            .input(1)
            .and_then(|s| ctx.value(s))
            .and_then(|t| t.to_f64_vec())
            .ok_or("nearest Resize-10 with scales computed at run time (their direction decides the rounding)")?;
        let rounding = if scales.iter().all(|&s| s >= 1.0) {
            "floor"
        } else if scales.iter().all(|&s| s <= 1.0) {
            "ceil"
        } else {
            return Err("nearest Resize-10 that scales up and down at once".into());
        };
        n.attrs
            .insert("nearest_mode".into(), Attribute::String(rounding.into()));
    }
    n.attrs.insert(
        "coordinate_transformation_mode".into(),
        Attribute::String("asymmetric".into()),
    );
    let roi = ctx.constant(
        &format!("{}_roi", n.name),
        TensorData::new(vec![0], Buffer::F32(vec![])).map_err(attr_err)?,
    );
    n.inputs.insert(1, roi);
    n.inputs.truncate(3);
    Ok(vec![n])
}

/// `Scatter` 11 (deprecated): becomes `ScatterElements`, the same op.
pub fn scatter_11(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    n.op_type = "ScatterElements".into();
    Ok(vec![n])
}

/// `LpPool`/`GlobalLpPool` 2: `p` is an int.
pub fn lp_pool_2(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    if let Some(p) = n.attrs.float_opt("p").map_err(attr_err)? {
        if p.fract() != 0.0 {
            return Err(format!("p = {p} is not an integer"));
        }
        n.attrs.insert("p".into(), Attribute::Int(p as i64));
    }
    Ok(vec![n])
}

/// `RoiAlign` 16: the default coordinates become `half_pixel`; the old default is kept.
pub fn roi_align_16(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    n.attrs
        .entry("coordinate_transformation_mode".into())
        .or_insert(Attribute::String("output_half_pixel".into()));
    Ok(vec![n])
}

/// `GridSample` 20: modes `bilinear`/`bicubic` are renamed `linear`/`cubic`.
pub fn grid_sample_20(_: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let mode = n.attrs.string_or("mode", "bilinear").map_err(attr_err)?;
    let new = match mode.as_str() {
        "bilinear" => "linear",
        "bicubic" => "cubic",
        other => other,
    };
    n.attrs.insert("mode".into(), Attribute::String(new.into()));
    Ok(vec![n])
}

/// `DFT` 20: `axis` (default 1) becomes input 2 (whose default is -2, so it is always given).
pub fn dft_20(ctx: &mut Ctx, mut n: Node) -> Result<Vec<Node>, String> {
    let axis = n.attrs.int_or("axis", 1).map_err(attr_err)?;
    n.attrs.remove("axis");
    let name = ctx.constant(
        &format!("{}_axis", n.name),
        TensorData::new(vec![], Buffer::I64(vec![axis])).map_err(attr_err)?,
    );
    n.inputs.resize(2, String::new());
    n.inputs.push(name);
    Ok(vec![n])
}
