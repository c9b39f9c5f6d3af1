//! Prometheus text exposition of every model's statistics (`GET /metrics`), named like
//! Triton's `nv_inference_*` series with a `burnish_` prefix.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use crate::model::ServedModel;
use crate::stats::ModelStats;

type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ModelStats) -> u64,
);

const SERIES: [Series; 9] = [
    (
        "inference_request_success",
        "counter",
        "Successful requests",
        |s| s.inference_stats.success.count,
    ),
    (
        "inference_request_failure",
        "counter",
        "Failed or rejected requests",
        |s| s.inference_stats.fail.count,
    ),
    (
        "inference_count",
        "counter",
        "Inferences (rows) executed",
        |s| s.inference_count,
    ),
    (
        "inference_exec_count",
        "counter",
        "Model executions (a batch counts once)",
        |s| s.execution_count,
    ),
    (
        "inference_request_duration_us",
        "counter",
        "Total time of successful requests in the server",
        |s| s.inference_stats.success.ns / 1000,
    ),
    (
        "inference_queue_duration_us",
        "counter",
        "Total time requests waited in the queue",
        |s| s.inference_stats.queue.ns / 1000,
    ),
    (
        "inference_compute_input_duration_us",
        "counter",
        "Total time building inputs",
        |s| s.inference_stats.compute_input.ns / 1000,
    ),
    (
        "inference_compute_infer_duration_us",
        "counter",
        "Total time running the model",
        |s| s.inference_stats.compute_infer.ns / 1000,
    ),
    (
        "inference_compute_output_duration_us",
        "counter",
        "Total time reading outputs",
        |s| s.inference_stats.compute_output.ns / 1000,
    ),
];

/// The metrics page for `models`.
pub fn render(models: &BTreeMap<String, Arc<ServedModel>>) -> String {
    let snapshots: Vec<(ModelStats, usize)> = models
        .values()
        .map(|m| (m.stats().snapshot(m.name()), m.queue_depth()))
        .collect();
    let mut out = String::new();
    for (name, kind, help, value) in SERIES {
        let _ = writeln!(
            out,
            "# HELP burnish_{name} {help}.\n# TYPE burnish_{name} {kind}"
        );
        for (s, _) in &snapshots {
            let _ = writeln!(
                out,
                "burnish_{name}{{model=\"{}\",version=\"1\"}} {}",
                label(&s.name),
                value(s)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP burnish_queue_depth Requests waiting in the queue.\n# TYPE burnish_queue_depth gauge"
    );
    for (s, depth) in &snapshots {
        let _ = writeln!(
            out,
            "burnish_queue_depth{{model=\"{}\",version=\"1\"}} {depth}",
            label(&s.name)
        );
    }
    let _ = writeln!(
        out,
        "# HELP burnish_batch_executions Executions by the batch size formed.\n# TYPE burnish_batch_executions counter"
    );
    for (s, _) in &snapshots {
        for b in &s.batch_stats {
            let _ = writeln!(
                out,
                "burnish_batch_executions{{model=\"{}\",version=\"1\",batch_size=\"{}\"}} {}",
                label(&s.name),
                b.batch_size,
                b.compute_infer.count
            );
        }
    }
    out
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
