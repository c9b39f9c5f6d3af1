//! Renders saved results: `cargo run -p burnish-report --example render -- IN.json... OUT_DIR`.
//! Each input is a report input or a bare result file (see `ReportInput::load_all`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.pop().ok_or("usage: render IN.json... OUT_DIR")?;
    if args.is_empty() {
        return Err("usage: render IN.json... OUT_DIR".into());
    }
    let input = burnish_report::ReportInput::load_all(&args)?;
    let report = burnish_report::render(&input, std::path::Path::new(&out))?;
    println!("{}", report.index.display());
    for omitted in &report.omitted {
        println!("not drawn: {omitted}");
    }
    Ok(())
}
