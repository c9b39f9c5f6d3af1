//! Axis attributes against the rank of their input where it is known, `Transpose`
//! permutations, and `Einsum` equations.

use super::{Known, attr_err, int, ints};
use crate::graph::Node;

/// How an op's `axis` attribute is bounded by the rank `r` of its first input.
enum Span {
    /// `[-r, r-1]`.
    Within,
    /// `[-r, r]` (`Flatten`).
    Through,
    /// `[-(r+1), r]` (`OneHot`: the output has one more dim).
    Added,
}

pub(super) fn check(node: &Node, known: &Known) -> Result<(), String> {
    let op = node.op_type.as_str();
    let rank = node
        .inputs
        .iter()
        .filter(|i| !i.is_empty())
        .take(if op == "Concat" { usize::MAX } else { 1 })
        .find_map(|i| known.rank(i));
    let span = match op {
        "Softmax" | "LogSoftmax" | "Hardmax" | "Concat" | "Gather" | "GatherElements"
        | "ScatterElements" | "Scatter" | "ArgMax" | "ArgMin" | "Split" | "Compress" | "TopK"
        | "Unique" | "LayerNormalization" | "LpNormalization" | "QuantizeLinear"
        | "DequantizeLinear" => Some(Span::Within),
        "Flatten" => Some(Span::Through),
        "OneHot" => Some(Span::Added),
        _ => None,
    };
    if let (Some(span), Some(r), Some(axis)) = (span, rank, int(node, "axis")) {
        let r = r as i64;
        let (lo, hi) = match span {
            Span::Within => (-r, r - 1),
            Span::Through => (-r, r),
            Span::Added => (-r - 1, r),
        };
        if !(lo..=hi).contains(&axis) {
            return Err(attr_err(
                "axis",
                format!("is {axis}; for an input of rank {r} it must be between {lo} and {hi}"),
            ));
        }
    }
    let axes_attr = op.starts_with("Reduce")
        || matches!(op, "Squeeze" | "Unsqueeze" | "MeanVarianceNormalization");
    if axes_attr && let Some(axes) = ints(node, "axes")? {
        let extra = if op == "Unsqueeze" {
            axes.len() as i64
        } else {
            0
        };
        if let Some(r) = rank.map(|r| r as i64 + extra)
            && let Some(a) = axes.iter().find(|a| !(-r..r).contains(*a))
        {
            return Err(attr_err(
                "axes",
                format!("holds {a}, out of range for rank {r}"),
            ));
        }
        let mut sorted: Vec<i64> = axes.clone();
        if let Some(r) = rank.map(|r| r as i64 + extra) {
            sorted.iter_mut().for_each(|a| *a = a.rem_euclid(r.max(1)));
        }
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(attr_err("axes", format!("repeats an axis: {axes:?}")));
        }
    }
    match op {
        "Transpose" => transpose(node, rank),
        "Einsum" => einsum(node, known),
        "ReverseSequence" => {
            super::int_in(node, "batch_axis", 0..=1)?;
            super::int_in(node, "time_axis", 0..=1)
        }
        _ => Ok(()),
    }
}

fn transpose(node: &Node, rank: Option<usize>) -> Result<(), String> {
    let Some(perm) = ints(node, "perm")? else {
        return Ok(());
    };
    let n = perm.len();
    let mut seen = vec![false; n];
    for &p in &perm {
        let Some(slot) = usize::try_from(p).ok().and_then(|p| seen.get_mut(p)) else {
            return Err(attr_err(
                "perm",
                format!("is {perm:?}, not a permutation of 0..{n}"),
            ));
        };
        if std::mem::replace(slot, true) {
            return Err(attr_err(
                "perm",
                format!("is {perm:?}, not a permutation of 0..{n}"),
            ));
        }
    }
    if let Some(r) = rank
        && r != n
    {
        return Err(attr_err(
            "perm",
            format!("has {n} entries for an input of rank {r}"),
        ));
    }
    Ok(())
}

/// `Einsum`: the equation is terms of letters (and one `...` each) separated by commas, an
/// optional `->` and output term; one term per input, each as long as its input's rank.
fn einsum(node: &Node, known: &Known) -> Result<(), String> {
    let Some(eq) = super::string(node, "equation") else {
        return Ok(());
    };
    let bad = |why: &str| attr_err("equation", format!("`{eq}` {why}"));
    let compact: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match compact.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (compact.as_str(), None),
    };
    let valid = |term: &str| {
        term.matches("...").count() <= 1
            && term
                .replace("...", "")
                .chars()
                .all(|c| c.is_ascii_alphabetic())
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if !terms.iter().copied().chain(rhs).all(valid) {
        return Err(bad("is not a valid einsum equation"));
    }
    let present = node.inputs.len();
    if terms.len() != present {
        return Err(bad(&format!(
            "has {} terms for {present} inputs",
            terms.len()
        )));
    }
    for (term, input) in terms.iter().zip(&node.inputs) {
        let letters = term.replace("...", "").len();
        let ellipsis = term.contains("...");
        if let Some(r) = known.rank(input)
            && (r < letters || (!ellipsis && r != letters))
        {
            return Err(bad(&format!(
                "has term `{term}` for input `{input}` of rank {r}"
            )));
        }
    }
    Ok(())
}
