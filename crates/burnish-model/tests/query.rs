//! The shared graph queries of `burnish_model::query` on a small hand-built graph.

use burnish_model::query::{
    Namer, add_const, constant, is_op, node, remove_dead, single_use, transpose, use_count,
};
use burnish_model::{Graph, TensorData, ValueInfo};

fn info(name: &str) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    }
}

#[test]
fn transpose_swaps_rows_and_columns() {
    // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
    assert_eq!(transpose(&[1, 2, 3, 4, 5, 6], 2, 3), [1, 4, 2, 5, 3, 6]);
}

#[test]
fn uses_names_and_dead_nodes() {
    let mut g = Graph {
        inputs: vec![info("x")],
        outputs: vec![info("y")],
        ..Default::default()
    };
    g.nodes
        .push(node("a".into(), "Relu", vec!["x".into()], vec!["r".into()]));
    g.nodes
        .push(node("b".into(), "Neg", vec!["r".into()], vec!["y".into()]));
    g.nodes.push(node(
        "c".into(),
        "Neg",
        vec!["r".into()],
        vec!["dead".into()],
    ));
    assert_eq!(use_count(&g, "r"), 2);
    assert!(!single_use(&g, "r"));
    assert!(!single_use(&g, "y"), "a graph output");
    let mut namer = Namer::new(&g);
    assert_eq!(namer.fresh("r"), "r_1");
    assert_eq!(namer.fresh("r"), "r_2");
    let k = add_const(
        &mut g,
        &mut namer,
        "unused",
        TensorData::from_f32(vec![], vec![1.0]),
    );
    assert!(constant(&g, &k).is_some());
    remove_dead(&mut g);
    assert_eq!(g.nodes.len(), 2);
    assert!(single_use(&g, "r"));
    assert!(constant(&g, &k).is_none());
    assert!(is_op(&g.nodes[0], "Relu"));
}
