//! Human-readable rendering of a [`DriftReport`].

use std::fmt::Write;

use crate::psi::psi_noise_floor;
use crate::{DriftReport, DriftTest, FeatureStatus, OverallStatus, ValueKind};

/// Class rows shown in the prediction table (the largest changes first).
const MAX_CLASS_ROWS: usize = 10;

/// Columns padded to their widest cell; the first column left-aligned, the rest right-aligned.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self, out: &mut String) {
        let cols = self.rows[0].len();
        let width: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let w = width[c];
                if c == 0 {
                    let _ = write!(line, "{cell:<w$}");
                } else {
                    let _ = write!(line, "  {cell:>w$}");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.2e}")
    }
}

fn p_value(p: f64) -> String {
    if p == 0.0 { "<1e-300".into() } else { num(p) }
}

fn pct(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

fn status(s: FeatureStatus) -> &'static str {
    match s {
        FeatureStatus::NoDrift => "ok",
        FeatureStatus::Moderate => "moderate",
        FeatureStatus::Drift => "DRIFT",
    }
}

impl DriftReport {
    /// Renders the report as plain-text tables: features, predictions, clip rates, verdict.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let s = &self.settings;
        let t = &s.thresholds;
        let _ = writeln!(
            out,
            "Drift report (schema {}): PSI {} bins, moderate >= {}, significant >= {}; test p < {}; rule {:?}",
            self.schema_version, s.psi_bins, t.psi_moderate, t.psi_significant, t.p_value, t.rule
        );
        if !self.features.is_empty() {
            out.push('\n');
            self.render_features(&mut out);
        }
        if self.prediction.is_some() {
            out.push('\n');
            self.render_prediction(&mut out);
        }
        if !self.clip_rates.is_empty() {
            out.push('\n');
            self.render_clip_rates(&mut out);
        }
        out.push('\n');
        self.render_verdict(&mut out);
        out
    }

    fn render_features(&self, out: &mut String) {
        let mut table = Table::new(&[
            "feature", "kind", "n ref", "n cur", "PSI", "test", "stat", "p-value", "W1", "W1/std",
            "status",
        ]);
        let (mut any_subsampled, mut worst_floor) = (false, 0.0f64);
        for f in &self.features {
            any_subsampled |= f.subsampled;
            let floor = psi_noise_floor(f.psi.bins, f.reference.values, f.current.values);
            worst_floor = worst_floor.max(floor);
            let mark = if f.subsampled { "*" } else { "" };
            let (test, stat) = match f.test {
                DriftTest::Ks(k) => ("KS", num(k.statistic)),
                DriftTest::ChiSquare(c) => ("chi2", format!("{} (df {})", num(c.statistic), c.df)),
            };
            let w = f.wasserstein;
            table.row(vec![
                f.name.clone(),
                match f.kind {
                    ValueKind::Continuous => "cont".into(),
                    ValueKind::Categorical => "cat".into(),
                },
                format!("{}{mark}", f.reference.values),
                format!("{}{mark}", f.current.values),
                num(f.psi.value),
                test.into(),
                stat,
                p_value(f.test.p_value()),
                w.map_or("-".into(), |w| num(w.distance)),
                w.and_then(|w| w.normalized).map_or("-".into(), num),
                status(f.status).into(),
            ]);
        }
        table.render(out);
        if any_subsampled {
            let _ = writeln!(
                out,
                "* subsampled to {} values per feature (seed {:#x})",
                self.settings.max_values_per_feature, self.settings.seed
            );
        }
        if worst_floor >= self.settings.thresholds.psi_moderate / 2.0 {
            let _ = writeln!(
                out,
                "note: few values per feature; PSI averages up to {} even without drift, trust p-values more",
                num(worst_floor)
            );
        }
    }

    fn render_prediction(&self, out: &mut String) {
        let Some(p) = &self.prediction else { return };
        let _ = writeln!(
            out,
            "Top-1 predictions over {} classes ({} reference, {} current): PSI {}, chi2 {} (df {}), p {} -> {}",
            p.classes,
            p.reference_predictions,
            p.current_predictions,
            num(p.psi.value),
            num(p.chi_square.statistic),
            p.chi_square.df,
            p_value(p.chi_square.p_value),
            status(p.status)
        );
        let mut classes = p.frequencies.clone();
        classes.sort_by(|a, b| {
            (b.current - b.reference)
                .abs()
                .total_cmp(&(a.current - a.reference).abs())
                .then(a.class.cmp(&b.class))
        });
        let mut table = Table::new(&["class", "ref", "cur", "change"]);
        for c in classes.iter().take(MAX_CLASS_ROWS) {
            table.row(vec![
                c.class.to_string(),
                pct(c.reference),
                pct(c.current),
                format!("{:+.2} pp", 100.0 * (c.current - c.reference)),
            ]);
        }
        table.render(out);
        if classes.len() > MAX_CLASS_ROWS {
            let _ = writeln!(
                out,
                "({} more classes with smaller changes)",
                classes.len() - MAX_CLASS_ROWS
            );
        }
    }

    fn render_clip_rates(&self, out: &mut String) {
        let mut table = Table::new(&[
            "activation",
            "range",
            "ref clipped",
            "cur clipped",
            "cur below/above",
            "stale",
        ]);
        for c in &self.clip_rates {
            table.row(vec![
                c.name.clone(),
                format!("[{:.4}, {:.4}]", c.min, c.max),
                pct(c.reference_rate),
                pct(c.current_rate),
                format!("{}/{}", c.current_below, c.current_above),
                if c.stale { "STALE".into() } else { "ok".into() },
            ]);
        }
        table.render(out);
    }

    fn render_verdict(&self, out: &mut String) {
        let v = &self.verdict;
        let head = match v.status {
            OverallStatus::NoDrift => "NO DRIFT",
            OverallStatus::Drift => "DRIFT",
        };
        let _ = writeln!(
            out,
            "Verdict: {head} ({} of {} features drifted, {})",
            v.drifted_features.len(),
            v.feature_count,
            pct(v.drifted_share)
        );
        for reason in &v.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
        if !v.drifted_features.is_empty() {
            let _ = writeln!(out, "  drifted: {}", v.drifted_features.join(", "));
        }
        if !v.moderate_features.is_empty() {
            let _ = writeln!(
                out,
                "  moderate (watch): {}",
                v.moderate_features.join(", ")
            );
        }
    }
}
