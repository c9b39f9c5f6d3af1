//! Automatic float fallback: when the quantized model falls below the fidelity floor
//! ([`burnish_eval::fidelity_floor`]) on real samples, keep the nodes that measurably cost the
//! most fidelity in float until the floor holds; no labels needed.
//!
//! 1. Quantize everything; check the floor. When it holds: done.
//! 2. Rank the quantized nodes by the error each adds on its own: run the float model and the
//!    QDQ model (in float, so the quantization noise is what the Q/DQ pairs add) on a few
//!    samples with every node output exposed, and take the relative squared error of the
//!    node's output minus the largest of its inputs' (what arrives already wrong).
//! 3. Keep the 1, 2, 4, 8, ... most costly nodes in float, quantizing again each round, until
//!    the floor holds or the round or time limit is reached, never more than half of the
//!    quantized nodes (beyond that the result is a float model, not an int8 one); then bisect
//!    between the last two counts for the fewest that still meet it.
//! 4. Return the model with the fewest float nodes that meets the floor; when none does, the
//!    fully quantized one (a few float nodes that do not reach the floor cost speed and buy
//!    little), and say so.
//!
//! A node kept in float reads the float values of its inputs, not their dequantized codes
//! (`QuantConfig::exclude_nodes`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use burnish_eval::{FidelityFloor, fidelity_floor};
use burnish_model::{Model, Node, Samples, TensorData};
use burnish_runtime::capture::capture;
use burnish_runtime::{RuntimeError, SessionOptions};
use serde::Serialize;

use crate::{Calibration, QuantConfig, QuantError, Quantized, quantize_for_burnish};

/// Limits of [`float_fallback`].
#[derive(Debug, Clone, Copy)]
pub struct FallbackOptions {
    /// Samples the floor is checked on (at most).
    pub floor_samples: usize,
    /// Samples the node errors are measured on (at most).
    pub rank_samples: usize,
    /// Most fallback rounds after the full quantization (round `r` keeps `2^(r-1)` nodes).
    pub max_rounds: usize,
    /// Wall-time limit; a running round is not interrupted.
    pub time_limit: Option<Duration>,
}

impl Default for FallbackOptions {
    fn default() -> Self {
        Self {
            floor_samples: 8,
            rank_samples: 2,
            max_rounds: 6,
            time_limit: Some(Duration::from_secs(600)),
        }
    }
}

/// The error one quantized node adds.
#[derive(Debug, Clone, Serialize)]
pub struct NodeError {
    /// Node name.
    pub node: String,
    /// Op type.
    pub op_type: String,
    /// Relative squared error of its output against the float model's, less that of its
    /// worst input.
    pub added_error: f64,
}

/// One quantize-and-check round.
#[derive(Debug, Clone, Serialize)]
pub struct FallbackRound {
    /// Nodes kept in float.
    pub float_nodes: Vec<String>,
    /// Lowest output cosine over the floor samples.
    pub worst_cosine: f64,
    /// Lowest top-1 agreement, for outputs with classes.
    pub worst_top1: Option<f64>,
    /// Whether the floor held.
    pub met: bool,
    /// Wall time, milliseconds.
    pub millis: f64,
}

/// What the fallback did.
#[derive(Debug, Clone, Serialize)]
pub struct FallbackRecord {
    /// Quantized nodes, costliest first (empty when the full quantization met the floor).
    pub ranking: Vec<NodeError>,
    /// Every round, the full quantization first.
    pub rounds: Vec<FallbackRound>,
    /// Nodes kept in float in the returned model.
    pub kept_float: Vec<String>,
    /// Whether the returned model meets the floor.
    pub met: bool,
}

/// The model the fallback chose, its floor check and the record.
#[derive(Debug, Clone)]
pub struct FellBack {
    /// The quantized model.
    pub quantized: Quantized,
    /// Its fidelity floor.
    pub floor: FidelityFloor,
    /// How it was found.
    pub record: FallbackRecord,
}

fn round(floor: &FidelityFloor, float_nodes: Vec<String>, t0: Instant) -> FallbackRound {
    FallbackRound {
        float_nodes,
        worst_cosine: floor
            .outputs
            .iter()
            .map(|o| o.metrics.cosine)
            .fold(f64::INFINITY, f64::min),
        worst_top1: floor
            .outputs
            .iter()
            .filter_map(|o| o.metrics.top1_agreement)
            .reduce(f64::min),
        met: floor.met(),
        millis: t0.elapsed().as_secs_f64() * 1e3,
    }
}

/// Quantizes `model` as `cfg` says and keeps the fewest nodes in float (by measured added
/// error) that bring the quantized model, as burnish runs it, to the fidelity floor on
/// `samples`.
pub fn float_fallback(
    model: &Model,
    cfg: &QuantConfig,
    calibration: Option<&Calibration>,
    samples: &Samples,
    opts: &FallbackOptions,
) -> Result<FellBack, QuantError> {
    let start = Instant::now();
    let quantize = |float: &[String]| -> Result<Quantized, QuantError> {
        let mut c = cfg.clone();
        c.exclude_nodes.extend(float.iter().cloned());
        quantize_for_burnish(model, &c, calibration)
    };
    let check = |q: &Quantized| fidelity_floor(model, &q.executed, samples, opts.floor_samples);
    let t0 = Instant::now();
    let full = quantize(&[])?;
    let floor = check(&full)?;
    let mut rounds = vec![round(&floor, Vec::new(), t0)];
    let mut best = FellBack {
        quantized: full,
        floor,
        record: FallbackRecord {
            ranking: Vec::new(),
            rounds: Vec::new(),
            kept_float: Vec::new(),
            met: false,
        },
    };
    if !best.floor.met() {
        let ranking = rank(model, &best.quantized, samples, opts.rank_samples)?;
        let try_prefix = |k: usize, rounds: &mut Vec<FallbackRound>| {
            if opts.time_limit.is_some_and(|t| start.elapsed() >= t) {
                return Ok(None);
            }
            let float: Vec<String> = ranking[..k].iter().map(|n| n.node.clone()).collect();
            let t0 = Instant::now();
            let q = quantize(&float)?;
            let floor = check(&q)?;
            rounds.push(round(&floor, float.clone(), t0));
            Ok::<_, QuantError>(Some((q, floor, float)))
        };
        // Doubling until the floor holds, then bisection between the last two prefixes.
        let (mut below, mut met) = (0, None);
        let mut take = 1;
        for _ in 0..opts.max_rounds {
            if take > ranking.len().div_ceil(2) {
                break;
            }
            match try_prefix(take, &mut rounds)? {
                None => break,
                Some(found) if found.1.met() => {
                    met = Some((take, found));
                    break;
                }
                Some(_) => below = take,
            }
            take *= 2;
        }
        while let Some((k, _)) = &met {
            let mid = (below + k) / 2;
            if mid <= below {
                break;
            }
            match try_prefix(mid, &mut rounds)? {
                None => break,
                Some(found) if found.1.met() => met = Some((mid, found)),
                Some(_) => below = mid,
            }
        }
        if let Some((_, (q, floor, float))) = met {
            best.quantized = q;
            best.floor = floor;
            best.record.kept_float = float;
        }
        best.record.ranking = ranking;
    }
    best.record.met = best.floor.met();
    best.record.rounds = rounds;
    Ok(best)
}

/// One node's values to compare: its output (as named in the float and the QDQ model), and
/// the float values its inputs quantize (where the QDQ graph kept their names).
struct Probe<'m> {
    node: &'m Node,
    output: (&'m str, &'m str),
    inputs: Vec<&'m str>,
}

/// The value a QDQ node's input quantizes: through `DequantizeLinear` and `QuantizeLinear` back
/// to the float value, or the input itself.
fn quantized_source<'m>(qdq: &'m Model, value: &'m str) -> &'m str {
    let producer = |v: &str| {
        qdq.graph
            .nodes
            .iter()
            .find(|n| n.outputs.iter().any(|o| o == v))
    };
    let source = producer(value)
        .filter(|dq| dq.op_type == "DequantizeLinear")
        .and_then(|dq| dq.input(0))
        .and_then(producer)
        .filter(|q| q.op_type == "QuantizeLinear")
        .and_then(|q| q.input(0));
    source.unwrap_or(value)
}

/// The quantized nodes of `q`, costliest first (see the module docs).
fn rank(
    model: &Model,
    q: &Quantized,
    samples: &Samples,
    max: usize,
) -> Result<Vec<NodeError>, QuantError> {
    let base = burnish_optimizer::lower_for_export(model, false);
    let by_name = |m: &'_ Model| -> HashMap<String, usize> {
        m.graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect()
    };
    let (in_base, in_qdq) = (by_name(&base), by_name(&q.qdq));
    let candidates = q
        .record
        .nodes
        .iter()
        .filter(|d| d.quantized)
        .map(|d| &d.node)
        .chain(&q.record.activation_ops);
    let probes: Vec<Probe> = candidates
        .filter_map(|name| {
            let bn = &base.graph.nodes[*in_base.get(name)?];
            let qn = &q.qdq.graph.nodes[*in_qdq.get(name)?];
            let inputs = bn
                .inputs
                .iter()
                .zip(&qn.inputs)
                .filter(|(want, got)| quantized_source(&q.qdq, got) == want.as_str())
                .map(|(want, _)| want.as_str())
                .collect();
            Some(Probe {
                node: bn,
                output: (bn.outputs.first()?, qn.outputs.first()?),
                inputs,
            })
        })
        .collect();
    let (base_defined, qdq_defined) = (base.graph.defined_values(), q.qdq.graph.defined_values());
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for p in &probes {
        for pair in std::iter::once(p.output).chain(p.inputs.iter().map(|&v| (v, v))) {
            if base_defined.contains(pair.0)
                && qdq_defined.contains(pair.1)
                && !pairs.contains(&pair)
            {
                pairs.push(pair);
            }
        }
    }
    let (want_names, got_names): (Vec<&str>, Vec<&str>) = pairs.iter().copied().unzip();
    let simulated = SessionOptions {
        qdq_int8: false,
        ..SessionOptions::default()
    };
    let mut sums: HashMap<(&str, &str), Vec<(f64, f64)>> = HashMap::new();
    for i in 0..samples.rows().min(max.max(1)) {
        let inputs = samples.take(&[i])?;
        let runtime = |what: &'static str| {
            move |source: RuntimeError| QuantError::Runtime {
                context: format!("capturing the {what} model on sample {i}"),
                source,
            }
        };
        let want = capture(&base, &want_names, &inputs, SessionOptions::default())
            .map_err(runtime("float"))?;
        let got =
            capture(&q.qdq, &got_names, &inputs, simulated.clone()).map_err(runtime("QDQ"))?;
        for &(w, g) in &pairs {
            if let (Some(w_value), Some(g_value)) = (want.get(w), got.get(g)) {
                let per_channel = squared_error(w_value, g_value);
                let s = sums.entry((w, g)).or_default();
                s.resize(per_channel.len().max(s.len()), (0.0, 0.0));
                for (acc, (err, power)) in s.iter_mut().zip(per_channel) {
                    acc.0 += err;
                    acc.1 += power;
                }
            }
        }
    }
    let rel = |pair: (&str, &str)| sums.get(&pair).map_or(0.0, |c| worst_channel(c));
    let mut out: Vec<NodeError> = probes
        .iter()
        .map(|p| NodeError {
            node: p.node.name.clone(),
            op_type: p.node.op_type.clone(),
            added_error: (rel(p.output)
                - p.inputs.iter().map(|&v| rel((v, v))).fold(0.0, f64::max))
            .max(0.0),
        })
        .collect();
    out.sort_by(|a, b| b.added_error.total_cmp(&a.added_error));
    Ok(out)
}

/// Per channel (axis 1; the whole tensor below rank 2): the sum of squared differences and
/// of the reference's squares, non-finite values skipped.
fn squared_error(want: &TensorData, got: &TensorData) -> Vec<(f64, f64)> {
    let (Some(w), Some(g)) = (want.to_f64_vec(), got.to_f64_vec()) else {
        return Vec::new();
    };
    if w.len() != g.len() || want.shape != got.shape {
        return Vec::new();
    }
    let (channels, inner) = match want.shape.as_slice() {
        [_, c, rest @ ..] => (*c, rest.iter().product::<usize>()),
        _ => (1, w.len()),
    };
    let mut out = vec![(0.0, 0.0); channels.max(1)];
    for (i, (a, b)) in w.iter().zip(&g).enumerate() {
        if a.is_finite() && b.is_finite() {
            let c = &mut out[(i / inner.max(1)) % channels.max(1)];
            c.0 += (a - b) * (a - b);
            c.1 += a * a;
        }
    }
    out
}

/// The largest relative squared error of a channel; channels whose reference holds almost
/// nothing (below a millionth of the mean channel power) are skipped.
fn worst_channel(channels: &[(f64, f64)]) -> f64 {
    let mean = channels.iter().map(|c| c.1).sum::<f64>() / channels.len().max(1) as f64;
    channels
        .iter()
        .filter(|c| c.1 > 1e-6 * mean && c.1 > 0.0)
        .map(|c| c.0 / c.1)
        .fold(0.0, f64::max)
}
