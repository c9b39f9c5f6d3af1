//! Opens the rendered report in headless Chromium: the page loads without console errors,
//! every chart's `<svg>` is in the DOM, and a screenshot is taken.
//!
//! Skips with a notice when no browser is found. The browser is `$BURNISH_CHROMIUM`, else
//! `/usr/bin/chromium` or `/usr/bin/chromium-browser` (Debian: `apt-get install -y
//! chromium`). With `BURNISH_REQUIRE_CHROMIUM=1` (CI) a missing browser fails the test.
//! `BURNISH_SCREENSHOT_DIR=DIR` keeps the screenshots there for a person to look at.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burnish_report::render;
use common::{fixture, temp_dir};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BURNISH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs the browser headless on `url` with `extra` flags, killed after 90 s; returns its
/// stdout and stderr (captured through files, so a large DOM cannot fill a pipe).
fn run(bin: &Path, profile: &Path, url: &str, extra: &[&str]) -> (String, String) {
    let (out_path, err_path) = (
        profile.with_extension("stdout"),
        profile.with_extension("stderr"),
    );
    let mut child = Command::new(bin)
        .args([
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    assert!(status.success(), "chromium failed: {stderr}");
    (stdout, stderr)
}

/// Console messages and failed loads Chromium logged while showing the page.
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Failed to load resource")
                || l.contains("net::ERR_")
        })
        .collect()
}

#[test]
fn report_loads_in_headless_chromium_with_every_chart() {
    let Some(bin) = chromium() else {
        if std::env::var_os("BURNISH_REQUIRE_CHROMIUM").is_some() {
            panic!("BURNISH_REQUIRE_CHROMIUM is set but no chromium was found");
        }
        eprintln!(
            "skipping: chromium not found (apt-get install -y chromium, or set BURNISH_CHROMIUM)"
        );
        return;
    };
    let dir = temp_dir("chromium");
    let report = render(&fixture(), &dir.join("report")).unwrap();
    let profile = dir.join("profile");
    let index_charts = report
        .charts
        .iter()
        .filter(|c| !c.file_name().unwrap().to_string_lossy().starts_with("run-"))
        .count();

    for (page, charts) in [(&report.index, index_charts), (&report.run_pages[0], 1)] {
        let url = format!("file://{}", page.display());
        let (dom, stderr) = run(&bin, &profile, &url, &["--dump-dom"]);
        assert!(dom.contains("</html>"), "no DOM dumped for {url}");
        assert_eq!(
            dom.matches("<svg class=\"chart\"").count(),
            charts,
            "charts in the DOM of {url}"
        );
        assert!(!dom.contains("<script"), "{url} has a script element");
        let errors = page_errors(&stderr);
        assert!(
            errors.is_empty(),
            "{url} logged errors:\n{}",
            errors.join("\n")
        );
    }

    let shot = dir.join("index.png");
    let url = format!("file://{}", report.index.display());
    let shot_flag = format!("--screenshot={}", shot.display());
    run(
        &bin,
        &profile,
        &url,
        &[&shot_flag, "--window-size=1280,2000"],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot looks empty"
    );
    if let Some(keep) = std::env::var_os("BURNISH_SCREENSHOT_DIR") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&shot, Path::new(&keep).join("index.png")).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
}
