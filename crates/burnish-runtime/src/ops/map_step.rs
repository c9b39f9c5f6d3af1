//! The steps of element-wise chains ([`super::map_chain`]): one node's f32 operation each,
//! swept over a block with the functions the standalone ops use, and which nodes make one.

use burnish_model::{Node, TensorData};

use super::pointwise::Pointwise;
use super::{BuildCtx, Known, norm};

/// Elements per block: each step sweeps a block while it sits in L1.
pub(crate) const BLOCK: usize = 2048;

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
    /// `x * a + b` (two roundings): an inference `BatchNormalization`'s per-channel values.
    Affine(f32, f32),
}

impl MapStep {
    /// This step with channel `c`'s values of `per` in place of its constants.
    pub(crate) fn at_channel(self, per: &Channel, c: usize) -> MapStep {
        let v = per.a[c];
        match self {
            MapStep::Add(_) => MapStep::Add(v),
            MapStep::Sub(_, rev) => MapStep::Sub(v, rev),
            MapStep::Mul(_) => MapStep::Mul(v),
            MapStep::Div(_, rev) => MapStep::Div(v, rev),
            MapStep::Affine(..) => MapStep::Affine(v, per.b[c]),
            other => other,
        }
    }

    /// Applies the step to every value of `v` (at most [`BLOCK`] long for a gate).
    #[inline(always)]
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
            MapStep::Affine(a, b) => v.iter_mut().for_each(|x| *x = *x * a + b),
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

/// Applies `steps` in order to `block`, compiled for AVX-512 or AVX2 where the CPU has them:
/// the steps' loops autovectorize to the widest vectors there (the baseline build has SSE2;
/// Rust never contracts a multiply and an add, so the results stay the same).
pub(crate) fn sweep_all(steps: impl Iterator<Item = MapStep>, block: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn avx512(steps: impl Iterator<Item = MapStep>, block: &mut [f32]) {
            steps.for_each(|s| s.sweep(block));
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2(steps: impl Iterator<Item = MapStep>, block: &mut [f32]) {
            steps.for_each(|s| s.sweep(block));
        }
        let cpu = burnish_kernels::cpu::features();
        if cpu.avx512() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (probed).
            return unsafe { avx512(steps, block) };
        }
        if cpu.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { avx2(steps, block) };
        }
    }
    steps.for_each(|s| s.sweep(block));
}

/// Per-channel constants of a step, which varies them along axis 1 of its input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Channel {
    /// The operand per channel (the scale of an affine step).
    pub a: Vec<f32>,
    /// The shift per channel of an affine step.
    pub b: Vec<f32>,
    /// The input rank at which the constant's broadcast lands on axis 1 (`None`: any rank, as
    /// `BatchNormalization` reads it).
    pub rank: Option<usize>,
}

impl Channel {
    /// Whether an input of `shape` reads these constants along its axis 1.
    pub(crate) fn fits(&self, shape: &[usize]) -> bool {
        shape.len() >= 2 && shape[1] == self.a.len() && self.rank.is_none_or(|r| r == shape.len())
    }
}

/// A node that a chain can take.
pub(crate) struct Found {
    pub step: MapStep,
    /// The position of the input that carries the chained value.
    pub fed: usize,
    /// The rank of a scalar constant operand (0 for none).
    pub const_rank: usize,
    /// The step's per-channel constants, if it has them.
    pub channel: Option<Channel>,
}

/// What `node` does to the chain's value at `from` (any non-constant input when `None`): an
/// element-wise step with scalar or per-channel constants, or `None`.
pub(crate) fn step_of(node: &Node, opset: i64, host: &Known, from: Option<&str>) -> Option<Found> {
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
    let found = |step, fed, const_rank, channel| Found {
        step,
        fed,
        const_rank,
        channel,
    };
    let unary = |step| {
        (node.inputs.len() == 1 && !host.contains_key(&node.inputs[0]))
            .then(|| found(step, 0, 0, None))
    };
    let fits = |pos: usize| from.is_none_or(|f| node.input(pos) == Some(f));
    match node.op_type.as_str() {
        "Add" | "Sub" | "Mul" | "Div" if node.inputs.len() == 2 => {
            let operand = |name: &str| {
                scalar(name).map(|(c, rank)| (c, rank, None)).or_else(|| {
                    let (a, rank) = per_channel(host.get(name)?)?;
                    Some((
                        0.0,
                        0,
                        Some(Channel {
                            a,
                            b: Vec::new(),
                            rank: Some(rank),
                        }),
                    ))
                })
            };
            let known = |name: &str| host.contains_key(name);
            let (pos, (c, rank, channel)) = match &node.inputs[..] {
                [x, k] if !known(x) => (0, operand(k)?),
                [k, x] if !known(x) => (1, operand(k)?),
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
            Some(found(step, pos, rank, channel))
        }
        "BatchNormalization" => {
            let (a, b) = norm::folded(&ctx)?;
            let channel = Channel { a, b, rank: None };
            (!host.contains_key(node.input(0)?))
                .then(|| found(MapStep::Affine(0.0, 0.0), 0, 0, Some(channel)))
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
            Some(found(MapStep::Act(Pointwise::Clip(lo, hi)), 0, 0, None))
        }
        _ => None,
    }
}

/// The values of a constant that varies only along one axis, of more than one value, and the
/// input rank at which that axis lands on axis 1 (`[C, 1, 1]` against NCHW, `[1, C, 1, 1]`).
fn per_channel(t: &TensorData) -> Option<(Vec<f32>, usize)> {
    let values = t.as_f32()?;
    let mut long = t.shape.iter().enumerate().filter(|&(_, &d)| d != 1);
    let (axis, _) = long.next()?;
    if long.next().is_some() || values.len() < 2 {
        return None;
    }
    Some((values.to_vec(), t.shape.len() - axis + 1))
}
