//! Classifier accuracy: run a model over a labeled [`Dataset`] in batches, top-1 and top-k
//! (the one evaluator: ties and NaN scores follow [`burnish_stats::classify`]).

use std::collections::BTreeMap;
use std::time::Instant;

use burnish_model::samples::take_rows;
use burnish_model::{Dim, Model, TensorData};
use burnish_runtime::{Session, SessionOptions};
use serde::Serialize;

use burnish_stats::rank_of;

use crate::EvalError;
use crate::data::Dataset;

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Samples per run (ignored when the model's batch dimension is fixed).
    pub batch: usize,
    /// `k` of the top-k accuracy.
    pub top_k: usize,
    /// Intra-op threads (`None`: every core).
    pub threads: Option<usize>,
    /// The output holding the class scores (default: the first output).
    pub output: Option<String>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            batch: 64,
            top_k: 5,
            threads: None,
            output: None,
        }
    }
}

/// Class scores of every sample, row-major `[samples, classes]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Number of classes (row length).
    pub classes: usize,
    /// The scores.
    pub values: Vec<f32>,
}

impl Scores {
    /// Scores of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.classes..(i + 1) * self.classes]
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.values.len().checked_div(self.classes).unwrap_or(0)
    }
}

/// The accuracy of one model on one data set.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Samples evaluated.
    pub samples: usize,
    /// The output read as class scores.
    pub output: String,
    /// Number of classes.
    pub classes: usize,
    /// Samples whose highest score is their label.
    pub correct_top1: usize,
    /// `correct_top1 / samples`.
    pub top1: f64,
    /// `k` of the top-k accuracy (at most the number of classes).
    pub k: usize,
    /// Samples whose label is among the `k` highest scores.
    pub correct_topk: usize,
    /// `correct_topk / samples`.
    pub topk: f64,
    /// Samples per run.
    pub batch: usize,
    /// Wall time of the evaluation, milliseconds.
    pub millis: f64,
}

/// `(top-1 correct, top-k correct)` counts of `scores` against `labels`.
pub fn count_correct(
    scores: &Scores,
    labels: &[usize],
    k: usize,
) -> Result<(usize, usize), EvalError> {
    let (mut top1, mut topk) = (0, 0);
    for (i, &label) in labels.iter().enumerate() {
        if label >= scores.classes {
            return Err(EvalError::Model(format!(
                "sample {i} has label {label} but the model scores {} classes",
                scores.classes
            )));
        }
        let r = rank_of(scores.row(i), label);
        top1 += usize::from(r == 0);
        topk += usize::from(r < k);
    }
    Ok((top1, topk))
}

/// The model's fixed first input dimension, if it declares one.
fn fixed_batch(model: &Model) -> Option<usize> {
    match model
        .graph
        .inputs
        .first()
        .and_then(|i| i.shape.as_ref())
        .and_then(|s| s.first())
    {
        Some(Dim::Fixed(b)) if *b > 0 => Some(*b),
        _ => None,
    }
}

/// Runs `model` over every sample and collects the class scores of the chosen output.
///
/// The last batch of a model with a fixed batch dimension is padded with copies of the last
/// sample; their scores are dropped.
pub fn predict(
    model: &Model,
    data: &Dataset,
    opts: &EvalOptions,
) -> Result<(Scores, String, usize), EvalError> {
    let session = Session::new(model, SessionOptions::threads(opts.threads))
        .map_err(EvalError::runtime("compiling the model for evaluation"))?;
    let output = match &opts.output {
        Some(o) if session.output_names().contains(&o.as_str()) => o.clone(),
        Some(o) => {
            return Err(EvalError::Model(format!(
                "no output `{o}` (outputs: {})",
                session.output_names().join(", ")
            )));
        }
        None => session
            .output_names()
            .first()
            .ok_or_else(|| EvalError::Model("the model has no output".into()))?
            .to_string(),
    };
    let fixed = fixed_batch(model);
    let batch = fixed.unwrap_or(opts.batch.max(1));
    let n = data.len();
    let mut values: Vec<f32> = Vec::new();
    let mut classes = 0;
    let mut start = 0;
    while start < n {
        let end = (start + batch).min(n);
        let mut feed = data.rows(start, end)?;
        let pad = fixed.is_some() && end - start < batch;
        if pad {
            let mut idx: Vec<usize> = (start..end).collect();
            idx.resize(batch, end - 1);
            feed = padded(data, &idx)?;
        }
        let out = session.run(&feed).map_err(EvalError::runtime(format!(
            "evaluating samples {start}..{end}"
        )))?;
        let t = &out[&output];
        let rows = if pad { batch } else { end - start };
        let c = class_count(&t.shape, rows).ok_or_else(|| {
            EvalError::Model(format!(
                "output `{output}` has shape {:?} for {rows} samples; expected [{rows}, classes]",
                t.shape
            ))
        })?;
        classes = c;
        let v = t
            .to_f64_vec()
            .ok_or_else(|| EvalError::Model(format!("output `{output}` is not numeric")))?;
        values.extend(v[..(end - start) * c].iter().map(|&x| x as f32));
        start = end;
    }
    Ok((Scores { classes, values }, output, batch))
}

fn padded(data: &Dataset, idx: &[usize]) -> Result<BTreeMap<String, TensorData>, EvalError> {
    data.inputs
        .iter()
        .map(|(name, t)| {
            let rows =
                take_rows(t, 0, idx).map_err(|e| EvalError::data(&data.source, e.to_string()))?;
            Ok((name.clone(), rows))
        })
        .collect()
}

/// Classes of an output of `shape` holding `rows` samples: `[rows, C]` or `[rows, 1, .., C]`.
fn class_count(shape: &[usize], rows: usize) -> Option<usize> {
    let (&first, rest) = shape.split_first()?;
    let classes = *rest.last()?;
    (first == rows && rest.iter().product::<usize>() == classes && classes > 0).then_some(classes)
}

/// Evaluates `model` on `data`: top-1 and top-k accuracy, plus the scores (for comparisons).
pub fn evaluate(
    model: &Model,
    data: &Dataset,
    opts: &EvalOptions,
) -> Result<(Evaluation, Scores), EvalError> {
    if data.is_empty() {
        return Err(EvalError::data(&data.source, "no samples"));
    }
    let t0 = Instant::now();
    let (scores, output, batch) = predict(model, data, opts)?;
    let k = opts.top_k.clamp(1, scores.classes.max(1));
    let (correct_top1, correct_topk) = count_correct(&scores, &data.labels, k)?;
    let n = data.len() as f64;
    let eval = Evaluation {
        samples: data.len(),
        output,
        classes: scores.classes,
        correct_top1,
        top1: correct_top1 as f64 / n,
        k,
        correct_topk,
        topk: correct_topk as f64 / n,
        batch,
        millis: t0.elapsed().as_secs_f64() * 1e3,
    };
    Ok((eval, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_breaks_ties_by_index_like_a_stable_argsort() {
        let row = [0.1, 0.5, 0.5, -1.0];
        assert_eq!(rank_of(&row, 1), 0);
        assert_eq!(rank_of(&row, 2), 1);
        assert_eq!(rank_of(&row, 0), 2);
        assert_eq!(rank_of(&row, 3), 3);
        assert_eq!(
            rank_of(&[f32::NAN, 0.0], 0),
            2,
            "a NaN score is never ranked"
        );
    }

    #[test]
    fn counts_top1_and_topk() {
        let scores = Scores {
            classes: 3,
            values: vec![0.9, 0.05, 0.05, 0.2, 0.3, 0.5, 0.1, 0.7, 0.2],
        };
        // labels: row 0 -> 0 (rank 0), row 1 -> 0 (rank 2), row 2 -> 2 (rank 1)
        assert_eq!(count_correct(&scores, &[0, 0, 2], 1).unwrap(), (1, 1));
        assert_eq!(count_correct(&scores, &[0, 0, 2], 2).unwrap(), (1, 2));
        assert_eq!(count_correct(&scores, &[0, 0, 2], 3).unwrap(), (1, 3));
        assert!(count_correct(&scores, &[0, 0, 3], 1).is_err());
    }

    #[test]
    fn class_count_accepts_singleton_middle_dims() {
        assert_eq!(class_count(&[4, 10], 4), Some(10));
        assert_eq!(class_count(&[4, 1, 10], 4), Some(10));
        assert_eq!(class_count(&[4, 2, 10], 4), None);
        assert_eq!(class_count(&[3, 10], 4), None);
        assert_eq!(class_count(&[4], 4), None);
    }
}
