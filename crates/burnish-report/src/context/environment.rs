//! The environment fingerprint table.

use burnish_bench::Environment;
use serde::Serialize;

use super::{Kv, kv};
use crate::format::{self, NONE};

/// One distinct environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentView {
    /// Heading.
    pub title: String,
    /// Facts.
    pub rows: Vec<Kv>,
}

fn or_none(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| NONE.to_string())
}

/// One view per distinct environment, in first-seen order.
pub fn environments(envs: &[&Environment]) -> Vec<EnvironmentView> {
    envs.iter()
        .enumerate()
        .map(|(i, e)| {
            let isa = e.isa.names();
            let b = &e.build;
            EnvironmentView {
                title: if envs.len() == 1 {
                    "Machine and build".to_string()
                } else {
                    format!("Machine and build {}", i + 1)
                },
                rows: vec![
                    kv("CPU", or_none(&e.cpu_model)),
                    kv("logical cores", e.logical_cores.to_string()),
                    kv(
                        "instruction sets",
                        if isa.is_empty() {
                            NONE.to_string()
                        } else {
                            isa.join(" ")
                        },
                    ),
                    kv("OS / architecture", format!("{} / {}", e.os, e.arch)),
                    kv("kernel", or_none(&e.kernel)),
                    kv("load average (1 min)", format::opt(e.load_avg_1m, 2)),
                    kv("burnish version", or_none(&b.burnish_version)),
                    kv("git revision", or_none(&b.git_revision)),
                    kv("backend", or_none(&b.backend)),
                    kv("threads", or_none(&b.threads)),
                    kv("model SHA-256", or_none(&b.model_sha256)),
                ],
            }
        })
        .collect()
}
