//! Synthetic graphs for the optimizer benches, built directly in the IR with seeded weights.
#![allow(dead_code)]

use std::sync::Arc;

pub mod chain;

use burnish_model::{Attribute, DType, Dim, Graph, Model, Node, TensorData, ValueInfo};

/// Builds a graph node by node; every node gets one fresh output name.
pub struct Builder {
    graph: Graph,
    rng: burnish_stats::Rng,
    count: usize,
}

impl Builder {
    /// An empty graph.
    pub fn new(name: &str) -> Self {
        Self {
            graph: Graph {
                name: name.into(),
                ..Graph::default()
            },
            rng: burnish_stats::Rng::new(0x9E37_79B9_7F4A_7C15),
            count: 0,
        }
    }

    /// A float input; `None` dims are the symbolic `batch`.
    pub fn input(&mut self, name: &str, dims: &[Option<usize>]) -> String {
        let shape = dims
            .iter()
            .map(|d| d.map_or(Dim::Symbolic("batch".into()), Dim::Fixed))
            .collect();
        self.graph.inputs.push(ValueInfo {
            name: name.into(),
            dtype: Some(DType::F32),
            shape: Some(shape),
        });
        name.into()
    }

    /// A seeded random f32 initializer, uniform in `[-scale, scale)`.
    pub fn weight(&mut self, name: &str, shape: &[usize], scale: f32) -> String {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|_| self.rng.uniform_f32(-scale, scale))
            .collect();
        self.constant(name, shape, data)
    }

    /// An f32 initializer with the given values.
    pub fn constant(&mut self, name: &str, shape: &[usize], data: Vec<f32>) -> String {
        self.graph.initializers.insert(
            name.into(),
            Arc::new(TensorData::from_f32(shape.to_vec(), data)),
        );
        name.into()
    }

    /// Appends `op(inputs)` and returns its output name.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attribute)]) -> String {
        self.count += 1;
        let out = format!("{}_{}", op.to_lowercase(), self.count);
        self.graph.nodes.push(Node {
            name: format!("{op}_{}", self.count),
            op_type: op.into(),
            domain: String::new(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![out.clone()],
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        });
        out
    }

    /// A 3x3 (pads 1) or 1x1 Conv with bias.
    pub fn conv(&mut self, x: &str, c_in: usize, c_out: usize, k: usize) -> String {
        let id = self.count;
        let w = self.weight(&format!("conv{id}.w"), &[c_out, c_in, k, k], 0.1);
        let b = self.weight(&format!("conv{id}.b"), &[c_out], 0.1);
        let p = (k / 2) as i64;
        self.node(
            "Conv",
            &[x, &w, &b],
            &[
                ("kernel_shape", Attribute::Ints(vec![k as i64, k as i64])),
                ("pads", Attribute::Ints(vec![p, p, p, p])),
            ],
        )
    }

    /// An inference BatchNormalization over `c` channels.
    pub fn batch_norm(&mut self, x: &str, c: usize) -> String {
        let id = self.count;
        let g = self.weight(&format!("bn{id}.gamma"), &[c], 1.0);
        let b = self.weight(&format!("bn{id}.beta"), &[c], 0.1);
        let m = self.weight(&format!("bn{id}.mean"), &[c], 0.1);
        let v = self.constant(&format!("bn{id}.var"), &[c], vec![1.5; c]);
        self.node("BatchNormalization", &[x, &g, &b, &m, &v], &[])
    }

    /// Marks `name` as a graph output.
    pub fn output(&mut self, name: &str) {
        self.graph.outputs.push(ValueInfo {
            name: name.into(),
            dtype: Some(DType::F32),
            shape: None,
        });
    }

    /// The model (opset 17).
    pub fn finish(self) -> Model {
        Model {
            graph: self.graph,
            opsets: [(String::new(), 17)].into_iter().collect(),
            ir_version: 8,
            ..Model::default()
        }
    }
}

/// Scalar f32 constant.
pub fn scalar(b: &mut Builder, name: &str, v: f32) -> String {
    b.constant(name, &[], vec![v])
}
