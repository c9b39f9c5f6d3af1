//! Seeded synthetic inputs for a model, for `--random-inputs`, benchmarks and fidelity checks.

use std::collections::{BTreeMap, HashMap};

use burnish_stats::Rng;

use crate::DType;
use crate::error::ModelError;
use crate::graph::{Dim, Graph, ValueInfo};
use crate::tensor::{Buffer, TensorData};

/// Resolves an input's shape: fixed dims as declared, symbolic dims from `dims` (by name),
/// otherwise `default_dim`.
pub fn resolve_shape(
    shape: Option<&[Dim]>,
    dims: &HashMap<String, usize>,
    default_dim: usize,
) -> Vec<usize> {
    shape
        .unwrap_or(&[])
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => *n,
            Dim::Symbolic(s) => dims.get(s).copied().unwrap_or(default_dim),
            Dim::Unknown => default_dim,
        })
        .collect()
}

/// How inputs are sized when they are synthesized: values for named symbolic dims, and whole
/// shapes for inputs (`--dim batch=8`, `--shape x=1x3x48x320`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShapeSpec {
    /// Values of named symbolic dims.
    pub dims: HashMap<String, usize>,
    /// Whole shapes by input name.
    pub shapes: HashMap<String, Vec<usize>>,
}

impl ShapeSpec {
    /// A spec of named dims only.
    pub fn from_dims(dims: HashMap<String, usize>) -> Self {
        ShapeSpec {
            dims,
            shapes: HashMap::new(),
        }
    }

    /// The shape of `input`: its `--shape` when given (checked against the declared rank and
    /// fixed dims), else its fixed dims, named dims from `--dim` (`batch` and other unset names
    /// default to 1), and an unnamed leading dim as the batch. An unnamed dim elsewhere is an
    /// error naming the input, the dim and the flags that set it.
    pub fn resolve(&self, input: &ValueInfo) -> Result<Vec<usize>, ModelError> {
        let declared = input.shape.as_deref();
        let invalid = |message: String| ModelError::Invalid {
            path: format!("input `{}`", input.name),
            message,
        };
        if let Some(shape) = self.shapes.get(&input.name) {
            if let Some(dims) = declared {
                let fits = dims.len() == shape.len()
                    && dims.iter().zip(shape).all(|(d, &n)| match d {
                        Dim::Fixed(f) => *f == n,
                        _ => true,
                    });
                if !fits {
                    return Err(invalid(format!(
                        "--shape {}={} does not fit the declared shape {}",
                        input.name,
                        format_shape(shape),
                        input.shape_string()
                    )));
                }
            }
            return Ok(shape.clone());
        }
        let dims = declared.unwrap_or(&[]);
        let mut out = Vec::with_capacity(dims.len());
        for (k, d) in dims.iter().enumerate() {
            out.push(match d {
                Dim::Fixed(n) => *n,
                Dim::Symbolic(s) => self.dims.get(s).copied().unwrap_or(1),
                Dim::Unknown if k == 0 => self.dims.get("batch").copied().unwrap_or(1),
                Dim::Unknown => {
                    let example: Vec<String> = dims
                        .iter()
                        .enumerate()
                        .map(|(j, d)| match d {
                            Dim::Fixed(n) => n.to_string(),
                            _ if j == 0 => "1".into(),
                            _ => "N".into(),
                        })
                        .collect();
                    return Err(invalid(format!(
                        "dim {k} of {} is unnamed, so burnish cannot choose its size: set the \
                         shape with `--shape {}={}` (N: your size), or pass real data with \
                         `--inputs FILE.npz`",
                        input.shape_string(),
                        input.name,
                        example.join("x")
                    )));
                }
            });
        }
        Ok(out)
    }

    /// The dims [`ShapeSpec::resolve`] had to guess: non-leading symbolic dims of inputs
    /// without a `--shape`, whose names `--dim` does not set (they get 1), as text naming
    /// the input, the dim and how to set it. Empty when nothing was guessed.
    pub fn guesses(&self, graph: &Graph) -> Vec<String> {
        let mut out = Vec::new();
        for input in &graph.inputs {
            if self.shapes.contains_key(&input.name) {
                continue;
            }
            let Some(dims) = input.shape.as_deref() else {
                continue;
            };
            for (k, d) in dims.iter().enumerate().skip(1) {
                if let Dim::Symbolic(name) = d
                    && !self.dims.contains_key(name)
                {
                    out.push(format!(
                        "input `{}` dim {k} (`{name}`) of {} was set to 1 (set it with `--dim {name}=N` \
                         or `--shape {}=...`)",
                        input.name,
                        input.shape_string(),
                        input.name
                    ));
                }
            }
        }
        out
    }

    /// A hint for an error of a run on inputs sized by this spec: which dims were guessed and
    /// how to set them (`None` when none was).
    pub fn hint(&self, graph: &Graph) -> Option<String> {
        let guesses = self.guesses(graph);
        (!guesses.is_empty()).then(|| {
            format!(
                "the inputs were synthesized and {}; or pass real data with `--inputs FILE.npz`",
                guesses.join("; ")
            )
        })
    }

    /// Checks every `--shape` names an input of `graph`.
    pub fn check_names(&self, graph: &Graph) -> Result<(), ModelError> {
        for name in self.shapes.keys() {
            if !graph.inputs.iter().any(|i| &i.name == name) {
                let known: Vec<&str> = graph.inputs.iter().map(|i| i.name.as_str()).collect();
                return Err(ModelError::Invalid {
                    path: format!("--shape {name}=..."),
                    message: format!(
                        "the model has no input `{name}` (inputs: {})",
                        known.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

/// `1x3x224x224`.
pub fn format_shape(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// Parses `1x3x224x224` (also `1,3,224,224`); an empty text is a scalar.
pub fn parse_shape(text: &str) -> Result<Vec<usize>, ModelError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(['x', ','])
        .map(|d| {
            d.trim().parse().map_err(|_| ModelError::BadShape {
                dim: d.to_string(),
                text: text.to_string(),
            })
        })
        .collect()
}

/// Upper bound for integer inputs used as `Gather` indices into a constant table (token ids):
/// the table's size along the gathered axis.
fn index_bound(graph: &Graph, input: &str) -> Option<i64> {
    graph.nodes.iter().find_map(|n| {
        if n.op_type != "Gather" || n.input(1) != Some(input) {
            return None;
        }
        let table = graph.initializers.get(n.input(0)?)?;
        let axis = match n.attrs.get("axis") {
            Some(crate::Attribute::Int(a)) => *a,
            _ => 0,
        };
        let rank = table.shape.len() as i64;
        let ax = if axis < 0 { axis + rank } else { axis };
        table.shape.get(ax as usize).map(|&d| d as i64)
    })
}

/// Random inputs for every graph input, every unset dim 1 (see [`random_inputs_for`] for
/// the checked sizing the commands use).
pub fn random_inputs(
    graph: &Graph,
    dims: &HashMap<String, usize>,
    seed: u64,
) -> Result<BTreeMap<String, TensorData>, ModelError> {
    let shapes = graph
        .inputs
        .iter()
        .map(|i| (i.name.clone(), resolve_shape(i.shape.as_deref(), dims, 1)))
        .collect();
    random_inputs_for(
        graph,
        &ShapeSpec {
            dims: dims.clone(),
            shapes,
        },
        seed,
    )
}

/// Random inputs for every graph input, sized by `spec` ([`ShapeSpec::resolve`]): floats
/// uniform in `[-1, 1)`, integers in `[0, bound)` where `bound` is the table size when the
/// input indexes a constant table, else 2; booleans fair coins.
pub fn random_inputs_for(
    graph: &Graph,
    spec: &ShapeSpec,
    seed: u64,
) -> Result<BTreeMap<String, TensorData>, ModelError> {
    spec.check_names(graph)?;
    let mut rng = Rng::new(seed);
    let mut out = BTreeMap::new();
    for input in &graph.inputs {
        let shape = spec.resolve(input)?;
        let invalid = |message: String| ModelError::Invalid {
            path: format!("input `{}`", input.name),
            message,
        };
        let Some(dtype) = input.dtype else {
            return Err(invalid(
                "has no tensor type (a sequence or optional input): it cannot be synthesized"
                    .into(),
            ));
        };
        crate::limits::check_tensor(&shape, dtype.size())
            .map_err(|e| invalid(format!("cannot synthesize it: {e}")))?;
        let n: usize = shape.iter().product();
        let bound = index_bound(graph, &input.name).unwrap_or(2).max(1);
        let data = random_buffer(dtype, n, bound as u64, &mut rng)
            .ok_or_else(|| invalid(format!("cannot synthesize {dtype} inputs")))?;
        out.insert(input.name.clone(), TensorData::new(shape, data)?);
    }
    Ok(out)
}

/// `n` random elements of `dtype` drawn from `rng`: the one fill of every synthesized input.
/// Floats (f32, f64, f16) are uniform in `[-1, 1)`; integers (i64, i32, i8, u8) uniform in
/// `[0, int_bound)` (a bound of 0 counts as 1); booleans are odd draws below `int_bound`
/// (fair coins for a bound of 2). `None` for any other type. The same `rng` state gives the
/// same values.
pub fn random_buffer(dtype: DType, n: usize, int_bound: u64, rng: &mut Rng) -> Option<Buffer> {
    let bound = int_bound.max(1);
    let mut ints = || {
        (0..n)
            .map(|_| (rng.next_u64() % bound) as i64)
            .collect::<Vec<_>>()
    };
    Some(match dtype {
        DType::F32 => Buffer::F32(
            (0..n)
                .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
                .collect(),
        ),
        DType::F64 => Buffer::F64((0..n).map(|_| rng.next_f64() * 2.0 - 1.0).collect()),
        DType::F16 => Buffer::F16(
            (0..n)
                .map(|_| half::f16::from_f64(rng.next_f64() * 2.0 - 1.0))
                .collect(),
        ),
        DType::I64 => Buffer::I64(ints()),
        DType::I32 => Buffer::I32(ints().into_iter().map(|v| v as i32).collect()),
        DType::U8 => Buffer::U8(ints().into_iter().map(|v| v as u8).collect()),
        DType::I8 => Buffer::I8(ints().into_iter().map(|v| v as i8).collect()),
        DType::Bool => Buffer::Bool(ints().into_iter().map(|v| v % 2 == 1).collect()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_buffers_stay_in_range_and_follow_the_seed() {
        let ints = random_buffer(DType::I64, 64, 2, &mut Rng::new(5)).unwrap();
        let Buffer::I64(v) = &ints else {
            panic!("not i64: {ints:?}")
        };
        assert!(v.iter().all(|&x| x == 0 || x == 1), "{v:?}");
        let bools = random_buffer(DType::Bool, 64, 2, &mut Rng::new(5)).unwrap();
        let Buffer::Bool(b) = &bools else {
            panic!("not bool: {bools:?}")
        };
        assert!(v.iter().zip(b).all(|(&x, &y)| (x == 1) == y));
        let Some(Buffer::F32(f)) = random_buffer(DType::F32, 64, 0, &mut Rng::new(5)) else {
            panic!("no f32 buffer")
        };
        assert!(f.iter().all(|x| (-1.0..1.0).contains(x)));
        assert_eq!(
            random_buffer(DType::F32, 64, 0, &mut Rng::new(5)),
            Some(Buffer::F32(f))
        );
        assert_eq!(random_buffer(DType::String, 1, 2, &mut Rng::new(5)), None);
    }
}
