//! Contexts of the model tables: variants with fidelity, the optimization record, op profiles.

use serde::Serialize;

use crate::dataset::Dataset;
use crate::format::{self, NONE};
use crate::input::{OpProfile, OptimizationRecord};

/// Op rows shown per profile; the rest are summarized in a note.
const PROFILE_ROWS: usize = 15;

/// One model variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantRow {
    /// Label.
    pub label: String,
    /// Model path.
    pub model_path: String,
    /// File size.
    pub file_size: String,
    /// Parameter bytes.
    pub parameter_bytes: String,
    /// p90 latency of its latency run.
    pub latency: String,
    /// Accuracy.
    pub accuracy: String,
    /// Fidelity: max absolute difference.
    pub max_abs: String,
    /// Fidelity: mean absolute difference.
    pub mean_abs: String,
    /// Fidelity: cosine similarity.
    pub cosine: String,
    /// Fidelity: SNR.
    pub snr_db: String,
    /// Fidelity: top-1 agreement.
    pub top1: String,
    /// Fidelity verdict: `follows` or `drifts` (empty for the reference).
    pub fidelity: &'static str,
    /// Its tone: `good`, `bad` or empty.
    pub fidelity_tone: &'static str,
}

/// Rows of the variants table.
pub fn variants(ds: &Dataset<'_>) -> Vec<VariantRow> {
    ds.input
        .variants
        .iter()
        .map(|v| {
            let f = v.fidelity.as_ref();
            let sci = |x: f64| {
                if x.is_finite() {
                    format!("{x:.3e}")
                } else {
                    NONE.to_string()
                }
            };
            VariantRow {
                label: v.label.clone(),
                model_path: v.model_path.clone(),
                file_size: format::bytes(v.file_size_bytes),
                parameter_bytes: format::bytes(v.parameter_bytes),
                latency: ds
                    .variant_run(v)
                    .map_or(NONE.to_string(), |r| format::us(r.latency.p90_us)),
                accuracy: v.accuracy.map_or(NONE.to_string(), |a| format::pct(a, 2)),
                max_abs: f.map_or(NONE.to_string(), |f| sci(f.max_abs)),
                mean_abs: f.map_or(NONE.to_string(), |f| sci(f.mean_abs)),
                cosine: f.map_or(NONE.to_string(), |f| format::fixed(f.cosine, 6)),
                snr_db: f.map_or(NONE.to_string(), |f| {
                    f.snr_db
                        .map_or("∞".to_string(), |s| format!("{} dB", format::fixed(s, 1)))
                }),
                top1: f
                    .and_then(|f| f.top1_agreement)
                    .map_or(NONE.to_string(), |t| format::pct(t, 2)),
                fidelity: match f {
                    None => "",
                    Some(f) if f.follows_reference() => "follows",
                    Some(_) => "drifts",
                },
                fidelity_tone: match f {
                    None => "",
                    Some(f) if f.follows_reference() => "good",
                    Some(_) => "bad",
                },
            }
        })
        .collect()
}

/// The optimization record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizationView {
    /// `before → after (change)`.
    pub nodes: String,
    /// `before → after (change)`.
    pub params: String,
    /// Sum of changes.
    pub total_changes: String,
    /// Sum of pass times.
    pub total_ms: String,
    /// Passes in order.
    pub passes: Vec<PassRow>,
}

/// One pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassRow {
    /// Name.
    pub name: String,
    /// Rewrites.
    pub changes: String,
    /// Time.
    pub millis: String,
}

fn before_after(before: u64, after: u64) -> String {
    let change = if before > 0 {
        format::signed_pct((after as f64 - before as f64) / before as f64 * 100.0)
    } else {
        NONE.to_string()
    };
    format!(
        "{} → {} ({change})",
        format::count(before),
        format::count(after)
    )
}

/// The optimization view, when a record was given.
pub fn optimization(o: Option<&OptimizationRecord>) -> Option<OptimizationView> {
    let o = o?;
    Some(OptimizationView {
        nodes: before_after(o.nodes_before, o.nodes_after),
        params: before_after(o.params_before, o.params_after),
        total_changes: format::count(o.passes.iter().map(|p| p.changes).sum()),
        total_ms: format!(
            "{} ms",
            format::fixed(o.passes.iter().map(|p| p.millis).sum(), 2)
        ),
        passes: o
            .passes
            .iter()
            .map(|p| PassRow {
                name: p.name.clone(),
                changes: format::count(p.changes),
                millis: format!("{} ms", format::fixed(p.millis, 2)),
            })
            .collect(),
    })
}

/// One variant's op profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileView {
    /// Variant label.
    pub variant: String,
    /// The most expensive op types, by self time.
    pub rows: Vec<OpRowView>,
    /// What was left out, if anything.
    pub note: Option<String>,
}

/// One op type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpRowView {
    /// Op type.
    pub op_type: String,
    /// Calls.
    pub calls: String,
    /// Self time.
    pub self_ms: String,
    /// Share of the total.
    pub share: String,
    /// GFLOP/s.
    pub gflops: String,
}

/// Profile tables, rows by decreasing self time (ties by op type).
pub fn profiles(ps: &[OpProfile]) -> Vec<ProfileView> {
    ps.iter()
        .map(|p| {
            let mut rows: Vec<_> = p.rows.iter().collect();
            rows.sort_by(|a, b| {
                b.self_ms
                    .total_cmp(&a.self_ms)
                    .then(a.op_type.cmp(&b.op_type))
            });
            let rest = rows.len().saturating_sub(PROFILE_ROWS);
            let note = (rest > 0).then(|| {
                let ms: f64 = rows[PROFILE_ROWS..].iter().map(|r| r.self_ms).sum();
                format!(
                    "{rest} more op types, {} ms in total.",
                    format::fixed(ms, 3)
                )
            });
            ProfileView {
                variant: p.variant.clone(),
                rows: rows
                    .into_iter()
                    .take(PROFILE_ROWS)
                    .map(|r| OpRowView {
                        op_type: r.op_type.clone(),
                        calls: format::count(r.calls),
                        self_ms: format!("{} ms", format::fixed(r.self_ms, 3)),
                        share: format::pct(r.share, 1),
                        gflops: format::opt(r.gflops, 2),
                    })
                    .collect(),
                note,
            }
        })
        .collect()
}
