//! `TreeEnsemble` (ai.onnx.ml opset 5) and the aggregation and post-transforms shared with
//! the older `TreeEnsembleRegressor`/`TreeEnsembleClassifier`.

use burnish_model::{AttrExt, DType, TensorData};

use super::{float_buffer, upload};
use crate::ops::{BuildCtx, Op, op};

/// How the trees' leaf weights combine per target.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Aggregate {
    Average,
    Sum,
    Min,
    Max,
}

/// The transform applied to each row of scores.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Post {
    None,
    Softmax,
    Logistic,
    SoftmaxZero,
    Probit,
}

impl Post {
    /// Parses the opset-5 integer code.
    fn from_code(c: i64) -> Result<Post, String> {
        Ok(match c {
            0 => Post::None,
            1 => Post::Softmax,
            2 => Post::Logistic,
            3 => Post::SoftmaxZero,
            4 => Post::Probit,
            _ => return Err(format!("post_transform {c} is not in 0..=4")),
        })
    }

    /// Parses the older string form.
    pub(crate) fn from_name(s: &str) -> Result<Post, String> {
        Ok(match s {
            "NONE" => Post::None,
            "SOFTMAX" => Post::Softmax,
            "LOGISTIC" => Post::Logistic,
            "SOFTMAX_ZERO" => Post::SoftmaxZero,
            "PROBIT" => Post::Probit,
            _ => return Err(format!("post_transform `{s}` is not supported")),
        })
    }

    /// Applies the transform to one row in place (onnxruntime's formulas, in f32).
    pub(crate) fn apply(self, row: &mut [f64]) {
        match self {
            Post::None => {}
            Post::Logistic => row.iter_mut().for_each(|v| *v = logistic(*v as f32) as f64),
            Post::Probit => row.iter_mut().for_each(|v| *v = probit(*v as f32) as f64),
            Post::Softmax | Post::SoftmaxZero => {
                let zero = self == Post::SoftmaxZero;
                let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let mut sum = 0.0;
                for v in row.iter_mut() {
                    if zero && v.abs() <= 1e-7 {
                        *v = 0.0;
                    } else {
                        *v = (*v - max).exp();
                        sum += *v;
                    }
                }
                if sum > 0.0 {
                    row.iter_mut().for_each(|v| *v /= sum);
                } else {
                    row.iter_mut().for_each(|v| *v = 0.5);
                }
            }
        }
    }
}

fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 { 1.0 - v } else { v }
}

/// onnxruntime's probit: `sqrt(2) * erfinv(2x - 1)` with Winitzki's erfinv approximation.
fn probit(x: f32) -> f32 {
    let y = x * 2.0 - 1.0;
    let sgn = if y < 0.0 { -1.0 } else { 1.0 };
    let w = (1.0 - y) * (1.0 + y);
    if w == 0.0 {
        return 0.0;
    }
    let l = w.ln();
    let v = 2.0 / (std::f32::consts::PI * 0.147) + 0.5 * l;
    let v3 = (v * v - l / 0.147).sqrt() - v;
    std::f32::consts::SQRT_2 * sgn * v3.sqrt()
}

/// A branch comparison.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Rule {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Member,
}

/// One branch node: `true`/`false` successors are node or leaf indices.
#[derive(Clone)]
pub(crate) struct Branch {
    pub rule: Rule,
    pub split: f64,
    pub feature: usize,
    pub missing_true: bool,
    pub members: Vec<f64>,
    pub yes: Next,
    pub no: Next,
}

/// Where a branch leads.
#[derive(Clone, Copy)]
pub(crate) enum Next {
    Node(usize),
    Leaf(usize),
}

impl Branch {
    fn goes_true(&self, x: f64) -> bool {
        let hit = match self.rule {
            Rule::Leq => x <= self.split,
            Rule::Lt => x < self.split,
            Rule::Gte => x >= self.split,
            Rule::Gt => x > self.split,
            Rule::Eq => x == self.split,
            Rule::Neq => x != self.split,
            Rule::Member => self.members.contains(&x),
        };
        hit || (self.missing_true && x.is_nan())
    }
}

/// Follows `start` through `nodes` for the feature row `x` to a leaf index.
pub(crate) fn walk(nodes: &[Branch], start: Next, x: &[f64]) -> Result<usize, String> {
    let mut at = start;
    for _ in 0..=nodes.len() {
        match at {
            Next::Leaf(l) => return Ok(l),
            Next::Node(n) => {
                let b = nodes
                    .get(n)
                    .ok_or_else(|| format!("tree node {n} does not exist"))?;
                let v = *x.get(b.feature).ok_or_else(|| {
                    format!(
                        "tree feature {} is out of range for {} input features",
                        b.feature,
                        x.len()
                    )
                })?;
                at = if b.goes_true(v) { b.yes } else { b.no };
            }
        }
    }
    Err("the tree ensemble has a cycle".into())
}

/// Combines `(target, weight)` contributions of `trees` trees into `n` scores.
pub(crate) fn aggregate(agg: Aggregate, n: usize, trees: usize, hits: &[(usize, f64)]) -> Vec<f64> {
    let mut out = vec![0.0; n];
    let mut seen = vec![false; n];
    for &(t, w) in hits {
        let (o, s) = (&mut out[t], &mut seen[t]);
        *o = match agg {
            Aggregate::Sum | Aggregate::Average => *o + w,
            Aggregate::Min if *s => o.min(w),
            Aggregate::Max if *s => o.max(w),
            Aggregate::Min | Aggregate::Max => w,
        };
        *s = true;
    }
    if agg == Aggregate::Average && trees > 0 {
        out.iter_mut().for_each(|v| *v /= trees as f64);
    }
    out
}

/// The compiled opset-5 ensemble.
struct Ensemble {
    nodes: Vec<Branch>,
    roots: Vec<Next>,
    leaves: Vec<(usize, f64)>,
    n_targets: usize,
    agg: Aggregate,
    post: Post,
}

fn index(v: i64, len: usize, what: &str) -> Result<usize, String> {
    usize::try_from(v)
        .ok()
        .filter(|&i| i < len)
        .ok_or_else(|| format!("TreeEnsemble {what} {v} is out of range (0..{len})"))
}

fn parse(ctx: &BuildCtx) -> Result<Ensemble, String> {
    let a = ctx.attrs();
    let ints = |n: &str| {
        ctx.ints(n)?
            .ok_or_else(|| format!("TreeEnsemble needs the `{n}` attribute"))
    };
    let floats = |n: &str| -> Result<Option<Vec<f64>>, String> {
        Ok(a.tensor_opt(n)
            .map_err(|e| e.0)?
            .map(|t| t.to_f64_vec().unwrap_or_default()))
    };
    let splits = floats("nodes_splits")?.ok_or("TreeEnsemble needs nodes_splits")?;
    let modes = a
        .tensor_opt("nodes_modes")
        .map_err(|e| e.0)?
        .and_then(TensorData::to_i64_vec)
        .ok_or("TreeEnsemble needs nodes_modes")?;
    let features = ints("nodes_featureids")?;
    let (tn, fnn) = (ints("nodes_truenodeids")?, ints("nodes_falsenodeids")?);
    let (tl, fl) = (ints("nodes_trueleafs")?, ints("nodes_falseleafs")?);
    let missing = ctx
        .ints("nodes_missing_value_tracks_true")?
        .unwrap_or_else(|| vec![0; splits.len()]);
    let n = splits.len();
    for (name, len) in [
        ("nodes_modes", modes.len()),
        ("nodes_featureids", features.len()),
        ("nodes_truenodeids", tn.len()),
        ("nodes_falsenodeids", fnn.len()),
        ("nodes_trueleafs", tl.len()),
        ("nodes_falseleafs", fl.len()),
        ("nodes_missing_value_tracks_true", missing.len()),
    ] {
        if len != n {
            return Err(format!(
                "TreeEnsemble {name} has {len} entries for {n} nodes"
            ));
        }
    }
    let targets = ints("leaf_targetids")?;
    let weights = floats("leaf_weights")?.ok_or("TreeEnsemble needs leaf_weights")?;
    if targets.len() != weights.len() {
        return Err(format!(
            "TreeEnsemble has {} leaf_targetids for {} leaf_weights",
            targets.len(),
            weights.len()
        ));
    }
    let n_targets = index(ctx.int("n_targets", -1)?, usize::MAX, "n_targets")?;
    let leaves = targets
        .iter()
        .zip(&weights)
        .map(|(&t, &w)| Ok((index(t, n_targets, "leaf target id")?, w)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut members = floats("membership_values")?.unwrap_or_default().into_iter();
    let next = |to: i64, leaf: i64| -> Result<Next, String> {
        Ok(if leaf != 0 {
            Next::Leaf(index(to, leaves.len(), "leaf index")?)
        } else {
            Next::Node(index(to, n, "node index")?)
        })
    };
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let rule = match modes[i] {
            0 => Rule::Leq,
            1 => Rule::Lt,
            2 => Rule::Gte,
            3 => Rule::Gt,
            4 => Rule::Eq,
            5 => Rule::Neq,
            6 => Rule::Member,
            m => return Err(format!("TreeEnsemble node mode {m} is not in 0..=6")),
        };
        let set = if rule == Rule::Member {
            members.by_ref().take_while(|v| !v.is_nan()).collect()
        } else {
            Vec::new()
        };
        nodes.push(Branch {
            rule,
            split: splits[i],
            feature: index(features[i], usize::MAX, "feature id")?,
            missing_true: missing[i] != 0,
            members: set,
            yes: next(tn[i], tl[i])?,
            no: next(fnn[i], fl[i])?,
        });
    }
    let roots = ints("tree_roots")?
        .into_iter()
        .map(|r| {
            let i = index(r, n, "tree root")?;
            if tl[i] != 0 && fl[i] != 0 && tn[i] == fnn[i] {
                Ok(Next::Leaf(index(r, leaves.len(), "tree root leaf")?))
            } else {
                Ok(Next::Node(i))
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let agg = match ctx.int("aggregate_function", 1)? {
        0 => Aggregate::Average,
        1 => Aggregate::Sum,
        2 => Aggregate::Min,
        3 => Aggregate::Max,
        c => {
            return Err(format!(
                "TreeEnsemble aggregate_function {c} is not in 0..=3"
            ));
        }
    };
    let post = Post::from_code(ctx.int("post_transform", 0)?)?;
    Ok(Ensemble {
        nodes,
        roots,
        leaves,
        n_targets,
        agg,
        post,
    })
}

/// Rows of a `[N, F]` (or `[F]`) float input, rounded like `dtype` splits would be.
pub(crate) fn rows(t: &TensorData, what: &str) -> Result<(usize, usize, Vec<f64>), String> {
    let v = t
        .to_f64_vec()
        .filter(|_| t.dtype() != DType::String)
        .ok_or_else(|| format!("{what} input must be numeric"))?;
    let (n, f) = match t.shape.as_slice() {
        [f] => (1, *f),
        [n, f] => (*n, *f),
        [n, rest @ ..] => (*n, rest.iter().product()),
        [] => (1, 1),
    };
    Ok((n, f, v))
}

/// `TreeEnsemble` (ai.onnx.ml opset 5).
pub fn tree_ensemble(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let e = parse(ctx)?;
    op(move |mut ins| {
        let t = ins.take(0)?.host()?;
        let (n, f, x) = rows(&t, "TreeEnsemble")?;
        let mut out = Vec::with_capacity(n * e.n_targets);
        crate::ops::util::check_numel(&[n, e.n_targets])?;
        for r in 0..n {
            let row = &x[r * f..(r + 1) * f];
            let hits = e
                .roots
                .iter()
                .map(|&root| Ok(e.leaves[walk(&e.nodes, root, row)?]))
                .collect::<Result<Vec<_>, String>>()?;
            let mut scores = aggregate(e.agg, e.n_targets, e.roots.len(), &hits);
            e.post.apply(&mut scores);
            out.extend(scores);
        }
        let dtype = if t.dtype().is_float() {
            t.dtype()
        } else {
            DType::F32
        };
        Ok(vec![upload(
            vec![n, e.n_targets],
            float_buffer(dtype, out)?,
        )?])
    })
}
