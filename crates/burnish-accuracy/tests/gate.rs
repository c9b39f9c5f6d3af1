//! The gate's search logic against closed-form scoring functions (no model involved).

use std::collections::HashMap;
use std::time::Duration;

use burnish_accuracy::AccuracyError;
use burnish_accuracy::gate::{
    AccuracyBudget, Candidate, DropKind, GateLimits, GateRecord, Phase, Score, Sensitivity,
    StopReason, search,
};

fn nodes(names: &[&str]) -> Vec<Candidate> {
    names
        .iter()
        .map(|n| Candidate {
            node: n.to_string(),
            op_type: "Conv".into(),
            macs: None,
        })
        .collect()
}

/// Accuracy = baseline - the penalties of the quantized (not float) nodes; SNR falls with them.
fn additive(
    baseline: f64,
    penalty: &HashMap<&str, f64>,
) -> impl FnMut(&[String]) -> Result<Score, AccuracyError> {
    move |float: &[String]| {
        let lost: f64 = penalty
            .iter()
            .filter(|(n, _)| !float.iter().any(|f| f == *n))
            .map(|(_, p)| p)
            .sum();
        Ok(Score {
            accuracy: baseline - lost,
            snr_db: 40.0 - 1000.0 * lost,
            top1_agreement: 1.0 - lost,
        })
    }
}

fn budget(pct: f64) -> AccuracyBudget {
    AccuracyBudget {
        max_drop: pct / 100.0,
        kind: DropKind::Abs,
    }
}

fn honest(r: &GateRecord) {
    assert_eq!(
        r.within_budget,
        r.budget.drop(r.baseline_accuracy, r.accuracy) <= r.budget.max_drop + 1e-12
    );
    for t in &r.trials {
        assert_eq!(
            t.within_budget,
            r.budget.allows(r.baseline_accuracy, t.score.accuracy)
        );
    }
}

#[test]
fn fully_quantized_within_budget_keeps_nothing_float() {
    let p = HashMap::from([("a", 0.001), ("b", 0.002)]);
    let r = search(
        &nodes(&["a", "b"]),
        0.9,
        budget(0.5),
        Sensitivity::LeaveOneOut,
        GateLimits::default(),
        &mut additive(0.9, &p),
    )
    .unwrap();
    honest(&r);
    assert!(r.within_budget && r.kept_float.is_empty());
    assert_eq!(r.trials.len(), 1);
    assert_eq!(r.stop, StopReason::BudgetMet);
}

#[test]
fn one_sensitive_node_stays_float() {
    let p = HashMap::from([("a", 0.001), ("b", 0.006), ("c", 0.003), ("d", 0.0)]);
    for method in [Sensitivity::LeaveOneOut, Sensitivity::OnlyOne] {
        let r = search(
            &nodes(&["a", "b", "c", "d"]),
            0.95,
            budget(0.5),
            method,
            GateLimits::default(),
            &mut additive(0.95, &p),
        )
        .unwrap();
        honest(&r);
        assert_eq!(r.kept_float, vec!["b".to_string()], "{method:?}");
        assert!(r.within_budget);
        assert!((r.accuracy - (0.95 - 0.004)).abs() < 1e-12);
        assert_eq!(r.ranking[0].node, "b");
    }
}

#[test]
fn greedy_adds_nodes_until_the_budget_holds() {
    let p = HashMap::from([("a", 0.004), ("b", 0.005), ("c", 0.004)]);
    let r = search(
        &nodes(&["a", "b", "c"]),
        0.9,
        budget(0.5),
        Sensitivity::LeaveOneOut,
        GateLimits::default(),
        &mut additive(0.9, &p),
    )
    .unwrap();
    honest(&r);
    // Two of the three must stay float; b is the most sensitive, then a (graph order on ties).
    assert_eq!(r.kept_float, vec!["b".to_string(), "a".to_string()]);
    assert!(r.trials.iter().any(|t| t.phase == Phase::Greedy));
}

#[test]
fn prune_drops_float_nodes_that_turn_out_unnecessary() {
    // Within budget iff y and z are both float; x alone recovers the most accuracy.
    let mut f = |float: &[String]| -> Result<Score, AccuracyError> {
        let has = |n: &str| float.iter().any(|f| f == n);
        let acc = if has("y") && has("z") {
            0.9
        } else if has("x") {
            0.85
        } else {
            0.8 + 0.01 * float.len() as f64
        };
        Ok(Score {
            accuracy: acc,
            snr_db: 10.0,
            top1_agreement: 1.0,
        })
    };
    let r = search(
        &nodes(&["x", "y", "z"]),
        0.9,
        budget(0.5),
        Sensitivity::LeaveOneOut,
        GateLimits::default(),
        &mut f,
    )
    .unwrap();
    honest(&r);
    let mut kept = r.kept_float.clone();
    kept.sort();
    assert_eq!(kept, vec!["y".to_string(), "z".to_string()]);
    assert!(r.trials.iter().any(|t| t.phase == Phase::Prune));
}

#[test]
fn trial_limit_returns_the_best_found_flagged_over_budget() {
    let p = HashMap::from([("a", 0.02), ("b", 0.03)]);
    let r = search(
        &nodes(&["a", "b"]),
        0.9,
        budget(0.5),
        Sensitivity::LeaveOneOut,
        GateLimits {
            max_trials: Some(2),
            time_limit: None,
        },
        &mut additive(0.9, &p),
    )
    .unwrap();
    honest(&r);
    assert_eq!(r.trials.len(), 2);
    assert_eq!(r.stop, StopReason::TrialLimit);
    assert!(!r.within_budget, "drop {} reported within budget", r.drop);
    // Best of: everything quantized (0.85) and `a` float (0.87).
    assert_eq!(r.kept_float, vec!["a".to_string()]);
    assert!((r.accuracy - 0.87).abs() < 1e-12);
    // The unmeasured node is still ranked.
    assert_eq!(r.ranking.len(), 2);
    assert!(r.ranking[1].score.is_none());
}

#[test]
fn zero_time_returns_the_float_model() {
    let p = HashMap::from([("a", 0.02)]);
    let r = search(
        &nodes(&["a"]),
        0.9,
        budget(0.5),
        Sensitivity::LeaveOneOut,
        GateLimits {
            max_trials: None,
            time_limit: Some(Duration::ZERO),
        },
        &mut additive(0.9, &p),
    )
    .unwrap();
    honest(&r);
    assert!(r.trials.is_empty());
    assert_eq!(r.stop, StopReason::TimeLimit);
    assert_eq!(r.kept_float, vec!["a".to_string()]);
    assert!(r.within_budget && r.accuracy == 0.9);
}

#[test]
fn unreachable_budget_exhausts_candidates() {
    // The quantizer loses accuracy even with every node float (e.g. input quantization).
    let mut f = |_: &[String]| -> Result<Score, AccuracyError> {
        Ok(Score {
            accuracy: 0.8,
            snr_db: 5.0,
            top1_agreement: 0.9,
        })
    };
    let r = search(
        &nodes(&["a", "b"]),
        0.9,
        budget(0.5),
        Sensitivity::OnlyOne,
        GateLimits::default(),
        &mut f,
    )
    .unwrap();
    honest(&r);
    assert!(!r.within_budget);
    assert_eq!(r.stop, StopReason::CandidatesExhausted);
}

#[test]
fn relative_budget_and_parsing() {
    let b = AccuracyBudget::parse("1%", DropKind::Rel).unwrap();
    assert!((b.max_drop - 0.01).abs() < 1e-15);
    // 0.5 -> 0.496 is a 0.8% relative drop: allowed; 0.5 -> 0.494 (1.2%) is not.
    assert!(b.allows(0.5, 0.496));
    assert!(!b.allows(0.5, 0.494));
    let a = AccuracyBudget::parse("0.005", DropKind::Abs).unwrap();
    assert!(a.allows(0.9, 0.895) && !a.allows(0.9, 0.8949));
    for bad in ["", "x%", "-1%", "100%", "NaN"] {
        assert!(AccuracyBudget::parse(bad, DropKind::Abs).is_err(), "{bad}");
    }
}
