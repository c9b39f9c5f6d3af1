//! The templates, embedded at compile time, and the engine that fills them.
//!
//! Templates are `.html` files, so `minijinja` escapes every value it inserts; only chart SVGs
//! (escaped by plotters when drawn) are inserted as safe strings.

use std::collections::BTreeMap;

use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::error::ReportError;

const TEMPLATES: [(&str, &str); 4] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("run.html", include_str!("../templates/run.html")),
];

/// The template engine with every template loaded.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads the embedded templates.
    pub fn new() -> Result<Self, ReportError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| ReportError::Template {
                    template: name,
                    source,
                })?;
        }
        Ok(Self { env })
    }

    /// Renders `template` with `page` and the chart SVGs it may reference.
    pub fn render(
        &self,
        template: &'static str,
        page: &impl Serialize,
        svgs: &BTreeMap<String, String>,
    ) -> Result<String, ReportError> {
        let err = |source| ReportError::Template { template, source };
        let svg: BTreeMap<&str, Value> = svgs
            .iter()
            .map(|(id, s)| (id.as_str(), Value::from_safe_string(s.clone())))
            .collect();
        self.env
            .get_template(template)
            .map_err(err)?
            .render(context! { page => Value::from_serialize(page), svg => svg })
            .map_err(err)
    }
}
