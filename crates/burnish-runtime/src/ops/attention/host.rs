//! Host access for this family's loops: f32 views of float tensors (borrowed when already
//! contiguous f32) and uploads back in the input's element type.

use burn_backend::DType as BurnDType;
use burn_backend::ops::FloatTensorOps;
use burn_flex::FlexTensor;
use rayon::prelude::*;

pub(super) use crate::ops::util::f32s;
use crate::ops::util::upload_f32;
use crate::value::{B, Value};

/// Elements below which a row loop stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// A float input as a tensor, with an error naming the input when it is not float.
pub(super) fn float_input(v: Value, what: &str) -> Result<FlexTensor, String> {
    match v {
        Value::Float(t) => Ok(t),
        other => Err(format!(
            "input `{what}` must be a float tensor, found {}",
            other.dtype()
        )),
    }
}

/// Uploads f32 `data` of `shape` as a tensor of element type `dtype`.
pub(super) fn upload(data: Vec<f32>, shape: Vec<usize>, dtype: BurnDType) -> FlexTensor {
    let t = upload_f32(data, shape);
    if dtype == BurnDType::F32 {
        t
    } else {
        B::float_cast(t, dtype.into())
    }
}

/// `x` rounded to the precision of `dtype` (f16 and bf16 round; f32 and f64 keep `x`).
pub(super) fn round_to(x: f32, dtype: BurnDType) -> f32 {
    match dtype {
        BurnDType::F16 => half::f16::from_f32(x).to_f32(),
        BurnDType::BF16 => half::bf16::from_f32(x).to_f32(),
        _ => x,
    }
}

/// Runs `f(row_index, row)` over the `row`-sized chunks of `out`, in parallel when large.
pub(super) fn rows_mut(out: &mut [f32], row: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if row == 0 {
        return;
    }
    if out.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        out.par_chunks_mut(row)
            .enumerate()
            .for_each(|(i, r)| f(i, r));
    } else {
        out.chunks_mut(row).enumerate().for_each(|(i, r)| f(i, r));
    }
}
