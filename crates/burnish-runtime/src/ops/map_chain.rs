//! Chains of element-wise nodes run as one pass over memory, found when a session is built.
//!
//! A chain is two or more default-domain nodes, each reading only the previous one's output
//! (read nowhere else, not a graph output) plus constants: an activation (`Relu`, `Clip` with
//! constant bounds, `Sigmoid`, `Tanh`, `HardSigmoid`, `HardSwish`, `LeakyRelu`, `Exp`, `Erf`),
//! `Neg`, `Abs`, `Sqrt`, or `Add`/`Sub`/`Mul`/`Div` with a one-element float32 constant on
//! either side. Exports write hard-swish as `Add`/`Clip`/`Mul`/`Div` and affine blocks as
//! `Mul`/`Add` by scalars; run one by one, each node is a full sweep and an allocation.
//!
//! The chain applies each node's f32 operation in the node's order, block by block of a
//! cache-resident size, with the functions the standalone ops use, so the result is
//! bit-identical to running the nodes one by one. A non-f32 input, or a constant of higher rank
//! than the input (which would broadcast the output up), runs the nodes' own ops in turn.

use std::collections::{HashMap, HashSet};

use burn_backend::DType as BurnDType;
use burnish_model::{Graph, Node};
use rayon::prelude::*;

use super::pointwise::{self, Pointwise};
use super::util::{dims, float};
use super::{BuildCtx, Inputs, Known, Op};
use crate::value::Value;

/// Elements per block: each step sweeps a block while it sits in L1.
const BLOCK: usize = 2048;
/// Elements below which a chain stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// One node's operation on an f32 element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MapStep {
    /// An activation, with the kernels of the standalone op.
    Act(Pointwise),
    /// `x + c`.
    Add(f32),
    /// `x - c`, or `c - x` when the flag is set.
    Sub(f32, bool),
    /// `x * c`.
    Mul(f32),
    /// `x / c`, or `c / x` when the flag is set.
    Div(f32, bool),
    /// `Relu` as the standalone op computes it (`x <= 0` gives 0; NaN stays NaN).
    Relu,
    /// `-x`.
    Neg,
    /// `|x|`.
    Abs,
    /// `sqrt(x)`.
    Sqrt,
    /// `x * f(x)`: a gate (`Mul` of a value and its `Sigmoid` or `HardSigmoid`).
    Gate(Pointwise),
}

impl MapStep {
    fn sweep(self, v: &mut [f32]) {
        match self {
            MapStep::Act(p) => p.sweep(v, None),
            MapStep::Relu => v
                .iter_mut()
                .for_each(|x| *x = if *x <= 0.0 { 0.0 } else { *x }),
            MapStep::Add(c) => v.iter_mut().for_each(|x| *x += c),
            MapStep::Sub(c, false) => v.iter_mut().for_each(|x| *x -= c),
            MapStep::Sub(c, true) => v.iter_mut().for_each(|x| *x = c - *x),
            MapStep::Mul(c) => v.iter_mut().for_each(|x| *x *= c),
            MapStep::Div(c, false) => v.iter_mut().for_each(|x| *x /= c),
            MapStep::Div(c, true) => v.iter_mut().for_each(|x| *x = c / *x),
            MapStep::Neg => v.iter_mut().for_each(|x| *x = -*x),
            MapStep::Abs => v.iter_mut().for_each(|x| *x = x.abs()),
            MapStep::Sqrt => v.iter_mut().for_each(|x| *x = x.sqrt()),
            MapStep::Gate(p) => {
                if p.sweep_gate(v) {
                    return;
                }
                for v in v.chunks_mut(BLOCK) {
                    let mut g = [0f32; BLOCK];
                    let g = &mut g[..v.len()];
                    g.copy_from_slice(v);
                    p.sweep(g, None);
                    v.iter_mut().zip(g.iter()).for_each(|(x, g)| *x *= g);
                }
            }
        }
    }
}

/// Where a chain member reads the chained values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fed {
    /// The previous member's output at this input position (the chain input for the first).
    Input(usize),
    /// The `Mul` of a gate: the gate's own input at `value`, the gate's output at `gate`.
    Gate { value: usize, gate: usize },
}

/// A chain found in the graph: node indices in order and their steps.
pub(crate) struct Chain {
    /// Graph node indices, first to last.
    pub nodes: Vec<usize>,
    steps: Vec<MapStep>,
    /// Per node, where it reads the chained values.
    fed: Vec<Fed>,
    /// Largest rank of a constant operand.
    const_rank: usize,
}

impl Chain {
    /// The position of member `k`'s input that carries the chained value (a gate `Mul`: the
    /// gate's output).
    pub fn fed(&self, k: usize) -> usize {
        match self.fed.get(k) {
            Some(Fed::Input(p)) => *p,
            Some(Fed::Gate { gate, .. }) => *gate,
            None => 0,
        }
    }
}

/// The element-wise chains of `graph` among nodes not in `taken`. `host` holds the constants,
/// `readers` how many node inputs and graph outputs read each value. A gate, `Mul(x, f(x))`
/// with `f` a `Sigmoid` or `HardSigmoid` (SiLU and hard-swish as exporters write them), is
/// one step.
pub(crate) fn find(
    graph: &Graph,
    opset: i64,
    host: &Known,
    readers: &HashMap<&str, usize>,
    taken: &HashSet<usize>,
) -> Vec<Chain> {
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        for input in node.inputs.iter().filter(|s| !s.is_empty()) {
            let list = consumers.entry(input.as_str()).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    let mut claimed = vec![false; graph.nodes.len()];
    let free = |i: usize, claimed: &[bool]| !taken.contains(&i) && !claimed[i];
    // `Mul(x, f(x))` from gate node `i` reading `x`: the Mul's index and its `Fed`.
    let gate = |i: usize, claimed: &[bool]| -> Option<(Pointwise, usize, Fed)> {
        let node = &graph.nodes[i];
        let (MapStep::Act(act), _, _) = step_of(node, opset, host, None)? else {
            return None;
        };
        if !matches!(act, Pointwise::Sigmoid | Pointwise::HardSigmoid(..)) {
            return None;
        }
        let (x, g) = (node.input(0)?, node.outputs[0].as_str());
        let m = match (readers.get(g), consumers.get(g).map(Vec::as_slice)) {
            (Some(1), Some(&[m])) => m,
            _ => return None,
        };
        let mul = &graph.nodes[m];
        let fed = match mul.inputs.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [a, b] if a == x && b == g => Fed::Gate { value: 0, gate: 1 },
            [a, b] if a == g && b == x => Fed::Gate { value: 1, gate: 0 },
            _ => return None,
        };
        let plain = mul.op_type == "Mul" && mul.domain.is_empty() && mul.outputs.len() == 1;
        (plain && free(m, claimed)).then_some((act, m, fed))
    };
    // The node the chain continues with after value `out`.
    let next = |out: &str, claimed: &[bool]| -> Option<usize> {
        match (readers.get(out), consumers.get(out).map(Vec::as_slice)) {
            (Some(1), Some(&[j])) => Some(j),
            (Some(2), Some(&[a, b])) => [a, b].into_iter().find(|&s| {
                gate(s, claimed).is_some_and(|(_, m, _)| m == a || m == b)
                    && graph.nodes[s].input(0) == Some(out)
            }),
            _ => None,
        }
    };
    let mut chains = Vec::new();
    // `in_chain[i] == start + 1`: node `i` already belongs to the chain grown from `start`.
    let mut in_chain = vec![0usize; graph.nodes.len()];
    for start in 0..graph.nodes.len() {
        if !free(start, &claimed) {
            continue;
        }
        let mut chain = Chain {
            nodes: Vec::new(),
            steps: Vec::new(),
            fed: Vec::new(),
            const_rank: 0,
        };
        let mut at = Some((start, None::<&str>));
        while let Some((i, from)) = at {
            if !free(i, &claimed) || in_chain[i] == start + 1 {
                break;
            }
            let out = if let Some((act, m, fed)) = gate(i, &claimed)
                && from.is_none_or(|f| graph.nodes[i].input(0) == Some(f))
                && in_chain[m] != start + 1
            {
                chain.nodes.extend([i, m]);
                in_chain[i] = start + 1;
                in_chain[m] = start + 1;
                chain.steps.push(MapStep::Gate(act));
                chain.fed.extend([Fed::Input(0), fed]);
                graph.nodes[m].outputs[0].as_str()
            } else if let Some((step, fed, rank)) = step_of(&graph.nodes[i], opset, host, from) {
                chain.nodes.push(i);
                in_chain[i] = start + 1;
                chain.steps.push(step);
                chain.fed.push(Fed::Input(fed));
                chain.const_rank = chain.const_rank.max(rank);
                graph.nodes[i].outputs[0].as_str()
            } else {
                break;
            };
            at = next(out, &claimed).map(|j| (j, Some(out)));
        }
        if chain.steps.len() >= 2 || chain.steps.iter().any(|s| matches!(s, MapStep::Gate(_))) {
            for &i in &chain.nodes {
                claimed[i] = true;
            }
            chains.push(chain);
        }
    }
    chains
}

/// The step of `node` reading the chain's value at `from` (any non-constant input when
/// `None`), the position of that input and the rank of its constant operand.
fn step_of(
    node: &Node,
    opset: i64,
    host: &Known,
    from: Option<&str>,
) -> Option<(MapStep, usize, usize)> {
    if !node.domain.is_empty() || node.outputs.len() != 1 || node.has_subgraphs() {
        return None;
    }
    let ctx = BuildCtx::new(node, opset, host);
    let scalar = |name: &str| -> Option<(f32, usize)> {
        let t = host.get(name)?;
        match t.as_f32()? {
            [v] => Some((*v, t.shape.len())),
            _ => None,
        }
    };
    let unary = |step| {
        (node.inputs.len() == 1 && !host.contains_key(&node.inputs[0])).then_some((step, 0, 0))
    };
    let fits = |pos: usize| from.is_none_or(|f| node.input(pos) == Some(f));
    match node.op_type.as_str() {
        "Add" | "Sub" | "Mul" | "Div" if node.inputs.len() == 2 => {
            let (pos, (c, rank)) = match (scalar(&node.inputs[0]), scalar(&node.inputs[1])) {
                (None, Some(c)) => (0, c),
                (Some(c), None) => (1, c),
                _ => return None,
            };
            if !fits(pos) {
                return None;
            }
            let rev = pos == 1;
            let step = match node.op_type.as_str() {
                "Add" => MapStep::Add(c),
                "Sub" => MapStep::Sub(c, rev),
                "Mul" => MapStep::Mul(c),
                _ => MapStep::Div(c, rev),
            };
            Some((step, pos, rank))
        }
        _ if !fits(0) => None,
        "Relu" => unary(MapStep::Relu),
        "Sigmoid" => unary(MapStep::Act(Pointwise::Sigmoid)),
        "Tanh" => unary(MapStep::Act(Pointwise::Tanh)),
        "Exp" => unary(MapStep::Act(Pointwise::Exp)),
        "Erf" => unary(MapStep::Act(Pointwise::Erf)),
        "HardSwish" => unary(MapStep::Act(Pointwise::HardSwish)),
        "Neg" => unary(MapStep::Neg),
        "Abs" => unary(MapStep::Abs),
        "Sqrt" => unary(MapStep::Sqrt),
        "HardSigmoid" => unary(MapStep::Act(Pointwise::HardSigmoid(
            ctx.float("alpha", 0.2).ok()?,
            ctx.float("beta", 0.5).ok()?,
        ))),
        "LeakyRelu" => unary(MapStep::Act(Pointwise::LeakyRelu(
            ctx.float("alpha", 0.01).ok()?,
        ))),
        "Clip" => {
            let bound = |pos: usize, attr: &str, default: f32| -> Option<f32> {
                match node.input(pos) {
                    Some(name) => Some(scalar(name)?.0),
                    None if opset < 11 => ctx.float(attr, default).ok(),
                    None => Some(default),
                }
            };
            if host.contains_key(node.input(0)?) {
                return None;
            }
            let lo = bound(1, "min", f32::NEG_INFINITY)?;
            let hi = bound(2, "max", f32::INFINITY)?;
            Some((MapStep::Act(Pointwise::Clip(lo, hi)), 0, 0))
        }
        _ => None,
    }
}

/// A member's own op and its inputs other than the chained value, for the fallback.
pub(crate) struct Member {
    /// The node's op as built on its own.
    pub op: Box<dyn Op>,
    /// The node's inputs with the chained one (and positions the op captured) as `None`.
    pub others: Vec<Option<Value>>,
}

/// The op running a chain: `members` are its nodes' own ops, in order.
pub(crate) fn op(chain: &Chain, members: Vec<Member>) -> Box<dyn Op> {
    Box::new(MapChain {
        steps: chain.steps.clone(),
        fed: chain.fed.clone(),
        const_rank: chain.const_rank,
        members,
    })
}

struct MapChain {
    steps: Vec<MapStep>,
    fed: Vec<Fed>,
    const_rank: usize,
    members: Vec<Member>,
}

impl MapChain {
    fn one_by_one(&self, x: Value) -> Result<Value, String> {
        let (mut before, mut x) = (x.clone(), x);
        for (member, fed) in self.members.iter().zip(&self.fed) {
            let mut ins = member.others.clone();
            let mut put = |pos: usize, v: &Value| {
                if let Some(slot) = ins.get_mut(pos) {
                    *slot = Some(v.clone());
                }
            };
            match *fed {
                Fed::Input(pos) => put(pos, &x),
                Fed::Gate { value, gate } => {
                    put(value, &before);
                    put(gate, &x);
                }
            }
            let y = member
                .op
                .run(Inputs::new(ins))?
                .into_iter()
                .next()
                .ok_or("a chained op produced no output")?;
            before = std::mem::replace(&mut x, y);
        }
        Ok(x)
    }
}

impl Op for MapChain {
    fn run(&self, mut ins: Inputs) -> Result<Vec<Value>, String> {
        let x = ins.take(0)?;
        let fast = matches!(&x, Value::Float(t) if t.dtype() == BurnDType::F32
            && dims(t).len() >= self.const_rank);
        if !fast {
            return Ok(vec![self.one_by_one(x)?]);
        }
        let steps = &self.steps;
        let y = pointwise::in_place(float(x)?, |v| {
            let run = |block: &mut [f32]| steps.iter().for_each(|s| s.sweep(block));
            if v.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
                v.par_chunks_mut(BLOCK).for_each(run);
            } else {
                v.chunks_mut(BLOCK).for_each(run);
            }
        })?;
        Ok(vec![Value::Float(y)])
    }
}
