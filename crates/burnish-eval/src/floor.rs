//! The fidelity floor of a lossy rewrite (quantization): the candidate model's outputs against
//! the reference model's on real samples, one run per sample, per output summarized worst-case
//! ([`Agreement`]), and judged by [`Fidelity::follows_reference`] (top-1 agreement and cosine
//! at least 0.99).

use burnish_model::{Model, Samples};
use burnish_runtime::{Session, SessionOptions};
use burnish_stats::Fidelity;
use serde::Serialize;

use crate::{Agreement, EvalError};

/// One output's fidelity over the samples.
#[derive(Debug, Clone, Serialize)]
pub struct OutputFloor {
    /// Output name.
    pub name: String,
    /// Worst cosine and SNR, largest error, top-1 agreement over every sample.
    pub metrics: Fidelity,
    /// Whether the output meets the floor.
    pub follows: bool,
}

/// The floor check of a candidate model on real data.
#[derive(Debug, Clone, Serialize)]
pub struct FidelityFloor {
    /// Where the samples came from.
    pub data: String,
    /// Samples run.
    pub samples: usize,
    /// Lowest cosine that meets the floor.
    pub min_cosine: f64,
    /// Lowest top-1 agreement that meets the floor (outputs with classes).
    pub min_top1: f64,
    /// Every output of the reference, in graph order.
    pub outputs: Vec<OutputFloor>,
}

impl FidelityFloor {
    /// Whether every output meets the floor.
    pub fn met(&self) -> bool {
        self.outputs.iter().all(|o| o.follows)
    }

    /// The outputs below the floor, worst cosine first.
    pub fn below(&self) -> Vec<&OutputFloor> {
        let mut v: Vec<&OutputFloor> = self.outputs.iter().filter(|o| !o.follows).collect();
        v.sort_by(|a, b| a.metrics.cosine.total_cmp(&b.metrics.cosine));
        v
    }
}

/// Runs `reference` and `candidate` on the first `max` samples of `samples` (one run each,
/// batch 1) and summarizes every output of `reference`.
pub fn fidelity_floor(
    reference: &Model,
    candidate: &Model,
    samples: &Samples,
    max: usize,
) -> Result<FidelityFloor, EvalError> {
    let session = |m: &Model, what: &str| {
        Session::new(m, SessionOptions::default()).map_err(EvalError::runtime(format!(
            "compiling the {what} model for the fidelity floor"
        )))
    };
    let (r, c) = (
        session(reference, "reference")?,
        session(candidate, "candidate")?,
    );
    let names: Vec<&str> = r.output_names();
    let mut per_output: Vec<Agreement> = vec![Agreement::default(); names.len()];
    let n = samples.rows().min(max.max(1));
    for i in 0..n {
        let inputs = samples
            .take(&[i])
            .map_err(|e| EvalError::data(samples.source(), e.to_string()))?;
        let context = |what: &str| format!("running the {what} model on sample {i}");
        let want = r
            .run(&inputs)
            .map_err(EvalError::runtime(context("reference")))?;
        let got = c
            .run(&inputs)
            .map_err(EvalError::runtime(context("candidate")))?;
        for (name, a) in names.iter().zip(per_output.iter_mut()) {
            a.add(&[name], &want, &got)?;
        }
    }
    let outputs = names
        .iter()
        .zip(&per_output)
        .map(|(name, a)| {
            let metrics = a.summary();
            OutputFloor {
                name: name.to_string(),
                follows: metrics.follows_reference(),
                metrics,
            }
        })
        .collect();
    Ok(FidelityFloor {
        data: samples.source().to_string(),
        samples: n,
        min_cosine: Fidelity::MIN_COSINE,
        min_top1: Fidelity::MIN_TOP1,
        outputs,
    })
}
