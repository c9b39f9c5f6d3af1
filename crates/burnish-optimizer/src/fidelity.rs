//! Fidelity check: the optimized model against the original on the same inputs.

use std::collections::{BTreeMap, HashMap};

use burnish_model::compare::{Diff, diff};
use burnish_model::{Model, TensorData, synth};
use burnish_runtime::{Session, SessionOptions};
use serde::Serialize;

use crate::OptError;

/// The difference of one output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputDiff {
    /// Output name.
    pub name: String,
    /// Max absolute and relative difference (see [`burnish_model::compare::diff`]).
    pub diff: Diff,
}

/// Seeded random inputs for `model` (symbolic dims: 2).
pub fn seeded_inputs(model: &Model, seed: u64) -> Result<BTreeMap<String, TensorData>, OptError> {
    let dims: HashMap<String, usize> = model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
        .filter_map(|d| match d {
            burnish_model::Dim::Symbolic(s) => Some((s.clone(), 2)),
            _ => None,
        })
        .collect();
    Ok(synth::random_inputs(&model.graph, &dims, seed)?)
}

/// Runs both models on `inputs` and compares every output of `original` by name.
pub fn compare_models(
    original: &Model,
    optimized: &Model,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<Vec<OutputDiff>, OptError> {
    let run = |m: &Model, what: &str| -> Result<BTreeMap<String, TensorData>, OptError> {
        let rt = |source| OptError::Runtime {
            context: format!("running the {what} model"),
            source,
        };
        Session::new(m, SessionOptions::default())
            .map_err(rt)?
            .run(inputs)
            .map_err(rt)
    };
    let want = run(original, "original")?;
    let got = run(optimized, "optimized")?;
    want.iter()
        .map(|(name, w)| {
            let g = got.get(name).ok_or_else(|| OptError::Verify {
                pass: "fidelity".into(),
                message: format!("output `{name}` is missing from the optimized model"),
            })?;
            let d = diff(g, w).map_err(|message| OptError::Verify {
                pass: "fidelity".into(),
                message: format!("output `{name}`: {message}"),
            })?;
            Ok(OutputDiff {
                name: name.clone(),
                diff: d,
            })
        })
        .collect()
}
