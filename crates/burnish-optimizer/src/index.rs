//! [`Editor`]: a graph being rewritten, with an index of producers and readers kept up to date
//! by every edit, so that the questions passes ask per node (who produces this value, who
//! reads it, how often) cost O(1) instead of a scan of the graph, and removing a node costs
//! O(its degree) instead of shifting every node after it. A pass over n nodes is O(n log n).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use burnish_model::{Attribute, Graph, Node, TensorData};

/// A graph under rewrite. Node indices stay stable while it lives (removed nodes become
/// tombstones, dropped by [`Editor::finish`]), so indices from the index remain valid.
pub struct Editor<'g> {
    graph: &'g mut Graph,
    producer: HashMap<String, usize>,
    /// Reader node -> number of reads (explicit inputs, plus one for a subgraph's read).
    readers: HashMap<String, BTreeMap<usize, u32>>,
    graph_outputs: HashMap<String, usize>,
    graph_inputs: HashSet<String>,
    dead: Vec<bool>,
}

/// The values a node reads, with multiplicity: explicit inputs, and once each value its
/// subgraphs capture.
fn reads(node: &Node) -> Vec<String> {
    let mut out: Vec<String> = node
        .inputs
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if node.has_subgraphs() {
        out.extend(node.implicit_inputs());
    }
    out
}

impl<'g> Editor<'g> {
    /// Indexes `graph` (one scan).
    pub fn new(graph: &'g mut Graph) -> Self {
        let mut graph_outputs: HashMap<String, usize> = HashMap::new();
        for o in &graph.outputs {
            *graph_outputs.entry(o.name.clone()).or_default() += 1;
        }
        let graph_inputs = graph.inputs.iter().map(|i| i.name.clone()).collect();
        let dead = vec![false; graph.nodes.len()];
        let mut ed = Editor {
            graph,
            producer: HashMap::new(),
            readers: HashMap::new(),
            graph_outputs,
            graph_inputs,
            dead,
        };
        for i in 0..ed.graph.nodes.len() {
            ed.index(i);
        }
        ed
    }

    /// The graph (read only; edit through the editor's methods).
    pub fn graph(&self) -> &Graph {
        self.graph
    }

    /// Number of node slots (removed ones included).
    pub fn len(&self) -> usize {
        self.graph.nodes.len()
    }

    /// True when the graph has no node slots.
    pub fn is_empty(&self) -> bool {
        self.graph.nodes.is_empty()
    }

    /// True when node `i` was removed.
    pub fn is_removed(&self, i: usize) -> bool {
        self.dead[i]
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Node {
        &self.graph.nodes[i]
    }

    /// Index of the node producing `name`.
    pub fn producer(&self, name: &str) -> Option<usize> {
        self.producer.get(name).copied()
    }

    /// Indices of the nodes reading `name` (explicitly or from a subgraph), ascending.
    pub fn consumers(&self, name: &str) -> Vec<usize> {
        self.readers
            .get(name)
            .map(|r| r.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Number of readers of `name`: node inputs (a node whose subgraphs read it counts once
    /// more) plus graph outputs.
    pub fn use_count(&self, name: &str) -> usize {
        let nodes: u32 = self.readers.get(name).map_or(0, |r| r.values().sum());
        nodes as usize + self.graph_outputs.get(name).copied().unwrap_or(0)
    }

    /// True when `name` is a graph output.
    pub fn is_graph_output(&self, name: &str) -> bool {
        self.graph_outputs.contains_key(name)
    }

    /// True when `name` is read exactly once, by a node, and is not a graph output.
    pub fn single_use(&self, name: &str) -> bool {
        !self.is_graph_output(name) && self.use_count(name) == 1
    }

    /// True when `name` is a graph input.
    pub fn is_graph_input(&self, name: &str) -> bool {
        self.graph_inputs.contains(name)
    }

    /// The constant value of `name`: an initializer that is not also a graph input.
    pub fn constant(&self, name: &str) -> Option<&Arc<TensorData>> {
        if self.is_graph_input(name) {
            return None;
        }
        self.graph.initializers.get(name)
    }

    /// A value name not yet used in the graph, derived from `base`.
    pub fn fresh_name(&self, base: &str) -> String {
        let taken = |n: &str| {
            self.graph.initializers.contains_key(n)
                || self.graph_inputs.contains(n)
                || self.producer.contains_key(n)
        };
        crate::rewrite::unused_name(base, taken)
    }

    /// Adds (or replaces) an initializer.
    pub fn set_initializer(&mut self, name: String, t: Arc<TensorData>) {
        self.graph.initializers.insert(name, t);
    }

    /// Edits node `i` in place (inputs, outputs, op, attributes); the index follows.
    pub fn edit<T>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> T) -> T {
        self.unindex(i);
        let out = f(&mut self.graph.nodes[i]);
        self.index(i);
        out
    }

    /// Replaces node `i` by `node`.
    pub fn replace(&mut self, i: usize, node: Node) {
        self.edit(i, |n| *n = node);
    }

    /// Removes node `i` (its slot stays until [`Editor::finish`]).
    pub fn remove(&mut self, i: usize) {
        if !self.dead[i] {
            self.unindex(i);
            self.dead[i] = true;
        }
    }

    /// Rewrites every read of `old` to `new`, in subgraphs too.
    pub fn replace_uses(&mut self, old: &str, new: &str) {
        for k in self.consumers(old) {
            self.edit(k, |node| {
                for input in &mut node.inputs {
                    if input == old {
                        *input = new.to_string();
                    }
                }
                rename_in_subgraphs(node, old, new);
            });
        }
    }

    /// Renames the value `old` everywhere: its producer's output and every read.
    pub fn rename_value(&mut self, old: &str, new: &str) {
        if let Some(p) = self.producer(old) {
            self.edit(p, |node| {
                for o in &mut node.outputs {
                    if o == old {
                        *o = new.to_string();
                    }
                }
            });
        }
        self.replace_uses(old, new);
    }

    /// Drops the removed nodes, keeping the others in order.
    pub fn finish(self) {
        let mut dead = self.dead.into_iter();
        self.graph.nodes.retain(|_| !dead.next().unwrap_or(false));
    }

    fn index(&mut self, i: usize) {
        let node = &self.graph.nodes[i];
        for o in node.outputs.iter().filter(|o| !o.is_empty()) {
            self.producer.insert(o.clone(), i);
        }
        for r in reads(node) {
            *self.readers.entry(r).or_default().entry(i).or_default() += 1;
        }
    }

    fn unindex(&mut self, i: usize) {
        let node = &self.graph.nodes[i];
        for o in node.outputs.iter().filter(|o| !o.is_empty()) {
            if self.producer.get(o) == Some(&i) {
                self.producer.remove(o);
            }
        }
        for r in reads(node) {
            if let Some(by) = self.readers.get_mut(&r) {
                if let Some(c) = by.get_mut(&i) {
                    *c -= 1;
                    if *c == 0 {
                        by.remove(&i);
                    }
                }
                if by.is_empty() {
                    self.readers.remove(&r);
                }
            }
        }
    }
}

/// Renames the enclosing-scope value `old` inside `node`'s subgraphs.
pub fn rename_in_subgraphs(node: &mut Node, old: &str, new: &str) {
    for attr in node.attrs.values_mut() {
        if let Attribute::Graph(g) = attr {
            g.rename_free_uses(old, new);
        }
    }
}
