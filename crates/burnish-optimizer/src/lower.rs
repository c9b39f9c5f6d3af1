//! Preparing an optimized model for ONNX export: fused `burnish` ops back to standard ops
//! (unless kept), and a default-domain opset high enough for the standard ops passes introduced.
//!
//! | op | minimum opset | when the opset cannot be raised |
//! | --- | --- | --- |
//! | `LayerNormalization` | 17 | decomposed to ReduceMean/Sub/Pow/Add/Sqrt/Div/Mul/Add |
//! | `Gelu` | 20 | decomposed to Div/Erf/Add/Mul/Mul (or the tanh form) |
//!
//! The opset is raised by [`crate::convert_opset`] (ops whose form changed are rewritten); where
//! it refuses, the op is decomposed instead.

use burnish_model::domain;
use burnish_model::query::node;
use std::sync::Arc;

use burnish_model::{AttrExt, Attribute, Graph, Model, Node, TensorData};

use crate::rewrite::fresh_name;

/// A copy of `model` ready for export.
pub fn lower_for_export(model: &Model, keep_fused: bool) -> Model {
    let mut m = model.clone();
    let has_fused = m.graph.nodes.iter().any(domain::is_burnish);
    if keep_fused && has_fused {
        m.opsets
            .insert(domain::DOMAIN.into(), domain::DOMAIN_VERSION);
    } else if has_fused {
        unfuse(&mut m);
    }
    // The highest opset the kept ops need, then the next, decomposing an op where the model
    // cannot be raised to its opset.
    let mut wanted: Vec<(&str, i64)> = [("Gelu", 20), ("LayerNormalization", 17)]
        .into_iter()
        .filter(|&(op, need)| {
            m.opset() < need
                && m.graph
                    .nodes
                    .iter()
                    .any(|n| n.op_type == op && n.domain.is_empty())
        })
        .collect();
    while let Some(&(op, need)) = wanted.first() {
        let mut raised = m.clone();
        if crate::opset::convert_opset(&mut raised, need).is_ok() {
            m = raised;
            break;
        }
        decompose(&mut m, op);
        wanted.remove(0);
    }
    m
}

fn scalar(g: &mut Graph, base: &str, v: f32) -> String {
    let name = fresh_name(g, base);
    g.initializers.insert(
        name.clone(),
        Arc::new(TensorData::from_f32(vec![], vec![v])),
    );
    name
}

/// Splits every `burnish` node into its base op plus its activation (and, for a `FusedConv`
/// with a residual `z`, the Add of `z` before the activation).
fn unfuse(m: &mut Model) {
    let opset = m.opset();
    let g = &mut m.graph;
    let mut i = 0;
    while i < g.nodes.len() {
        if !domain::is_burnish(&g.nodes[i]) {
            i += 1;
            continue;
        }
        let fused = g.nodes[i].clone();
        let mut out: Vec<Node> = Vec::new();
        let act = fused
            .attrs
            .string_or(domain::ACTIVATION, "")
            .unwrap_or_default();
        let y = fused.outputs[0].clone();
        let mid = if act.is_empty() {
            y.clone()
        } else {
            fresh_name(g, &format!("{y}_pre"))
        };
        let mut base = fused.clone();
        base.domain = String::new();
        base.attrs.retain(|k, _| !domain::is_activation_key(k));
        if fused.op_type == domain::LINEAR {
            let prod = if fused.input(2).is_some() {
                fresh_name(g, &format!("{y}_mm"))
            } else {
                mid.clone()
            };
            base.op_type = "MatMul".into();
            base.inputs.truncate(2);
            base.outputs = vec![prod.clone()];
            out.push(base);
            if let Some(b) = fused.input(2) {
                out.push(node(
                    format!("{}_bias", fused.name),
                    "Add",
                    vec![prod, b.to_string()],
                    vec![mid.clone()],
                ));
            }
        } else if let Some(z) = fused
            .input(domain::FUSED_CONV_RESIDUAL)
            .filter(|_| fused.op_type == domain::FUSED_CONV)
        {
            let sum = fresh_name(g, &format!("{y}_conv"));
            base.op_type = "Conv".into();
            base.inputs.truncate(3);
            while base.inputs.last().is_some_and(String::is_empty) {
                base.inputs.pop();
            }
            base.outputs = vec![sum.clone()];
            out.push(base);
            out.push(node(
                format!("{}_residual", fused.name),
                "Add",
                vec![sum, z.to_string()],
                vec![mid.clone()],
            ));
        } else {
            base.op_type = fused.op_type.trim_start_matches("Fused").to_string();
            base.outputs = vec![mid.clone()];
            out.push(base);
        }
        let aname = format!("{}_{}", fused.name, act.to_lowercase());
        if act == "Silu" {
            let s = fresh_name(g, &format!("{y}_sigmoid"));
            out.push(node(
                format!("{aname}_sigmoid"),
                "Sigmoid",
                vec![mid.clone()],
                vec![s.clone()],
            ));
            out.push(node(aname, "Mul", vec![mid, s], vec![y]));
        } else if !act.is_empty() {
            let mut a = node(aname, &act, vec![mid], vec![y]);
            for (k, v) in &fused.attrs {
                if let Some(key) = k.strip_prefix("activation_") {
                    a.attrs.insert(key.to_string(), v.clone());
                }
            }
            if act == "Clip" && opset >= 11 {
                for key in ["min", "max"] {
                    a.inputs.push(match a.attrs.remove(key) {
                        Some(Attribute::Float(v)) => scalar(g, &format!("{}_{key}", fused.name), v),
                        _ => String::new(),
                    });
                }
                while a.inputs.last().is_some_and(String::is_empty) {
                    a.inputs.pop();
                }
            }
            out.push(a);
        }
        let n = out.len();
        g.nodes.splice(i..=i, out);
        i += n;
    }
}

/// Replaces every `op` node by its decomposition into ops valid at the model's opset.
fn decompose(m: &mut Model, op: &str) {
    let g = &mut m.graph;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = g.nodes[i].clone();
        if n.op_type != op || !n.domain.is_empty() {
            i += 1;
            continue;
        }
        let (x, y) = (n.inputs[0].clone(), n.outputs[0].clone());
        let t = |g: &mut Graph, s: &str| fresh_name(g, &format!("{}_{s}", n.name));
        let mut out = Vec::new();
        let nm = |s: &str| format!("{}_{s}", n.name);
        if op == "Gelu" {
            let tanh = n.attrs.string_or("approximate", "none").unwrap_or_default() == "tanh";
            let (inner, a1) = (t(g, "inner"), t(g, "act"));
            if tanh {
                let (p, c, s, z) = (t(g, "cube"), t(g, "scaled_cube"), t(g, "sum"), t(g, "z"));
                let k3 = scalar(g, &nm("three"), 3.0);
                let kc = scalar(g, &nm("coef"), 0.044_715);
                let ks = scalar(g, &nm("sqrt_2_over_pi"), 0.797_884_6);
                out.push(node(nm("pow"), "Pow", vec![x.clone(), k3], vec![p.clone()]));
                out.push(node(nm("mul_coef"), "Mul", vec![p, kc], vec![c.clone()]));
                out.push(node(
                    nm("add_x"),
                    "Add",
                    vec![x.clone(), c],
                    vec![s.clone()],
                ));
                out.push(node(nm("mul_scale"), "Mul", vec![s, ks], vec![z.clone()]));
                out.push(node(nm("tanh"), "Tanh", vec![z], vec![inner.clone()]));
            } else {
                let d = t(g, "scaled");
                let k = scalar(g, &nm("sqrt2"), std::f32::consts::SQRT_2);
                out.push(node(nm("div"), "Div", vec![x.clone(), k], vec![d.clone()]));
                out.push(node(nm("erf"), "Erf", vec![d], vec![inner.clone()]));
            }
            let one = scalar(g, &nm("one"), 1.0);
            let half = scalar(g, &nm("half"), 0.5);
            let p = t(g, "prod");
            out.push(node(
                nm("add_one"),
                "Add",
                vec![inner, one],
                vec![a1.clone()],
            ));
            out.push(node(nm("mul_x"), "Mul", vec![x, a1], vec![p.clone()]));
            out.push(node(n.name.clone(), "Mul", vec![p, half], vec![y]));
        } else {
            let eps = n.attrs.float_or("epsilon", 1e-5).unwrap_or(1e-5);
            let (mean, d, sq, var, ve, sd, norm) = (
                t(g, "mean"),
                t(g, "centered"),
                t(g, "sq"),
                t(g, "var"),
                t(g, "var_eps"),
                t(g, "std"),
                t(g, "norm"),
            );
            let two = scalar(g, &nm("two"), 2.0);
            let e = scalar(g, &nm("epsilon"), eps);
            let rm = |name: String, input: String, output: String| {
                let mut r = node(name, "ReduceMean", vec![input], vec![output]);
                r.attrs.insert("axes".into(), Attribute::Ints(vec![-1]));
                r
            };
            out.push(rm(nm("mean"), x.clone(), mean.clone()));
            out.push(node(nm("sub"), "Sub", vec![x, mean], vec![d.clone()]));
            out.push(node(
                nm("pow"),
                "Pow",
                vec![d.clone(), two],
                vec![sq.clone()],
            ));
            out.push(rm(nm("var"), sq, var.clone()));
            out.push(node(nm("add_eps"), "Add", vec![var, e], vec![ve.clone()]));
            out.push(node(nm("sqrt"), "Sqrt", vec![ve], vec![sd.clone()]));
            out.push(node(nm("div"), "Div", vec![d, sd], vec![norm.clone()]));
            let scaled = if n.input(2).is_some() {
                t(g, "scaled")
            } else {
                y.clone()
            };
            out.push(node(
                nm("scale"),
                "Mul",
                vec![norm, n.inputs[1].clone()],
                vec![scaled.clone()],
            ));
            if let Some(b) = n.input(2) {
                out.push(node(
                    n.name.clone(),
                    "Add",
                    vec![scaled, b.to_string()],
                    vec![y],
                ));
            }
        }
        let k = out.len();
        g.nodes.splice(i..=i, out);
        i += k;
    }
}
