//! float16 / bfloat16 conversion, two ways:
//!
//! * [`convert_weights`] (the default): weight tensors are stored in the half type and read
//!   through `Cast(to = float)`; the graph computes in float32 as before.
//! * [`convert`] (`--half-compute`): every float32 weight and constant becomes the half type and
//!   the graph computes in it; float32 graph inputs are cast on entry and outputs cast back, so
//!   callers still feed and read float32. Refuses nothing, but keeps float32 where ONNX requires
//!   it (`Resize`/`Upsample` scales). `Cast(to = float)` nodes are retargeted to the half type.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use burnish_model::{Attribute, Buffer, DType, Model, TensorData};
use half::{bf16, f16};

use crate::util::{Namer, int_attr, is, node};

/// Elements below which a float32 initializer stays float32 in [`convert_weights`]: scalars and
/// short vectors (clip bounds, resize scales, epsilons) gain nothing from halving.
const MIN_WEIGHT_LEN: usize = 16;

/// Stores every float32 initializer of at least [`MIN_WEIGHT_LEN`] elements as `to` (`F16` or
/// `BF16`) under a new name, read through a `Cast(to = float)` that produces the old name, so
/// every reader sees float32 values (rounded through `to`) and the graph still computes in
/// float32. Initializers that are also graph inputs or outputs stay as they are. Returns the
/// number converted.
pub fn convert_weights(model: &mut Model, to: DType) -> usize {
    let g = &mut model.graph;
    let exposed: HashSet<String> = g
        .inputs
        .iter()
        .chain(&g.outputs)
        .map(|v| v.name.clone())
        .collect();
    let mut namer = Namer::new(g);
    let mut casts = Vec::new();
    let names: Vec<String> = g.initializers.keys().cloned().collect();
    for name in names {
        let t = &g.initializers[&name];
        if exposed.contains(&name) || t.len() < MIN_WEIGHT_LEN {
            continue;
        }
        let Some(h) = half_of(t, to) else {
            continue;
        };
        let stored = namer.fresh(&format!("{name}_{to}"));
        g.initializers.remove(&name);
        g.initializers.insert(stored.clone(), Arc::new(h));
        let mut c = node(
            namer.fresh(&format!("{name}_cast_float")),
            "Cast",
            vec![stored],
            vec![name],
        );
        int_attr(&mut c, "to", 1);
        casts.push(c);
    }
    let n = casts.len();
    g.nodes.splice(0..0, casts);
    n
}

/// Converts `model` in place to `to` (`F16` or `BF16`), compute included. Returns the number of converted
/// initializers and constants.
pub fn convert(model: &mut Model, to: DType) -> usize {
    let g = &mut model.graph;
    let keep: Vec<String> = g
        .nodes
        .iter()
        .filter_map(|n| {
            if is(n, "Resize") {
                n.input(2).map(str::to_string)
            } else if is(n, "Upsample") {
                n.input(1).map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    let mut converted = 0;
    for (name, t) in g.initializers.iter_mut() {
        if keep.contains(name) {
            continue;
        }
        if let Some(h) = half_of(t, to) {
            *t = Arc::new(h);
            converted += 1;
        }
    }
    for n in g.nodes.iter_mut() {
        for a in n.attrs.values_mut() {
            if let Attribute::Tensor(t) = a
                && let Some(h) = half_of(t, to)
            {
                *t = h;
                converted += 1;
            }
        }
        if is(n, "Cast") && matches!(n.attrs.get("to"), Some(Attribute::Int(1))) {
            int_attr(n, "to", to.onnx_code() as i64);
        }
    }
    let mut namer = Namer::new(g);
    let mut entry = Vec::new();
    let mut rename: HashMap<String, String> = HashMap::new();
    for i in g.inputs.iter().filter(|i| i.dtype == Some(DType::F32)) {
        let h = namer.fresh(&format!("{}_{to}", i.name));
        let mut c = node(
            namer.fresh(&format!("{}_cast_{to}", i.name)),
            "Cast",
            vec![i.name.clone()],
            vec![h.clone()],
        );
        int_attr(&mut c, "to", to.onnx_code() as i64);
        entry.push(c);
        rename.insert(i.name.clone(), h);
    }
    for n in g.nodes.iter_mut() {
        for input in n.inputs.iter_mut() {
            if let Some(h) = rename.get(input.as_str()) {
                *input = h.clone();
            }
        }
    }
    g.nodes.splice(0..0, entry);
    let outputs: Vec<String> = g
        .outputs
        .iter()
        .filter(|o| o.dtype.is_none_or(|d| d == DType::F32))
        .map(|o| o.name.clone())
        .collect();
    for out in outputs {
        let Some(p) = g.nodes.iter().position(|n| n.outputs.contains(&out)) else {
            continue;
        };
        let h = namer.fresh(&format!("{out}_{to}"));
        for n in g.nodes.iter_mut() {
            for v in n.inputs.iter_mut().chain(n.outputs.iter_mut()) {
                if *v == out {
                    *v = h.clone();
                }
            }
        }
        let mut c = node(
            namer.fresh(&format!("{out}_cast_float")),
            "Cast",
            vec![h],
            vec![out.clone()],
        );
        int_attr(&mut c, "to", 1);
        g.nodes.insert(p + 1, c);
    }
    for v in g.value_info.values_mut() {
        if v.dtype == Some(DType::F32) {
            v.dtype = Some(to);
        }
    }
    converted
}

fn half_of(t: &TensorData, to: DType) -> Option<TensorData> {
    let Buffer::F32(v) = &t.data else {
        return None;
    };
    let data = match to {
        DType::BF16 => Buffer::BF16(v.iter().map(|&x| bf16::from_f32(x)).collect()),
        _ => Buffer::F16(v.iter().map(|&x| f16::from_f32(x)).collect()),
    };
    Some(TensorData {
        shape: t.shape.clone(),
        data,
    })
}
