//! Graph-editing helpers of the quantizer (the shared ones live in `burnish_model::query`).

use burnish_model::{Attribute, Node};

pub use burnish_model::query::{Namer, add_const, is_op as is, node, remove_dead};

/// An int attribute.
pub fn int_attr(node: &mut Node, key: &str, v: i64) {
    node.attrs.insert(key.to_string(), Attribute::Int(v));
}
