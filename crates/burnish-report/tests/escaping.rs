//! Strings from models and files (labels, paths, op and feature names) reach pages and SVG
//! text escaped: no markup from data survives.

mod common;

use burnish_report::render;
use common::{fixture, temp_dir, tree};

const EVIL: &str = "<script>alert(1)</script> \"q\" 'a' & <b>";

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let mut input = fixture();
    input.title = Some(format!("title {EVIL}"));
    let file = &mut input.results[0];
    let comparison_labels: Vec<String> = file
        .comparisons
        .iter()
        .flat_map(|c| [c.baseline.clone(), c.candidate.clone()])
        .collect();
    for r in &mut file.runs {
        let sided = comparison_labels.contains(&r.label);
        r.label = format!("{} {EVIL}", r.label);
        r.target = format!("{} {EVIL}", r.target);
        r.validity.warnings.push(format!("warning {EVIL}"));
        if sided {
            for c in &mut file.comparisons {
                for side in [&mut c.baseline, &mut c.candidate] {
                    if format!("{side} {EVIL}") == r.label {
                        *side = r.label.clone();
                    }
                }
            }
        }
    }
    for c in &mut file.comparisons {
        c.summary = format!("summary {EVIL}");
    }
    for m in &mut file.max_qps {
        m.target = format!("{} {EVIL}", m.target);
        m.validity_run.label = format!("{} {EVIL}", m.validity_run.label);
    }
    for m in &mut file.multi_model {
        for i in &mut m.interference {
            i.label = format!("{} {EVIL}", i.label);
        }
        for r in m.alone.iter_mut().chain(&mut m.together) {
            r.label = format!("{} {EVIL}", r.label);
        }
    }
    if let Some(env) = &mut file.environment {
        env.cpu_model = Some(format!("cpu {EVIL}"));
    }
    for v in &mut input.variants {
        v.run = Some(format!("{} {EVIL}", v.label));
        v.label = format!("{} {EVIL}", v.label);
        v.model_path = format!("models/{EVIL}.onnx");
    }
    for p in &mut input.profiles {
        p.variant = format!("{} {EVIL}", p.variant);
        for r in &mut p.rows {
            r.op_type = format!("{} {EVIL}", r.op_type);
        }
    }
    if let Some(o) = &mut input.optimization {
        o.passes[0].name = format!("pass {EVIL}");
    }
    if let Some(d) = &mut input.drift {
        d.features[0].name = format!("feature {EVIL}");
        d.verdict.reasons.push(format!("reason {EVIL}"));
        d.clip_rates[0].name = format!("clip {EVIL}");
    }

    input.notes.push(format!("note {EVIL}"));

    let dir = temp_dir("escaping");
    let out = render(&input, &dir).unwrap();
    assert!(
        out.omitted.is_empty(),
        "every chart should carry hostile text: {:?}",
        out.omitted
    );
    for f in tree(&dir) {
        let text = std::fs::read_to_string(dir.join(&f)).unwrap();
        let lower = text.to_lowercase();
        assert!(!lower.contains("<script"), "{f} contains a raw <script");
        assert!(!text.contains("<b>"), "{f} contains raw markup from data");
        assert!(
            !text.contains("\"q\""),
            "{f} contains an unescaped quote from data"
        );
        if f.ends_with(".svg") || f == "index.html" {
            assert!(text.contains("&lt;script&gt;"), "{f} lost the escaped text");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
