//! Renders the committed fixture and checks what was written: the file tree, that every SVG
//! is well-formed XML, the page contexts against a committed snapshot, byte-identical
//! re-renders, and that strings from data cannot inject markup.

mod common;

use std::path::Path;

use burnish_report::{ReportInput, page_contexts_json, render};
use common::{fixture, inline_svgs, temp_dir, tree};

fn parse_xml(what: &str, text: &str) {
    if let Err(e) = roxmltree::Document::parse(text) {
        panic!("{what} is not well-formed XML: {e}");
    }
}

#[test]
fn writes_index_run_pages_and_charts() {
    let input = fixture();
    let dir = temp_dir("tree");
    let out = render(&input, &dir.join("nested/report")).unwrap();
    let root = dir.join("nested/report");
    let files = tree(&root);

    assert!(files.contains(&"index.html".to_string()), "{files:?}");
    let runs: usize = input
        .results
        .iter()
        .map(|f| {
            f.runs.len()
                + f.max_qps.len()
                + f.multi_model
                    .iter()
                    .map(|m| m.alone.len() + m.together.len())
                    .sum::<usize>()
        })
        .sum();
    let pages: Vec<_> = files
        .iter()
        .filter(|f| f.starts_with("run-") && f.ends_with(".html"))
        .collect();
    assert_eq!(pages.len(), runs, "one page per run: {files:?}");
    assert_eq!(out.run_pages.len(), runs);
    for id in [
        "speedup",
        "latency-cdf",
        "latency-percentiles",
        "offline-batch",
        "concurrency",
        "server-qps",
        "pareto",
        "op-breakdown",
        "interference",
    ] {
        assert!(
            files.contains(&format!("charts/{id}.svg")),
            "chart {id} missing: {files:?}"
        );
    }
    assert!(
        out.omitted.is_empty(),
        "the fixture has data for every chart: {:?}",
        out.omitted
    );
    assert!(
        files.iter().all(|f| !f.contains(".tmp")),
        "temporary files left: {files:?}"
    );
    assert_eq!(out.files().len(), files.len());

    let index = std::fs::read_to_string(&out.index).unwrap();
    for page in &pages {
        assert!(
            index.contains(&format!("href=\"{page}\"")),
            "index does not link {page}"
        );
    }
    for external in [" src=", "<link", "<script", "url(", "@import"] {
        assert!(
            !index.contains(external),
            "index.html is not self-contained: {external}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_svg_is_well_formed_xml() {
    let dir = temp_dir("xml");
    let out = render(&fixture(), &dir).unwrap();
    for chart in &out.charts {
        parse_xml(
            &chart.display().to_string(),
            &std::fs::read_to_string(chart).unwrap(),
        );
    }
    for page in std::iter::once(&out.index).chain(&out.run_pages) {
        let html = std::fs::read_to_string(page).unwrap();
        let svgs = inline_svgs(&html);
        assert!(!svgs.is_empty(), "{} has no chart", page.display());
        for (i, svg) in svgs.iter().enumerate() {
            parse_xml(&format!("{} svg #{i}", page.display()), svg);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn page_contexts_match_the_snapshot() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/contexts.json");
    let actual = page_contexts_json(&fixture()).unwrap();
    if std::env::var_os("BURNISH_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot)
        .expect("snapshot missing: run with BURNISH_UPDATE_SNAPSHOTS=1 to create it");
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or(actual.lines().count().min(expected.lines().count()), |l| {
                l + 1
            });
        panic!(
            "page contexts differ from tests/snapshots/contexts.json at line {line}; \
             review and rerun with BURNISH_UPDATE_SNAPSHOTS=1 if intended"
        );
    }
}

#[test]
fn re_rendering_gives_identical_bytes() {
    let input = fixture();
    let (a, b) = (temp_dir("det-a"), temp_dir("det-b"));
    render(&input, &a).unwrap();
    render(&input, &b).unwrap();
    let reparsed = ReportInput::from_json_str(&input.to_json().unwrap()).unwrap();
    render(&reparsed, &b).unwrap();
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta, tb);
    for f in &ta {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between renders");
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn empty_input_omits_every_chart_and_says_so() {
    let dir = temp_dir("empty");
    let out = render(&ReportInput::default(), &dir).unwrap();
    assert!(out.charts.is_empty() && out.run_pages.is_empty());
    assert_eq!(out.omitted.len(), 9, "{:?}", out.omitted);
    let index = std::fs::read_to_string(&out.index).unwrap();
    assert!(!index.contains("<svg"));
    assert_eq!(index.matches("Not drawn:").count(), 9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn charts_without_data_are_omitted_with_a_reason() {
    let mut input = fixture();
    let file = &mut input.results[0];
    file.runs
        .retain(|r| r.scenario != burnish_bench::ScenarioKind::Offline);
    file.max_qps.clear();
    file.multi_model.clear();
    input.profiles.clear();
    for v in &mut input.variants {
        v.accuracy = None;
    }
    let dir = temp_dir("partial");
    let out = render(&input, &dir).unwrap();
    assert_eq!(
        out.omitted,
        [
            "Throughput vs batch size (offline): no offline runs",
            "Tail latency vs offered load (server): no server max-QPS search",
            "Accuracy vs latency vs size: no model variant has both an accuracy and a latency run",
            "Time per op type: no per-op profiles",
            "Multi-model interference: no multi-model runs",
        ]
    );
    let files = tree(&dir);
    for gone in [
        "offline-batch",
        "server-qps",
        "pareto",
        "op-breakdown",
        "interference",
    ] {
        assert!(
            !files.contains(&format!("charts/{gone}.svg")),
            "{gone} drawn without data"
        );
    }
    let index = std::fs::read_to_string(&out.index).unwrap();
    assert!(index.contains("Not drawn: no offline runs."));
    std::fs::remove_dir_all(&dir).unwrap();
}
