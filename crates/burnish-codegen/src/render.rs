//! The model-specific parts of the generated code.

use std::fmt::Write;
use std::path::Path;

use burnish_model::{DType, Dim, Model};

use crate::CodegenError;

/// A valid cargo package name from any text: lowercase ASCII letters, digits, `-` and `_`;
/// other characters become `-`; a leading digit or `-` gets a `model-` prefix; empty text gives
/// `model`.
pub fn crate_name_for(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    if name.is_empty() {
        return "model".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        name.insert_str(0, "model-");
    }
    name
}

/// Which helper converts a value of this type, and the Burn tensor kind's suffix.
fn kind(dtype: Option<DType>) -> &'static str {
    match dtype {
        Some(DType::Bool) => "bool",
        Some(DType::I64 | DType::I32 | DType::I16 | DType::I8 | DType::U8 | DType::U16) => "int",
        _ => "float",
    }
}

/// The body of the generated `run`: host arrays to tensors, `forward`, tensors to host arrays.
pub fn run_body(model: &Model) -> Result<String, CodegenError> {
    let g = &model.graph;
    let mut body = String::new();
    let mut args = Vec::new();
    for (i, input) in g.inputs.iter().enumerate() {
        let rank = input
            .shape
            .as_ref()
            .map(Vec::len)
            .ok_or_else(|| CodegenError::UnknownRank {
                name: input.name.clone(),
            })?;
        let helper = match kind(input.dtype) {
            "bool" => "boolean",
            k => k,
        };
        let _ = writeln!(
            body,
            "    let in{i} = {helper}::<{rank}>({name:?}, input(inputs, {name:?})?, device)?;",
            name = input.name
        );
        args.push(format!("in{i}"));
    }
    let outs: Vec<String> = (0..g.outputs.len()).map(|i| format!("out{i}")).collect();
    let pattern = match outs.len() {
        1 => outs[0].clone(),
        _ => format!("({})", outs.join(", ")),
    };
    let _ = writeln!(
        body,
        "    let {pattern} = model.forward({});",
        args.join(", ")
    );
    let _ = writeln!(body, "    let mut outputs = BTreeMap::new();");
    for (i, output) in g.outputs.iter().enumerate() {
        let _ = writeln!(
            body,
            "    outputs.insert({:?}.to_string(), from_{}(out{i})?);",
            output.name,
            kind(output.dtype)
        );
    }
    body.push_str("    Ok(outputs)");
    Ok(body)
}

/// The batch dim (first dim of the first input, when symbolic) and the other symbolic dims.
pub(crate) fn symbolic_dims(model: &Model) -> (Option<String>, Vec<String>) {
    let batch = model
        .graph
        .inputs
        .first()
        .and_then(|i| i.shape.as_ref()?.first().cloned())
        .and_then(|d| match d {
            Dim::Symbolic(name) => Some(name),
            _ => None,
        });
    let mut others: Vec<String> = Vec::new();
    for d in model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
    {
        if let Dim::Symbolic(name) = d
            && Some(name) != batch.as_ref()
            && !others.contains(name)
        {
            others.push(name.clone());
        }
    }
    (batch, others)
}

/// Dev-dependencies and the `[[bench]]` entry of the interpreter-vs-compiled bench.
pub(crate) fn bench_deps(root: &Path) -> String {
    let path = |c: &str| format!("{:?}", root.join("crates").join(c).display().to_string());
    format!(
        "\n[dev-dependencies]\n\
         burnish-model = {{ path = {} }}\n\
         burnish-runtime = {{ path = {} }}\n\
         criterion = {{ version = \"0.7\", default-features = false, features = [\"cargo_bench_support\"] }}\n\
         rayon = \"1\"\n\n\
         [[bench]]\nname = \"compare\"\nharness = false\n",
        path("burnish-model"),
        path("burnish-runtime")
    )
}

#[cfg(test)]
mod tests {
    use super::crate_name_for;

    #[test]
    fn crate_names_are_valid_package_names() {
        assert_eq!(
            crate_name_for("resnet_nchw-compiled"),
            "resnet_nchw-compiled"
        );
        assert_eq!(crate_name_for("My Model.v2"), "my-model-v2");
        assert_eq!(crate_name_for("1st"), "model-1st");
        assert_eq!(crate_name_for(""), "model");
    }
}
