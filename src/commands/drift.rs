//! `burnish drift`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use burnish_drift::{
    DriftAnalysis, DriftSettings, InputSpec, QuantGrid, QuantizedActivation, Sample,
};
use burnish_model::{DType, Model, TensorData, read_tensors};
use burnish_runtime::capture::{capture, quantize_sites};
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

/// Clip rates of every activation a static-int8 (QDQ) model quantizes, reference vs current.
fn add_clip_rates(
    analysis: &mut DriftAnalysis,
    model: &Model,
    reference: &BTreeMap<String, TensorData>,
    current: &BTreeMap<String, TensorData>,
) -> anyhow::Result<()> {
    let found = quantize_sites(model);
    for (node, reason) in &found.skipped {
        eprintln!("note: clip rates skip QuantizeLinear `{node}`: {reason}");
    }
    if found.sites.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = found.sites.iter().map(|s| s.tensor.as_str()).collect();
    let r = capture(model, &names, reference, SessionOptions::default())?;
    let c = capture(model, &names, current, SessionOptions::default())?;
    let values = |side: &BTreeMap<String, TensorData>, name: &str| {
        side.get(name)
            .map(as_f32)
            .ok_or_else(|| anyhow::anyhow!("`{name}` was not captured"))
    };
    let mut captured = Vec::with_capacity(names.len());
    for site in &found.sites {
        captured.push((values(&r, &site.tensor)?, values(&c, &site.tensor)?));
    }
    let acts: Vec<QuantizedActivation<'_>> = found
        .sites
        .iter()
        .zip(&captured)
        .map(|(site, (r, c))| QuantizedActivation {
            name: &site.tensor,
            grid: QuantGrid::int8(site.scale, site.zero_point, site.dtype == DType::I8),
            reference: r,
            current: c,
        })
        .collect();
    analysis.add_quantized_clip_rates(&acts)?;
    Ok(())
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
        add_clip_rates(&mut analysis, &model, &reference, &current)?;
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
