//! Seeded synthetic inputs for a model, for `--random-inputs`, benchmarks and fidelity checks.

use std::collections::{BTreeMap, HashMap};

use crate::DType;
use crate::error::ModelError;
use crate::graph::{Dim, Graph};
use crate::tensor::{Buffer, TensorData};

/// Largest tensor (in elements) synthesized for one input.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

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

/// Random inputs for every graph input: floats uniform in `[-1, 1)`, integers in
/// `[0, bound)` where `bound` is the table size when the input indexes a constant table, else 2;
/// booleans fair coins.
pub fn random_inputs(
    graph: &Graph,
    dims: &HashMap<String, usize>,
    seed: u64,
) -> Result<BTreeMap<String, TensorData>, ModelError> {
    let mut rng = Rng::new(seed);
    let mut out = BTreeMap::new();
    for input in &graph.inputs {
        let shape = resolve_shape(input.shape.as_deref(), dims, 1);
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| ModelError::Invalid {
                path: input.name.clone(),
                message: format!("input shape {shape:?} is too large to synthesize"),
            })?;
        let bound = index_bound(graph, &input.name).unwrap_or(2).max(1);
        let mut ints = || {
            (0..n)
                .map(|_| (rng.next_u64() % bound as u64) as i64)
                .collect::<Vec<_>>()
        };
        let data = match input.dtype.unwrap_or(DType::F32) {
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
            other => {
                return Err(ModelError::Invalid {
                    path: input.name.clone(),
                    message: format!("cannot synthesize {other} inputs"),
                });
            }
        };
        out.insert(input.name.clone(), TensorData::new(shape, data)?);
    }
    Ok(out)
}
