//! What validation knows about a graph's values before running anything: declared shapes of
//! graph inputs and annotated values, shapes and contents of initializers.

use std::collections::{HashMap, HashSet};

use crate::graph::{Dim, Graph};
use crate::tensor::TensorData;

/// Known shapes (a dim is `None` when symbolic or unknown) and constants of one graph.
pub struct Known<'g> {
    shapes: HashMap<&'g str, Vec<Option<usize>>>,
    inputs: HashSet<&'g str>,
    graph: &'g Graph,
}

impl<'g> Known<'g> {
    /// Collects what `graph` declares (linear in its size).
    pub fn new(graph: &'g Graph) -> Self {
        let dims = |d: &[Dim]| {
            d.iter()
                .map(|d| match d {
                    Dim::Fixed(n) => Some(*n),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let mut shapes = HashMap::new();
        for v in graph.value_info.values().chain(&graph.outputs) {
            if let Some(s) = &v.shape {
                shapes.insert(v.name.as_str(), dims(s));
            }
        }
        for (name, t) in &graph.initializers {
            shapes.insert(name.as_str(), t.shape.iter().map(|&d| Some(d)).collect());
        }
        for v in &graph.inputs {
            match &v.shape {
                Some(s) => shapes.insert(v.name.as_str(), dims(s)),
                None => shapes.remove(v.name.as_str()),
            };
        }
        let inputs = graph.inputs.iter().map(|v| v.name.as_str()).collect();
        Known {
            shapes,
            inputs,
            graph,
        }
    }

    /// The known shape of `name` (rank known; dims may be unknown).
    pub fn shape(&self, name: &str) -> Option<&[Option<usize>]> {
        self.shapes.get(name).map(Vec::as_slice)
    }

    /// The rank of `name`, when known.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.shape(name).map(<[_]>::len)
    }

    /// The shape of a node input, when the input is present and its shape known.
    pub fn input_shape(&self, node: &crate::Node, index: usize) -> Option<&[Option<usize>]> {
        node.input(index).and_then(|n| self.shape(n))
    }

    /// The constant value of `name`: an initializer that no graph input overrides.
    pub fn constant(&self, name: &str) -> Option<&'g TensorData> {
        if self.inputs.contains(name) {
            return None;
        }
        self.graph.initializers.get(name).map(AsRef::as_ref)
    }
}
