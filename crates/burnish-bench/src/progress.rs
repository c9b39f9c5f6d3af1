//! Progress reporting while runs are in flight.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives progress events from the load generator. Every method has a silent default.
pub trait Progress: Send + Sync {
    /// A measured run starts; `expected` is its minimum duration.
    fn run_started(&self, _label: &str, _expected: Duration) {}
    /// Periodic update (about every 100 ms) with completed queries and elapsed time.
    fn run_progress(&self, _queries: u64, _elapsed: Duration) {}
    /// The run ended; `summary` is a one-line result.
    fn run_finished(&self, _label: &str, _summary: &str) {}
    /// A free-form note (search steps, comparison rounds).
    fn note(&self, _message: &str) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// An `indicatif` spinner/bar on stderr, hidden when stderr is not a terminal.
#[derive(Debug)]
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl BarProgress {
    /// A reporter on stderr (hidden when stderr is not a terminal).
    pub fn stderr() -> Self {
        Self {
            bar: Mutex::new(None),
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// Whether anything will be drawn.
    pub fn is_visible(&self) -> bool {
        self.visible
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        let mut guard = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }
}

impl Progress for BarProgress {
    fn run_started(&self, label: &str, expected: Duration) {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(expected.as_millis() as u64), target);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {elapsed}/{duration} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        self.with_bar(|b| *b = Some(bar));
    }

    fn run_progress(&self, queries: u64, elapsed: Duration) {
        self.with_bar(|b| {
            if let Some(bar) = b {
                bar.set_position(elapsed.as_millis() as u64);
                bar.set_message(format!("{queries} queries"));
            }
        });
    }

    fn run_finished(&self, label: &str, summary: &str) {
        self.with_bar(|b| {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        });
        if self.visible {
            eprintln!("{label}: {summary}");
        }
    }

    fn note(&self, message: &str) {
        if self.visible {
            self.with_bar(|b| match b {
                Some(bar) => bar.println(message),
                None => eprintln!("{message}"),
            });
        }
    }
}
