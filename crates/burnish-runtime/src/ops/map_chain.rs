//! Chains of element-wise nodes run as one pass over memory, found when a session is built.
//!
//! A chain is two or more default-domain nodes, each reading only the previous one's output
//! (read nowhere else, not a graph output) plus constants: an activation (`Relu`, `Clip` with
//! constant bounds, `Sigmoid`, `Tanh`, `HardSigmoid`, `HardSwish`, `LeakyRelu`, `Exp`, `Erf`),
//! `Neg`, `Abs`, `Sqrt`, or `Add`/`Sub`/`Mul`/`Div` with a one-element float32 constant on
//! either side. Exports write hard-swish as `Add`/`Clip`/`Mul`/`Div` and affine blocks as
//! `Mul`/`Add` by scalars; run one by one, each node is a full sweep and an allocation.
//! Steps may also vary per channel (axis 1): an inference `BatchNormalization` with constant
//! parameters, or `Add`/`Sub`/`Mul`/`Div` by a constant such as `[C, 1, 1]` (Caffe2's
//! DenseNet writes each pre-activation as `BatchNormalization`, `Mul`, `Add`, `Relu`, which no
//! conv before it can absorb); such a chain goes plane by plane.
//!
//! The chain applies each node's f32 operation in the node's order, block by block of a
//! cache-resident size, with the functions the standalone ops use, so the result is
//! bit-identical to running the nodes one by one. A non-f32 input, or a constant of higher rank
//! than the input (which would broadcast the output up), runs the nodes' own ops in turn.

use std::collections::{HashMap, HashSet};

use burn_backend::DType as BurnDType;
use burnish_model::Graph;

use super::map_step::{BLOCK, Channel, MapStep, step_of, sweep_all};
use super::pointwise::{self, Pointwise};
use super::util::{dims, float};
use super::{Inputs, Known, Op};
use crate::value::Value;

/// Values per plane from which a chain with per-channel steps runs plane by plane (smaller
/// planes run its nodes' own ops).
const MIN_PLANE: usize = 16;
/// Elements below which a chain stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

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
    /// Steps (by index) whose constants vary per channel.
    channels: Vec<(usize, Channel)>,
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
        let MapStep::Act(act) = step_of(node, opset, host, None)?.step else {
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
            channels: Vec::new(),
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
            } else if let Some(found) = step_of(&graph.nodes[i], opset, host, from) {
                chain.nodes.push(i);
                in_chain[i] = start + 1;
                if let Some(channel) = found.channel {
                    chain.channels.push((chain.steps.len(), channel));
                }
                chain.steps.push(found.step);
                chain.fed.push(Fed::Input(found.fed));
                chain.const_rank = chain.const_rank.max(found.const_rank);
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
        channels: chain.channels.clone(),
        members,
    })
}

struct MapChain {
    steps: Vec<MapStep>,
    fed: Vec<Fed>,
    const_rank: usize,
    channels: Vec<(usize, Channel)>,
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
        let shape = match &x {
            Value::Float(t) if t.dtype() == BurnDType::F32 => dims(t),
            _ => return Ok(vec![self.one_by_one(x)?]),
        };
        let inner = shape.get(2..).map_or(0, |s| s.iter().product::<usize>());
        let planes_fit = inner >= MIN_PLANE && self.channels.iter().all(|(_, c)| c.fits(&shape));
        if shape.len() < self.const_rank || !(self.channels.is_empty() || planes_fit) {
            return Ok(vec![self.one_by_one(x)?]);
        }
        let (steps, channels) = (&self.steps, &self.channels);
        let parallel = shape.iter().product::<usize>() >= PARALLEL_ELEMENTS
            && rayon::current_num_threads() > 1;
        let y = if channels.is_empty() {
            pointwise::chunked(float(x)?, BLOCK, parallel, |_, block| {
                sweep_all(steps.iter().copied(), block)
            })?
        } else {
            pointwise::chunked(float(x)?, inner, parallel, |at, plane| {
                let c = (at / inner) % shape[1];
                let step = |(k, s): (usize, &MapStep)| match channels.iter().find(|p| p.0 == k) {
                    Some((_, per)) => s.at_channel(per, c),
                    None => *s,
                };
                for block in plane.chunks_mut(BLOCK) {
                    sweep_all(steps.iter().enumerate().map(step), block);
                }
            })?
        };
        Ok(vec![Value::Float(y)])
    }
}
