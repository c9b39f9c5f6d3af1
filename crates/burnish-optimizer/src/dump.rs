//! A stable text dump of a graph, for `--dump-after` and snapshot tests.

use std::fmt::Write;

use burnish_model::{Attribute, Graph};

/// One line per input, initializer (name, dtype, shape) and node (name, op, inputs, outputs,
/// attributes; tensor attributes summarized).
pub fn dump_graph(graph: &Graph) -> String {
    let mut s = String::new();
    for i in &graph.inputs {
        let _ = writeln!(s, "input {} {}", i.name, i.shape_string());
    }
    for (name, t) in &graph.initializers {
        let _ = writeln!(s, "init {name} {} {:?}", t.dtype(), t.shape);
    }
    for n in &graph.nodes {
        let attrs: Vec<String> = n
            .attrs
            .iter()
            .map(|(k, v)| match v {
                Attribute::Tensor(t) => format!("{k}=tensor{:?}", t.shape),
                Attribute::Graph(_) => format!("{k}=graph"),
                Attribute::Float(f) => format!("{k}={f:e}"),
                other => format!("{k}={other:?}"),
            })
            .collect();
        let _ = writeln!(
            s,
            "node {} {} ({}) -> ({}) {}",
            n.name,
            n.qualified_op(),
            n.inputs.join(", "),
            n.outputs.join(", "),
            attrs.join(" ")
        );
    }
    for o in &graph.outputs {
        let _ = writeln!(s, "output {}", o.name);
    }
    s
}
