//! What an adapter sees: the graph being converted (read only), fresh names unique across the
//! whole model, and the initializers it adds; element-type and rank lookups of values.

use std::collections::{BTreeMap, HashSet};

use burnish_model::{Attribute, Buffer, DType, Graph, Model, Node, TensorData};

/// The conversion state of one graph.
pub struct Ctx<'a> {
    /// The graph whose nodes are being converted (its nodes as they were before).
    pub graph: &'a Graph,
    /// Every name used anywhere in the model (values and nodes), grown by [`Ctx::fresh`].
    pub names: &'a mut HashSet<String>,
    /// Initializers to add to the graph.
    pub added: BTreeMap<String, TensorData>,
}

/// Every value and node name of `model`, subgraphs included.
pub fn all_names(model: &Model) -> HashSet<String> {
    fn walk(g: &Graph, out: &mut HashSet<String>) {
        out.extend(g.inputs.iter().map(|v| v.name.clone()));
        out.extend(g.outputs.iter().map(|v| v.name.clone()));
        out.extend(g.initializers.keys().cloned());
        for n in &g.nodes {
            out.insert(n.name.clone());
            out.extend(n.outputs.iter().cloned());
            for sub in n.subgraphs() {
                walk(sub, out);
            }
        }
    }
    let mut out = HashSet::new();
    walk(&model.graph, &mut out);
    out
}

impl Ctx<'_> {
    /// A name not used anywhere in the model, derived from `base`.
    pub fn fresh(&mut self, base: &str) -> String {
        let name = crate::rewrite::unused_name(base, |n| self.names.contains(n));
        self.names.insert(name.clone());
        name
    }

    /// Adds an initializer named after `base`; returns its name.
    pub fn constant(&mut self, base: &str, t: TensorData) -> String {
        let name = self.fresh(base);
        self.added.insert(name.clone(), t);
        name
    }

    /// Adds a 1-D int64 initializer.
    pub fn ints(&mut self, base: &str, v: Vec<i64>) -> String {
        self.constant(base, TensorData::from_i64(vec![v.len()], v))
    }

    /// A new default-domain node named after `base`.
    pub fn node(
        &mut self,
        base: &str,
        op: &str,
        inputs: Vec<String>,
        outputs: Vec<String>,
    ) -> Node {
        Node {
            name: self.fresh(base),
            op_type: op.into(),
            domain: String::new(),
            inputs,
            outputs,
            attrs: Default::default(),
        }
    }

    /// The constant value of `name` (initializer, added initializer or `Constant` node).
    pub fn value(&self, name: &str) -> Option<&TensorData> {
        if let Some(t) = self.added.get(name) {
            return Some(t);
        }
        if self.graph.inputs.iter().any(|i| i.name == name) {
            return None;
        }
        if let Some(t) = self.graph.initializers.get(name) {
            return Some(t);
        }
        let p = self.producer(name).filter(|p| p.op_type == "Constant")?;
        match p.attrs.get("value") {
            Some(Attribute::Tensor(t)) => Some(t),
            _ => None,
        }
    }

    fn producer(&self, name: &str) -> Option<&Node> {
        self.graph
            .nodes
            .iter()
            .find(|n| n.outputs.iter().any(|o| o == name))
    }

    /// The rank of `name` when declared (graph input, output or value info) or constant.
    pub fn rank(&self, name: &str) -> Option<usize> {
        if let Some(t) = self.value(name) {
            return Some(t.shape.len());
        }
        let g = self.graph;
        g.inputs
            .iter()
            .chain(&g.outputs)
            .chain(g.value_info.values())
            .find(|v| v.name == name)
            .and_then(|v| v.shape.as_ref().map(Vec::len))
    }

    /// The element type of the float value `name`, traced back through the ops that keep
    /// their first input's type; float32 when nothing declares it.
    pub fn float_type(&self, name: &str) -> Result<DType, String> {
        let mut cur = name.to_string();
        for _ in 0..256 {
            if let Some(t) = self.value(&cur) {
                return float_only(t.dtype(), name);
            }
            let g = self.graph;
            let declared = g
                .inputs
                .iter()
                .chain(&g.outputs)
                .chain(g.value_info.values())
                .find(|v| v.name == cur)
                .and_then(|v| v.dtype);
            if let Some(t) = declared {
                return float_only(t, name);
            }
            let Some(p) = self.producer(&cur) else {
                break;
            };
            let next = match p.op_type.as_str() {
                "Cast" => {
                    let to = match p.attrs.get("to") {
                        Some(Attribute::Int(c)) => DType::from_onnx(*c as i32),
                        _ => None,
                    };
                    return to.map_or(Ok(DType::F32), |t| float_only(t, name));
                }
                "DequantizeLinear" => return Ok(DType::F32),
                "Where" => p.input(1),
                _ => p.input(0),
            };
            match next {
                Some(n) => cur = n.to_string(),
                None => break,
            }
        }
        Ok(DType::F32)
    }
}

fn float_only(t: DType, name: &str) -> Result<DType, String> {
    match t {
        DType::F32 | DType::F16 | DType::F64 | DType::BF16 => Ok(t),
        other => Err(format!("`{name}` is {other}, a float type was expected")),
    }
}

/// A scalar of float type `t` holding `v`.
pub fn float_scalar(t: DType, v: f32) -> TensorData {
    let data = match t {
        DType::F16 => Buffer::F16(vec![half::f16::from_f32(v)]),
        DType::BF16 => Buffer::BF16(vec![half::bf16::from_f32(v)]),
        DType::F64 => Buffer::F64(vec![f64::from(v)]),
        _ => Buffer::F32(vec![v]),
    };
    TensorData {
        shape: vec![],
        data,
    }
}
