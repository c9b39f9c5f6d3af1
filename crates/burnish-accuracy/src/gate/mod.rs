//! The accuracy gate: quantize as much as the accuracy budget allows.
//!
//! 1. Evaluate the fully quantized model. Within the budget: done, nothing stays float.
//! 2. Rank node sensitivity, one trial per candidate node: [`Sensitivity::LeaveOneOut`]
//!    quantizes everything except the node (how much keeping it float recovers),
//!    [`Sensitivity::OnlyOne`] quantizes only the node (how much it alone costs). Ties are
//!    broken by the SNR of the scores against the float model, so the ranking stays
//!    informative when accuracy moves by less than one sample.
//! 3. Greedy fallback: keep the most sensitive nodes in float, one more per trial, until the
//!    budget holds.
//! 4. Prune: try returning each float node (least sensitive first) to int8; keep the change
//!    when the budget still holds.
//!
//! Every step checks the trial and time limits first. The result is always the best trial
//! seen: the one within budget with the fewest float nodes (then the highest accuracy), or,
//! when no trial met the budget, the most accurate one, flagged `within_budget: false`.

use std::time::Instant;

use crate::AccuracyError;

mod budget;

pub use budget::{
    AccuracyBudget, Candidate, DropKind, GateLimits, GateRecord, NodeSensitivity, Phase, Score,
    Sensitivity, StopReason, Trial,
};

struct Search<'a, F> {
    budget: AccuracyBudget,
    baseline: f64,
    limits: GateLimits,
    start: Instant,
    trials: Vec<Trial>,
    stop: Option<StopReason>,
    run: &'a mut F,
}

impl<F> Search<'_, F>
where
    F: FnMut(&[String]) -> Result<Score, AccuracyError>,
{
    /// Runs a trial unless a limit is reached (then records why and returns `None`).
    fn trial(&mut self, phase: Phase, float: &[String]) -> Result<Option<usize>, AccuracyError> {
        if let Some(i) = self.find(float) {
            return Ok(Some(i));
        }
        if self
            .limits
            .max_trials
            .is_some_and(|m| self.trials.len() >= m)
        {
            self.stop = Some(StopReason::TrialLimit);
            return Ok(None);
        }
        if self
            .limits
            .time_limit
            .is_some_and(|t| self.start.elapsed() >= t)
        {
            self.stop = Some(StopReason::TimeLimit);
            return Ok(None);
        }
        let t0 = Instant::now();
        let score = (self.run)(float)?;
        self.trials.push(Trial {
            phase,
            float_nodes: float.to_vec(),
            score,
            drop: self.budget.drop(self.baseline, score.accuracy),
            within_budget: self.budget.allows(self.baseline, score.accuracy),
            millis: t0.elapsed().as_secs_f64() * 1e3,
        });
        Ok(Some(self.trials.len() - 1))
    }

    fn find(&self, float: &[String]) -> Option<usize> {
        let mut want = float.to_vec();
        want.sort();
        self.trials.iter().position(|t| {
            let mut have = t.float_nodes.clone();
            have.sort();
            have == want
        })
    }

    fn within(&self, i: usize) -> bool {
        self.trials[i].within_budget
    }
}

/// Runs the gate over `candidates`. `run(float_nodes)` quantizes with those nodes kept in
/// float and evaluates; `baseline` is the float model's accuracy.
pub fn search<F>(
    candidates: &[Candidate],
    baseline: f64,
    budget: AccuracyBudget,
    method: Sensitivity,
    limits: GateLimits,
    run: &mut F,
) -> Result<GateRecord, AccuracyError>
where
    F: FnMut(&[String]) -> Result<Score, AccuracyError>,
{
    let mut s = Search {
        budget,
        baseline,
        limits,
        start: Instant::now(),
        trials: Vec::new(),
        stop: None,
        run,
    };
    let full = s.trial(Phase::Full, &[])?;
    let mut ranking: Vec<NodeSensitivity> = Vec::new();
    match full {
        Some(f) if s.within(f) => s.stop = Some(StopReason::BudgetMet),
        Some(_) => {
            ranking = rank(&mut s, candidates, method)?;
            // A single float node within budget cannot be beaten (no float node failed).
            let single = s
                .trials
                .iter()
                .any(|t| t.within_budget && t.float_nodes.len() <= 1);
            if s.stop.is_none() && !single {
                greedy(&mut s, &ranking)?;
            }
        }
        None => {}
    }
    let full_quant_accuracy = full.map(|f| s.trials[f].score.accuracy);
    let best = best_trial(&s.trials);
    let (kept_float, accuracy) = match best {
        Some(b) => (s.trials[b].float_nodes.clone(), s.trials[b].score.accuracy),
        None => (
            candidates.iter().map(|c| c.node.clone()).collect(),
            baseline,
        ),
    };
    Ok(GateRecord {
        budget,
        method,
        baseline_accuracy: baseline,
        full_quant_accuracy,
        ranking,
        drop: budget.drop(baseline, accuracy),
        within_budget: budget.allows(baseline, accuracy),
        kept_float,
        accuracy,
        stop: s.stop.unwrap_or(StopReason::BudgetMet),
        millis: s.start.elapsed().as_secs_f64() * 1e3,
        trials: s.trials,
    })
}

fn rank<F>(
    s: &mut Search<'_, F>,
    candidates: &[Candidate],
    method: Sensitivity,
) -> Result<Vec<NodeSensitivity>, AccuracyError>
where
    F: FnMut(&[String]) -> Result<Score, AccuracyError>,
{
    let mut rows = Vec::with_capacity(candidates.len());
    for c in candidates {
        let float: Vec<String> = match method {
            Sensitivity::LeaveOneOut => vec![c.node.clone()],
            Sensitivity::OnlyOne => candidates
                .iter()
                .filter(|o| o.node != c.node)
                .map(|o| o.node.clone())
                .collect(),
        };
        let score = if s.stop.is_none() {
            s.trial(Phase::Sensitivity, &float)?
                .map(|i| s.trials[i].score)
        } else {
            None
        };
        rows.push(NodeSensitivity {
            node: c.node.clone(),
            op_type: c.op_type.clone(),
            macs: c.macs,
            score,
        });
    }
    // Most sensitive first: leave-one-out by the highest score, only-one by the lowest;
    // unmeasured nodes last, larger MACs first. The sort is stable (graph order on ties).
    let key = |r: &NodeSensitivity| {
        r.score.map(|sc| match method {
            Sensitivity::LeaveOneOut => (-sc.accuracy, -sc.snr_db),
            Sensitivity::OnlyOne => (sc.accuracy, sc.snr_db),
        })
    };
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.macs.unwrap_or(0).cmp(&a.macs.unwrap_or(0)),
    });
    Ok(rows)
}

fn greedy<F>(s: &mut Search<'_, F>, ranking: &[NodeSensitivity]) -> Result<(), AccuracyError>
where
    F: FnMut(&[String]) -> Result<Score, AccuracyError>,
{
    let mut float: Vec<String> = Vec::new();
    for r in ranking {
        float.push(r.node.clone());
        match s.trial(Phase::Greedy, &float)? {
            None => return Ok(()),
            Some(i) if s.within(i) => return prune(s, float),
            Some(_) => {}
        }
    }
    s.stop = Some(StopReason::CandidatesExhausted);
    Ok(())
}

fn prune<F>(s: &mut Search<'_, F>, mut float: Vec<String>) -> Result<(), AccuracyError>
where
    F: FnMut(&[String]) -> Result<Score, AccuracyError>,
{
    for node in float.clone().iter().rev() {
        if float.len() <= 1 {
            break;
        }
        let fewer: Vec<String> = float.iter().filter(|n| *n != node).cloned().collect();
        match s.trial(Phase::Prune, &fewer)? {
            None => return Ok(()),
            Some(i) if s.within(i) => float = fewer,
            Some(_) => {}
        }
    }
    s.stop = Some(StopReason::BudgetMet);
    Ok(())
}

/// The best trial: within budget with the fewest float nodes, then the highest accuracy; with
/// none within budget, the highest accuracy, then the fewest float nodes. Earliest on ties.
pub fn best_trial(trials: &[Trial]) -> Option<usize> {
    let key = |t: &Trial| {
        (
            t.within_budget,
            std::cmp::Reverse(if t.within_budget {
                t.float_nodes.len()
            } else {
                0
            }),
            t.score.accuracy,
            std::cmp::Reverse(t.float_nodes.len()),
        )
    };
    let mut best: Option<usize> = None;
    for (i, t) in trials.iter().enumerate() {
        let better = match best {
            None => true,
            Some(b) => {
                let (x, y) = (key(t), key(&trials[b]));
                (x.0, x.1)
                    .cmp(&(y.0, y.1))
                    .then(x.2.total_cmp(&y.2))
                    .then(x.3.cmp(&y.3))
                    .is_gt()
            }
        };
        if better {
            best = Some(i);
        }
    }
    best
}
