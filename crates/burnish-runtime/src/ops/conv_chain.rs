//! Conv chains: a `Conv` and the `BatchNormalization`, residual `Add` and `Relu`/`Clip` nodes
//! that only it feeds, run as one kernel call. The epilogue does what the nodes would do, in
//! their order and with the same f32 roundings (bias, then scale and shift, then the residual,
//! then the clamp), so the result is the one running the nodes one by one gives. Calls the
//! kernel does not cover (other dtypes, 3-D convolutions) run the nodes one by one.
//!
//! The chains are found when a session is built ([`crate::plan`]); the graph is not changed.

use burnish_model::Node;

use super::conv::Window;
use super::conv_fast::FastConv;
use super::util::float;
use super::{BuildCtx, Inputs, Op};
use crate::value::Value;

/// One node of a chain, compiled on its own for the one-by-one path.
pub struct Link {
    /// The node's op.
    pub op: Box<dyn Op>,
    /// The node's input count (including omitted inputs).
    pub arity: usize,
    /// The input position the previous node's output feeds (unused for the head).
    pub fed: usize,
}

/// What the kernel epilogue applies after the convolution.
pub struct Tail {
    /// Per-channel scale and shift of a folded `BatchNormalization`.
    pub affine: Option<(Vec<f32>, Vec<f32>)>,
    /// Position of the residual in the chain's flattened inputs.
    pub residual: Option<usize>,
    /// Clamp bounds of a `Relu` or `Clip` (infinite when there is none).
    pub clamp: (f32, f32),
}

struct ConvChain {
    fast: FastConv,
    residual: Option<usize>,
    links: Vec<Link>,
}

/// Builds the chain op. `conv` is the head's context; its inputs come first in the chain's
/// flattened inputs, then every later node's inputs except the one the chain feeds.
pub fn conv_chain(conv: &BuildCtx, tail: Tail, links: Vec<Link>) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(conv)?;
    let group = conv.int("group", 1)?.max(1) as usize;
    let fast = FastConv::new(conv, win, group, tail.clamp, tail.affine);
    Ok(Box::new(ConvChain {
        fast,
        residual: tail.residual,
        links,
    }))
}

/// The op types a chain is named after, e.g. `Conv+BatchNormalization+Relu`.
pub fn chain_op_type(nodes: &[&Node]) -> String {
    nodes
        .iter()
        .map(|n| n.op_type.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

impl Op for ConvChain {
    fn run(&self, inputs: Inputs) -> Result<Vec<Value>, String> {
        let mut values = inputs.into_values();
        let is_float = |i: usize| matches!(values.get(i), Some(Some(Value::Float(_))));
        let fits = match (values.first(), values.get(1)) {
            (Some(Some(Value::Float(x))), Some(Some(Value::Float(w)))) => {
                FastConv::applies(x, w) && self.residual.is_none_or(is_float)
            }
            _ => false,
        };
        if !fits {
            return self.one_by_one(values);
        }
        let mut take = |i: usize| values.get_mut(i).and_then(Option::take).map(float);
        let x = take(0).ok_or("Conv input X is missing")??;
        let w = take(1).ok_or("Conv weight W is missing")??;
        let has_bias = self.links.first().is_some_and(|head| head.arity > 2);
        let b = if has_bias { take(2).transpose()? } else { None };
        let z = self.residual.and_then(&mut take).transpose()?;
        Ok(vec![Value::Float(self.fast.run(x, &w, b, z)?)])
    }
}

impl ConvChain {
    fn one_by_one(&self, values: Vec<Option<Value>>) -> Result<Vec<Value>, String> {
        let mut values = values.into_iter();
        let mut carried: Option<Value> = None;
        for (i, link) in self.links.iter().enumerate() {
            let mut ins: Vec<Option<Value>> = values
                .by_ref()
                .take(link.arity - usize::from(i > 0))
                .collect();
            if let Some(prev) = carried.take() {
                ins.insert(link.fed.min(ins.len()), Some(prev));
            }
            let out = link.op.run(Inputs::new(ins))?;
            carried = out.into_iter().next();
        }
        carried
            .map(|v| vec![v])
            .ok_or_else(|| "the chain produced no output".to_string())
    }
}
