//! Convolutions and pools: group, kernel, strides, pads, dilations and output attributes in
//! range and consistent with each other, with the weights and with the input where known.

use super::{Known, MAX_DIM, attr_err, int, int_in, ints_in_range, one_of};
use crate::graph::Node;

const AUTO_PAD: &[&str] = &["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];

/// Where a convolution keeps its data, weights and bias.
struct Layout {
    x: usize,
    w: usize,
    bias: Option<usize>,
    transpose: bool,
}

pub(super) fn check(node: &Node, known: &Known) -> Result<(), String> {
    let layout = |x, w, bias, transpose| Layout {
        x,
        w,
        bias,
        transpose,
    };
    match node.op_type.as_str() {
        "Conv" => conv(node, known, layout(0, 1, Some(2), false)),
        "ConvInteger" => conv(node, known, layout(0, 1, None, false)),
        "QLinearConv" => conv(node, known, layout(0, 3, Some(8), false)),
        "ConvTranspose" => conv(node, known, layout(0, 1, Some(2), true)),
        "MaxPool" | "AveragePool" | "LpPool" => pool(node, known),
        _ => Ok(()),
    }
}

/// The spatial attributes shared by convolutions and pools, checked for range and length.
struct Window {
    kernel: Option<Vec<i64>>,
    strides: Option<Vec<i64>>,
    dilations: Option<Vec<i64>>,
    pads: Option<Vec<i64>>,
}

fn window(node: &Node, spatial: Option<usize>) -> Result<Window, String> {
    one_of(node, "auto_pad", AUTO_PAD)?;
    let w = Window {
        kernel: ints_in_range(node, "kernel_shape", 1)?,
        strides: ints_in_range(node, "strides", 1)?,
        dilations: ints_in_range(node, "dilations", 1)?,
        pads: ints_in_range(node, "pads", 0)?,
    };
    let spatial = spatial.or(w.kernel.as_ref().map(Vec::len));
    if let Some(s) = spatial {
        for (name, values, want) in [
            ("kernel_shape", &w.kernel, s),
            ("strides", &w.strides, s),
            ("dilations", &w.dilations, s),
            ("pads", &w.pads, 2 * s),
        ] {
            if let Some(v) = values
                && v.len() != want
            {
                return Err(attr_err(
                    name,
                    format!("has {} values for {s} spatial dims (needs {want})", v.len()),
                ));
            }
        }
    }
    Ok(w)
}

/// Checks that the (dilated) kernel fits the padded input along every known dim.
fn kernel_fits(node: &Node, w: &Window, kernel: &[i64], x: &[Option<usize>]) -> Result<(), String> {
    if node.attrs.contains_key("auto_pad") && super::string(node, "auto_pad") != Some("NOTSET") {
        return Ok(());
    }
    let spatial = &x[x.len().saturating_sub(kernel.len())..];
    for (i, (&k, dim)) in kernel.iter().zip(spatial).enumerate() {
        let Some(n) = *dim else { continue };
        let d = w
            .dilations
            .as_ref()
            .and_then(|v| v.get(i).copied())
            .unwrap_or(1) as i128;
        let pad = |j: usize| w.pads.as_ref().and_then(|p| p.get(j).copied()).unwrap_or(0) as i128;
        let (b, e) = (pad(i), pad(i + kernel.len()));
        let extent = d * (k as i128 - 1) + 1;
        if extent > n as i128 + b + e {
            return Err(format!(
                "kernel {kernel:?} (dilations {:?}) does not fit the padded input {:?}",
                w.dilations.as_deref().unwrap_or(&[]),
                spatial
            ));
        }
    }
    Ok(())
}

fn conv(node: &Node, known: &Known, at: Layout) -> Result<(), String> {
    let group = int(node, "group").unwrap_or(1);
    if !(1..=MAX_DIM).contains(&group) {
        return Err(attr_err(
            "group",
            format!("is {group}; it must be positive"),
        ));
    }
    let weight = known.input_shape(node, at.w);
    let x = known.input_shape(node, at.x);
    if let Some(w) = weight
        && w.len() < 3
    {
        return Err(format!(
            "weight has rank {}; {} weights are [M, C/group, kernel...]",
            w.len(),
            node.op_type
        ));
    }
    if let (Some(w), Some(x)) = (weight, x)
        && w.len() != x.len()
    {
        return Err(format!(
            "input has rank {} but the weight has rank {}",
            x.len(),
            w.len()
        ));
    }
    let spatial = weight.or(x).map(|s| s.len().saturating_sub(2));
    let win = window(node, spatial)?;
    if at.transpose {
        let out_pad = ints_in_range(node, "output_padding", 0)?;
        let out_shape = ints_in_range(node, "output_shape", 0)?;
        if let (Some(s), Some(v)) = (spatial, &out_pad)
            && v.len() != s
        {
            return Err(attr_err(
                "output_padding",
                format!("has {} values for {s} spatial dims", v.len()),
            ));
        }
        let step = |i: usize| {
            let st = win
                .strides
                .as_ref()
                .and_then(|v| v.get(i).copied())
                .unwrap_or(1);
            st.max(
                win.dilations
                    .as_ref()
                    .and_then(|v| v.get(i).copied())
                    .unwrap_or(1),
            )
        };
        if let Some(v) = &out_pad
            && let Some(i) = (0..v.len()).find(|&i| v[i] >= step(i))
        {
            return Err(attr_err(
                "output_padding",
                format!(
                    "is {v:?}; each value must be less than max(stride, dilation) ({})",
                    step(i)
                ),
            ));
        }
        if let (Some(s), Some(v)) = (spatial, &out_shape)
            && v.len() != s
            && v.len() != s + 2
        {
            return Err(attr_err(
                "output_shape",
                format!("has {} values for {s} spatial dims", v.len()),
            ));
        }
    }
    let Some(w) = weight else { return Ok(()) };
    if at.transpose
        && let (Some(x), Some(out)) = (x, ints_in_range(node, "output_shape", 0)?)
    {
        transpose_output_fits(&win, x, w, &out)?;
    }
    if let Some(k) = &win.kernel {
        let from_weight: Vec<Option<usize>> = w[2..].to_vec();
        let fits = k
            .iter()
            .zip(&from_weight)
            .all(|(&a, b)| b.is_none_or(|b| a as usize == b));
        if !fits {
            return Err(attr_err(
                "kernel_shape",
                format!("is {k:?} but the weight's kernel is {from_weight:?}"),
            ));
        }
    }
    let g = group as usize;
    let (w_in, w_out) = (w[1], w[0]);
    let (channels, out_channels) = if at.transpose {
        (w_out, w_in.map(|m| m * g))
    } else {
        (w_in.map(|c| c * g), w_out)
    };
    if let Some(m) = w_out
        && m % g != 0
    {
        return Err(format!("weight dim 0 ({m}) is not divisible by group {g}"));
    }
    if let (Some(x), Some(c)) = (x, channels)
        && let Some(xc) = x.get(1).copied().flatten()
        && xc != c
    {
        return Err(format!(
            "input has {xc} channels, the weight {w:?} with group {g} needs {c}"
        ));
    }
    if let (Some(b), Some(m)) = (
        at.bias.and_then(|i| known.input_shape(node, i)),
        out_channels,
    ) && (b.len() != 1 || b[0].is_some_and(|n| n != m))
    {
        return Err(format!(
            "bias has shape {b:?}, the op has {m} output channels"
        ));
    }
    if !at.transpose
        && let (Some(x), Some(k)) = (
            x,
            w[2..]
                .iter()
                .map(|d| d.map(|d| d as i64))
                .collect::<Option<Vec<i64>>>(),
        )
    {
        kernel_fits(node, &win, &k, x)?;
    }
    Ok(())
}

/// An explicit `ConvTranspose` `output_shape` may exceed the size the input gives by less than
/// one step (the room `output_padding` has), never more.
fn transpose_output_fits(
    win: &Window,
    x: &[Option<usize>],
    w: &[Option<usize>],
    out: &[i64],
) -> Result<(), String> {
    let n = x.len().saturating_sub(2);
    let out = &out[out.len().saturating_sub(n)..];
    for i in 0..n.min(out.len()) {
        let (Some(input), Some(k)) = (x[2 + i], w[2 + i]) else {
            continue;
        };
        let st = win
            .strides
            .as_ref()
            .and_then(|v| v.get(i).copied())
            .unwrap_or(1) as i128;
        let dl = win
            .dilations
            .as_ref()
            .and_then(|v| v.get(i).copied())
            .unwrap_or(1) as i128;
        let natural = st * (input as i128 - 1) + dl * (k as i128 - 1) + 1;
        if out[i] as i128 >= natural + st.max(dl) {
            return Err(attr_err(
                "output_shape",
                format!(
                    "is {out:?}, larger than input {x:?} can give (at most {} in dim {i})",
                    natural + st.max(dl) - 1
                ),
            ));
        }
    }
    Ok(())
}

fn pool(node: &Node, known: &Known) -> Result<(), String> {
    let x = known.input_shape(node, 0);
    let win = window(node, x.map(|s| s.len().saturating_sub(2)))?;
    int_in(node, "ceil_mode", 0..=1)?;
    int_in(node, "count_include_pad", 0..=1)?;
    int_in(node, "storage_order", 0..=1)?;
    if node.op_type == "LpPool" {
        int_in(node, "p", 1..=MAX_DIM)?;
    }
    let Some(kernel) = win.kernel.as_ref().filter(|k| !k.is_empty()) else {
        return Ok(());
    };
    if let Some(p) = &win.pads {
        let n = kernel.len();
        for (i, &pad) in p.iter().enumerate() {
            if pad >= kernel[i % n] {
                return Err(attr_err(
                    "pads",
                    format!("is {p:?}; each pad must be smaller than the kernel {kernel:?}"),
                ));
            }
        }
    }
    if let Some(x) = x {
        kernel_fits(node, &win, kernel, x)?;
    }
    Ok(())
}
