//! Host access for this family's loops: f32 views of float tensors (borrowed when already
//! contiguous f32) and uploads back in the input's element type.

use std::borrow::Cow;

use burn_backend::DType as BurnDType;
use burn_backend::ops::FloatTensorOps;
use burn_flex::FlexTensor;
use rayon::prelude::*;

use crate::ops::util::{host_f32, upload_f32};
use crate::value::{B, Value};

/// Elements below which a row loop stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// The elements of a float tensor as f32, in row-major order (other float types converted).
pub(super) fn f32s(t: &FlexTensor) -> Result<Cow<'_, [f32]>, String> {
    if t.dtype() == BurnDType::F32 {
        if let Some(s) = t.as_slice::<f32>() {
            return Ok(Cow::Borrowed(s));
        }
        if let Some(s) = t.to_contiguous().as_slice::<f32>() {
            return Ok(Cow::Owned(s.to_vec()));
        }
    }
    Ok(Cow::Owned(host_f32(t)?))
}

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
