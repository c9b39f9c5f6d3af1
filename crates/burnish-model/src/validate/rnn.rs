//! Recurrent ops (`LSTM`, `GRU`, `RNN`): direction, hidden size, activations and the shapes of
//! the weights against each other and the input, where known.

use super::{Known, MAX_DIM, attr_err, int, int_in, one_of};
use crate::Attribute;
use crate::graph::Node;

const ACTIVATIONS: &[&str] = &[
    "Relu",
    "Tanh",
    "Sigmoid",
    "Affine",
    "LeakyRelu",
    "ThresholdedRelu",
    "ScaledTanh",
    "HardSigmoid",
    "Elu",
    "Softsign",
    "Softplus",
];

pub(super) fn check(node: &Node, known: &Known) -> Result<(), String> {
    let (gates, activations) = match node.op_type.as_str() {
        "LSTM" => (4, 3),
        "GRU" => (3, 2),
        "RNN" => (1, 1),
        _ => return Ok(()),
    };
    one_of(node, "direction", &["forward", "reverse", "bidirectional"])?;
    int_in(node, "layout", 0..=1)?;
    int_in(node, "linear_before_reset", 0..=1)?;
    int_in(node, "input_forget", 0..=1)?;
    let hidden = int(node, "hidden_size");
    if let Some(h) = hidden
        && !(1..=MAX_DIM).contains(&h)
    {
        return Err(attr_err(
            "hidden_size",
            format!("is {h}; it must be positive"),
        ));
    }
    let dirs = if super::string(node, "direction") == Some("bidirectional") {
        2
    } else {
        1
    };
    if let Some(Attribute::Strings(list)) = node.attrs.get("activations") {
        if let Some(bad) = list.iter().find(|a| !ACTIVATIONS.contains(&a.as_str())) {
            return Err(attr_err(
                "activations",
                format!("holds `{bad}`, not an activation"),
            ));
        }
        if list.len() != activations * dirs {
            return Err(attr_err(
                "activations",
                format!(
                    "has {} entries; {} with {dirs} direction(s) needs {}",
                    list.len(),
                    node.op_type,
                    activations * dirs
                ),
            ));
        }
    }
    let w = known.input_shape(node, 1);
    let r = known.input_shape(node, 2);
    let h = hidden
        .map(|h| h as usize)
        .or_else(|| r.and_then(|r| r.get(2).copied().flatten()));
    let expect = |name: &str, shape: &[Option<usize>], want: &[Option<usize>]| {
        let fits = shape.len() == want.len()
            && shape
                .iter()
                .zip(want)
                .all(|(a, b)| a.is_none() || b.is_none() || a == b);
        match fits {
            true => Ok(()),
            false => Err(format!(
                "{name} has shape {shape:?}; {} with {dirs} direction(s) and hidden size {} needs {want:?}",
                node.op_type,
                h.map_or("?".into(), |h| h.to_string())
            )),
        }
    };
    let rows = h.map(|h| gates * h);
    let input = known
        .input_shape(node, 0)
        .and_then(|x| x.get(2).copied().flatten());
    if let Some(w) = w {
        expect("W", w, &[Some(dirs), rows, input])?;
    }
    if let Some(r) = r {
        expect("R", r, &[Some(dirs), rows, h])?;
    }
    if let Some(b) = known.input_shape(node, 3) {
        expect("B", b, &[Some(dirs), rows.map(|r| 2 * r)])?;
    }
    Ok(())
}
