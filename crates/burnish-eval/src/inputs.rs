//! Seeded synthetic inputs for judging a model (fidelity checks, MAC counts, probes).

use std::collections::{BTreeMap, HashMap};

use burnish_model::{Dim, Model, TensorData, synth};

use crate::EvalError;

/// Seeded random inputs for `model` (symbolic dims: 2).
pub fn seeded_inputs(model: &Model, seed: u64) -> Result<BTreeMap<String, TensorData>, EvalError> {
    let dims: HashMap<String, usize> = model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
        .filter_map(|d| match d {
            Dim::Symbolic(s) => Some((s.clone(), 2)),
            _ => None,
        })
        .collect();
    Ok(synth::random_inputs(&model.graph, &dims, seed)?)
}

/// Seeded random inputs for `model` sized by `spec` (symbolic dims it does not set: 2,
/// an unnamed leading dim: the `batch` it sets, else 2; an unnamed dim elsewhere without a
/// `--shape`: an error that says how to set it).
pub fn seeded_inputs_for(
    model: &Model,
    spec: &synth::ShapeSpec,
    seed: u64,
) -> Result<BTreeMap<String, TensorData>, EvalError> {
    let mut spec = spec.clone();
    for d in model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
    {
        if let Dim::Symbolic(s) = d {
            spec.dims.entry(s.clone()).or_insert(2);
        }
    }
    spec.dims.entry("batch".into()).or_insert(2);
    Ok(synth::random_inputs_for(&model.graph, &spec, seed)?)
}
