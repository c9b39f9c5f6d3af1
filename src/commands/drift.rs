//! `burnish drift`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use burnish_drift::{DriftAnalysis, DriftSettings, InputSpec, Sample};
use burnish_model::{TensorData, read_tensors};
use burnish_runtime::{Session, SessionOptions};

use crate::cli::DriftArgs;

fn as_f32(t: &TensorData) -> Vec<f32> {
    t.to_f64_vec()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

fn first_output(
    session: &Session,
    data: &BTreeMap<String, TensorData>,
) -> anyhow::Result<TensorData> {
    let mut outs = session.run(data)?;
    let name = session.output_names()[0].to_string();
    outs.remove(&name)
        .ok_or_else(|| anyhow::anyhow!("no output `{name}`"))
}

pub fn run(args: DriftArgs) -> anyhow::Result<ExitCode> {
    let reference = read_tensors(&args.reference)?;
    let current = read_tensors(&args.current)?;
    let mut analysis = DriftAnalysis::new(DriftSettings::default())?;
    for (name, r) in &reference {
        let c = current
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("`{}` has no array `{name}`", args.current.display()))?;
        let spec = if r.dtype().is_int() {
            InputSpec::categorical()
        } else {
            InputSpec::default()
        };
        let (rv, cv) = (as_f32(r), as_f32(c));
        analysis.add_input(
            name,
            &Sample::new(&rv, &r.shape)?,
            &Sample::new(&cv, &c.shape)?,
            spec,
        )?;
    }
    if let Some(model_path) = &args.model {
        let model = burnish_model::load_onnx(model_path)?;
        let session = Session::new(&model, SessionOptions::default())?;
        let (r, c) = (
            first_output(&session, &reference)?,
            first_output(&session, &current)?,
        );
        let (rv, cv) = (as_f32(&r), as_f32(&c));
        analysis.set_predictions(&Sample::new(&rv, &r.shape)?, &Sample::new(&cv, &c.shape)?)?;
    }
    let report = analysis.finish();
    let json = report.to_json()?;
    if let Some(path) = &args.output {
        burnish_model::npy::write_atomic(path, json.as_bytes())?;
    }
    if args.json {
        println!("{json}");
    } else {
        println!("{}", report.render_table());
    }
    Ok(ExitCode::SUCCESS)
}
