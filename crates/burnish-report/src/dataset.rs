//! The analysis step: everything in a [`ReportInput`] gathered in one place, each run given a
//! page name, and the selections the charts share (one latency run per variant, sweeps).

use std::collections::BTreeSet;

use burnish_bench::{
    Comparison, Environment, MaxQpsReport, MultiModelReport, RegressionReport, RunResult,
    ScenarioKind,
};

use crate::input::{ModelVariant, ReportInput};
use crate::write::unique_slugs;

/// Where a run came from in its result file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunSource {
    /// The file's `runs`.
    Run,
    /// The validity run of a max-QPS search.
    MaxQpsValidity,
    /// A multi-model benchmark, the model alone.
    MultiModelAlone,
    /// A multi-model benchmark, all models together.
    MultiModelTogether,
}

impl RunSource {
    /// How the source is named on pages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::MaxQpsValidity => "max-QPS validity run",
            Self::MultiModelAlone => "multi-model, alone",
            Self::MultiModelTogether => "multi-model, together",
        }
    }
}

/// A run with its page name.
#[derive(Debug, Clone)]
pub struct RunEntry<'a> {
    /// The run.
    pub run: &'a RunResult,
    /// Unique slug; its page is `run-<slug>.html`.
    pub slug: String,
    /// Where it came from.
    pub source: RunSource,
}

impl RunEntry<'_> {
    /// The file name of the run's page.
    pub fn page(&self) -> String {
        format!("run-{}.html", self.slug)
    }
}

/// Everything in the input, flattened in file order.
#[derive(Debug)]
pub struct Dataset<'a> {
    /// The input.
    pub input: &'a ReportInput,
    /// Every run, including validity and multi-model runs.
    pub runs: Vec<RunEntry<'a>>,
    /// Comparisons.
    pub comparisons: Vec<&'a Comparison>,
    /// Max-QPS searches.
    pub max_qps: Vec<&'a MaxQpsReport>,
    /// Multi-model benchmarks.
    pub multi_model: Vec<&'a MultiModelReport>,
    /// Regression gates.
    pub regressions: Vec<&'a RegressionReport>,
    /// Distinct environments, in first-seen order.
    pub environments: Vec<&'a Environment>,
}

impl<'a> Dataset<'a> {
    /// Gathers `input`.
    pub fn new(input: &'a ReportInput) -> Self {
        let mut raw: Vec<(&RunResult, RunSource)> = Vec::new();
        let mut environments: Vec<&Environment> = Vec::new();
        for f in &input.results {
            raw.extend(f.runs.iter().map(|r| (r, RunSource::Run)));
            raw.extend(
                f.max_qps
                    .iter()
                    .map(|m| (&m.validity_run, RunSource::MaxQpsValidity)),
            );
            for m in &f.multi_model {
                raw.extend(m.alone.iter().map(|r| (r, RunSource::MultiModelAlone)));
                raw.extend(
                    m.together
                        .iter()
                        .map(|r| (r, RunSource::MultiModelTogether)),
                );
            }
            if let Some(env) = &f.environment
                && !environments.contains(&env)
            {
                environments.push(env);
            }
        }
        let slugs = unique_slugs(raw.iter().map(|(r, _)| r.label.as_str()));
        let runs = raw
            .into_iter()
            .zip(slugs)
            .map(|((run, source), slug)| RunEntry { run, slug, source })
            .collect();
        Self {
            input,
            runs,
            comparisons: input.results.iter().flat_map(|f| &f.comparisons).collect(),
            max_qps: input.results.iter().flat_map(|f| &f.max_qps).collect(),
            multi_model: input.results.iter().flat_map(|f| &f.multi_model).collect(),
            regressions: input.results.iter().flat_map(|f| &f.regressions).collect(),
            environments,
        }
    }

    /// The entry of a run, found by identity.
    pub fn entry(&self, run: &RunResult) -> Option<&RunEntry<'a>> {
        self.runs.iter().find(|e| std::ptr::eq(e.run, run))
    }

    /// Runs from the files' `runs` lists.
    pub fn plain(&self) -> impl Iterator<Item = &RunEntry<'a>> {
        self.runs.iter().filter(|e| e.source == RunSource::Run)
    }

    fn comparison_labels(&self) -> BTreeSet<&str> {
        self.comparisons
            .iter()
            .flat_map(|c| [c.baseline.as_str(), c.candidate.as_str()])
            .collect()
    }

    /// One latency run per target, targets in first-seen order: a comparison side when there
    /// is one for the target, else its first single-stream run. Targets with neither are left
    /// out.
    pub fn latency_runs(&self) -> Vec<&RunEntry<'a>> {
        let sides = self.comparison_labels();
        let mut targets: Vec<&str> = Vec::new();
        for e in self.plain() {
            if !targets.contains(&e.run.target.as_str()) {
                targets.push(&e.run.target);
            }
        }
        targets
            .into_iter()
            .filter_map(|t| {
                let of_target: Vec<&RunEntry<'a>> =
                    self.plain().filter(|e| e.run.target == t).collect();
                let side = of_target
                    .iter()
                    .find(|e| sides.contains(e.run.label.as_str()));
                side.or_else(|| {
                    of_target
                        .iter()
                        .find(|e| e.run.scenario == ScenarioKind::SingleStream)
                })
                .copied()
            })
            .collect()
    }

    /// Plain runs of one scenario that are not comparison sides, grouped by target in
    /// first-seen order.
    pub fn sweep(&self, kind: ScenarioKind) -> Vec<(&'a str, Vec<&'a RunResult>)> {
        let sides = self.comparison_labels();
        let mut groups: Vec<(&'a str, Vec<&'a RunResult>)> = Vec::new();
        for e in self.plain() {
            let r = e.run;
            if r.scenario != kind || sides.contains(r.label.as_str()) {
                continue;
            }
            match groups.iter_mut().find(|(t, _)| *t == r.target) {
                Some((_, v)) => v.push(r),
                None => groups.push((&r.target, vec![r])),
            }
        }
        groups
    }

    /// The latency run that measured `variant` (see [`ModelVariant::run`]): a latency run
    /// whose label or target matches, else any plain run that does.
    pub fn variant_run(&self, variant: &ModelVariant) -> Option<&'a RunResult> {
        let key = variant.run.as_deref().unwrap_or(&variant.label);
        let matches = |e: &&RunEntry<'_>| e.run.label == key || e.run.target == key;
        self.latency_runs()
            .into_iter()
            .find(matches)
            .or_else(|| self.plain().find(matches))
            .map(|e| e.run)
    }
}
