//! `TreeEnsembleRegressor` and `TreeEnsembleClassifier` (ai.onnx.ml opsets 1 and 3), the tree
//! ensembles sklearn exporters emit. Nodes are addressed by `(tree id, node id)`; leaves carry
//! `(target or class, weight)` lists. Scores, labels and the binary-class conventions follow
//! onnxruntime, the runtime these exports are made for.

use std::collections::{HashMap, HashSet};

use burnish_model::{AttrExt, Buffer};

use super::tree::{Aggregate, Branch, Next, Post, Rule, aggregate, rows, walk};
use super::upload;
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// The parsed trees: branch nodes by index, each tree's root, each leaf's weights.
struct Forest {
    nodes: Vec<Branch>,
    roots: Vec<Next>,
    leaf_weights: Vec<Vec<(usize, f64)>>,
    base: Vec<f64>,
    post: Post,
}

fn floats_attr(ctx: &BuildCtx, name: &str) -> Result<Option<Vec<f64>>, String> {
    if let Some(v) = ctx.floats(name)? {
        return Ok(Some(v.into_iter().map(f64::from).collect()));
    }
    let t = ctx
        .attrs()
        .tensor_opt(&format!("{name}_as_tensor"))
        .map_err(|e| e.0)?;
    Ok(t.and_then(|t| t.to_f64_vec()))
}

impl Forest {
    /// Parses the `nodes_*` attributes and the `{prefix}_*` leaf weights (`target` or `class`)
    /// whose ids must be below `outputs`.
    fn parse(ctx: &BuildCtx, op: &str, prefix: &str, outputs: usize) -> Result<Forest, String> {
        let ints = |n: &str| {
            ctx.ints(n)?
                .ok_or_else(|| format!("{op} needs the `{n}` attribute"))
        };
        let trees = ints("nodes_treeids")?;
        let ids = ints("nodes_nodeids")?;
        let features = ints("nodes_featureids")?;
        let modes = ctx
            .attrs()
            .strings_opt("nodes_modes")
            .map_err(|e| e.0)?
            .ok_or(format!("{op} needs nodes_modes"))?;
        let values = floats_attr(ctx, "nodes_values")?.unwrap_or_else(|| vec![0.0; trees.len()]);
        let (yes, no) = (ints("nodes_truenodeids")?, ints("nodes_falsenodeids")?);
        let missing = ctx
            .ints("nodes_missing_value_tracks_true")?
            .unwrap_or_else(|| vec![0; trees.len()]);
        let n = trees.len();
        for (name, len) in [
            ("nodes_nodeids", ids.len()),
            ("nodes_featureids", features.len()),
            ("nodes_modes", modes.len()),
            ("nodes_values", values.len()),
            ("nodes_truenodeids", yes.len()),
            ("nodes_falsenodeids", no.len()),
            ("nodes_missing_value_tracks_true", missing.len()),
        ] {
            if len != n {
                return Err(format!("{op} {name} has {len} entries for {n} nodes"));
            }
        }
        let mut index = HashMap::new();
        for (i, key) in trees.iter().zip(&ids).enumerate() {
            if index.insert(key, i).is_some() {
                return Err(format!("{op} node ({}, {}) appears twice", key.0, key.1));
            }
        }
        let is_leaf: Vec<bool> = modes.iter().map(|m| m == "LEAF").collect();
        let find = |tree: &i64, node: &i64| -> Result<Next, String> {
            let i = *index
                .get(&(tree, node))
                .ok_or_else(|| format!("{op} node ({tree}, {node}) does not exist"))?;
            Ok(if is_leaf[i] {
                Next::Leaf(i)
            } else {
                Next::Node(i)
            })
        };
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let rule = match modes[i].as_str() {
                "BRANCH_LEQ" => Rule::Leq,
                "BRANCH_LT" => Rule::Lt,
                "BRANCH_GTE" => Rule::Gte,
                "BRANCH_GT" => Rule::Gt,
                "BRANCH_EQ" => Rule::Eq,
                "BRANCH_NEQ" => Rule::Neq,
                "LEAF" => Rule::Leq,
                m => return Err(format!("{op} node mode `{m}` is not supported")),
            };
            let (t, f) = if is_leaf[i] {
                (Next::Leaf(i), Next::Leaf(i))
            } else {
                (find(&trees[i], &yes[i])?, find(&trees[i], &no[i])?)
            };
            nodes.push(Branch {
                rule,
                split: values[i],
                feature: usize::try_from(features[i])
                    .map_err(|_| format!("{op} feature id {} is negative", features[i]))?,
                missing_true: missing[i] != 0,
                members: Vec::new(),
                yes: t,
                no: f,
            });
        }
        let mut seen = HashSet::new();
        let roots = trees
            .iter()
            .enumerate()
            .filter(|(_, t)| seen.insert(**t))
            .map(|(i, _)| {
                if is_leaf[i] {
                    Next::Leaf(i)
                } else {
                    Next::Node(i)
                }
            })
            .collect();
        let (wt, wn) = (
            ints(&format!("{prefix}_treeids"))?,
            ints(&format!("{prefix}_nodeids"))?,
        );
        let wi = ints(&format!("{prefix}_ids"))?;
        let ww = floats_attr(ctx, &format!("{prefix}_weights"))?
            .ok_or_else(|| format!("{op} needs {prefix}_weights"))?;
        if wn.len() != wt.len() || wi.len() != wt.len() || ww.len() != wt.len() {
            return Err(format!(
                "{op} {prefix}_treeids, _nodeids, _ids and _weights differ in length"
            ));
        }
        let mut leaf_weights = vec![Vec::new(); n];
        for k in 0..wt.len() {
            let Next::Leaf(i) = find(&wt[k], &wn[k])? else {
                return Err(format!("{op} weight {k} names a branch node, not a leaf"));
            };
            let id = usize::try_from(wi[k])
                .ok()
                .filter(|&c| c < outputs)
                .ok_or_else(|| {
                    format!("{op} {prefix} id {} is out of range (0..{outputs})", wi[k])
                })?;
            leaf_weights[i].push((id, ww[k]));
        }
        let base = floats_attr(ctx, "base_values")?.unwrap_or_default();
        let post = Post::from_name(&ctx.string("post_transform", "NONE")?)?;
        Ok(Forest {
            nodes,
            roots,
            leaf_weights,
            base,
            post,
        })
    }

    /// Every `(output, weight)` the trees contribute for one feature row.
    fn hits(&self, x: &[f64]) -> Result<Vec<(usize, f64)>, String> {
        let mut out = Vec::new();
        for &root in &self.roots {
            let leaf = walk(&self.nodes, root, x)?;
            out.extend_from_slice(self.leaf_weights.get(leaf).map_or(&[][..], Vec::as_slice));
        }
        Ok(out)
    }
}

/// Runs `f` on every feature row of the input, collecting `width` scores per row.
fn per_row(
    x: Value,
    op: &str,
    width: usize,
    mut f: impl FnMut(&[f64], &mut Vec<f64>) -> Result<(), String>,
) -> Result<(usize, Vec<f64>), String> {
    let t = x.host()?;
    let (n, feats, v) = rows(&t, op)?;
    let mut out = Vec::with_capacity(check_numel(&[n, width])?);
    for r in 0..n {
        f(&v[r * feats..(r + 1) * feats], &mut out)?;
    }
    Ok((n, out))
}

/// `TreeEnsembleRegressor`.
pub fn tree_ensemble_regressor(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    const OP: &str = "TreeEnsembleRegressor";
    let n_targets = usize::try_from(ctx.int("n_targets", 1)?)
        .map_err(|_| "TreeEnsembleRegressor n_targets is negative")?;
    let forest = Forest::parse(ctx, OP, "target", n_targets)?;
    let agg = match ctx.string("aggregate_function", "SUM")?.as_str() {
        "SUM" => Aggregate::Sum,
        "AVERAGE" => Aggregate::Average,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        a => return Err(format!("{OP} aggregate_function `{a}` is not supported")),
    };
    let base = if forest.base.len() == n_targets {
        forest.base.clone()
    } else {
        vec![0.0; n_targets]
    };
    op(move |mut ins| {
        let (n, out) = per_row(ins.take(0)?, OP, n_targets, |x, out| {
            let mut s = aggregate(agg, n_targets, forest.roots.len(), &forest.hits(x)?);
            s.iter_mut().zip(&base).for_each(|(v, b)| *v += b);
            if n_targets > 1 || forest.post == Post::Probit {
                forest.post.apply(&mut s);
            }
            out.extend(s);
            Ok(())
        })?;
        Ok(vec![upload(
            vec![n, n_targets],
            Buffer::F32(out.into_iter().map(|v| v as f32).collect()),
        )?])
    })
}

/// Expands one binary score to the two-column form onnxruntime writes: `mode` 0 or 1 (all
/// weights positive) gives `[1 - s, s]`, 2 `[-s, s]` and 3 `[s, -s]` (both logistic under a
/// LOGISTIC transform); PROBIT transforms the single score.
pub(crate) fn expand_binary(s: f64, mode: u8, post: Post) -> [f64; 2] {
    let l = |v: f64| {
        let mut r = [v];
        Post::Logistic.apply(&mut r);
        r[0]
    };
    match (mode, post) {
        (_, Post::Probit) => {
            let mut r = [s];
            post.apply(&mut r);
            [r[0], 0.0]
        }
        (0 | 1, _) => [1.0 - s, s],
        (_, Post::Logistic) => [l(-s), l(s)],
        (2, _) => [-s, s],
        _ => [s, -s],
    }
}

/// `TreeEnsembleClassifier`: outputs the labels and the per-class scores.
pub fn tree_ensemble_classifier(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    const OP: &str = "TreeEnsembleClassifier";
    let strings = ctx
        .attrs()
        .strings_opt("classlabels_strings")
        .map_err(|e| e.0)?;
    let ints = ctx.ints("classlabels_int64s")?;
    let n_classes = strings
        .as_ref()
        .map(Vec::len)
        .or(ints.as_ref().map(Vec::len))
        .unwrap_or(0);
    if n_classes < 2 {
        return Err(format!("{OP} needs at least two class labels"));
    }
    let forest = Forest::parse(ctx, OP, "class", n_classes)?;
    let class_ids: HashSet<usize> = forest.leaf_weights.iter().flatten().map(|w| w.0).collect();
    let all_positive = forest.leaf_weights.iter().flatten().all(|w| w.1 >= 0.0);
    let binary = n_classes == 2 && class_ids.len() == 1;
    op(move |mut ins| {
        let mut labels = Vec::new();
        let (n, scores) = per_row(ins.take(0)?, OP, n_classes, |x, out| {
            let mut s = vec![0.0; n_classes];
            let mut has = vec![false; n_classes];
            for (c, w) in forest.hits(x)? {
                s[c] += w;
                has[c] = true;
            }
            let base = &forest.base;
            if n_classes > 2 {
                for (k, b) in base.iter().enumerate().take(n_classes) {
                    s[k] += b;
                    has[k] = true;
                }
                let best = (0..n_classes)
                    .filter(|&k| has[k])
                    .fold(None, |m: Option<usize>, k| match m {
                        Some(b) if s[b] >= s[k] => Some(b),
                        _ => Some(k),
                    });
                labels.push(best.unwrap_or(0));
                forest.post.apply(&mut s);
                out.extend(s);
                return Ok(());
            }
            let mut mode = None;
            let mut single = false;
            match base.len() {
                2 if has[1] => {
                    s[1] = base[1] + s[0];
                    s[0] = -s[1];
                }
                2 => {
                    s[0] += base[0];
                    s[1] += base[1];
                }
                1 => {
                    s[0] += base[0];
                    single = !has[1];
                }
                0 => {
                    mode = Some(3);
                    single = !has[1];
                }
                _ => {}
            }
            let pos = if !single && has[1] {
                s[1]
            } else if has[0] {
                s[0]
            } else {
                0.0
            };
            let positive = if binary && all_positive {
                pos > 0.5
            } else {
                pos > 0.0
            };
            if binary {
                mode = Some(match (all_positive, positive) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                });
            }
            labels.push(positive as usize);
            if single {
                out.extend(mode.map_or([s[0], 0.0], |m| expand_binary(s[0], m, forest.post)));
            } else {
                forest.post.apply(&mut s);
                out.extend(s);
            }
            Ok(())
        })?;
        let y = match (&strings, &ints) {
            (Some(names), _) => Buffer::String(labels.iter().map(|&l| names[l].clone()).collect()),
            (None, Some(v)) => Buffer::I64(labels.iter().map(|&l| v[l]).collect()),
            (None, None) => Buffer::I64(labels.iter().map(|&l| l as i64).collect()),
        };
        let z = Buffer::F32(scores.into_iter().map(|v| v as f32).collect());
        Ok(vec![
            Value::upload(&burnish_model::TensorData::new(vec![n], y).map_err(|e| e.to_string())?)?,
            upload(vec![n, n_classes], z)?,
        ])
    })
}
