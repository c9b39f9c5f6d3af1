//! The `ai.onnx.ml` domain: `LabelEncoder`, `TreeEnsemble`, `ArrayFeatureExtractor`,
//! `Binarizer`, the older tree ensembles and the linear models sklearn exports use.
//!
//! These ops run on the host over [`TensorData`]: they are small, data-dependent lookups and
//! tree walks, not bulk tensor arithmetic.

mod label;
mod linear;
#[cfg(test)]
mod tests;
mod tree;
mod tree_legacy;

use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use super::{BuildCtx, Builder, Op, op};
use crate::value::Value;

const ML: &str = "ai.onnx.ml";

/// Uploads a host tensor.
pub(crate) fn upload(shape: Vec<usize>, data: Buffer) -> Result<Value, String> {
    Value::upload(&TensorData::new(shape, data).map_err(|e| e.to_string())?)
}

/// A float buffer of element type `dtype` (f32, f64, f16 or bf16) holding `v`.
pub(crate) fn float_buffer(dtype: DType, v: Vec<f64>) -> Result<Buffer, String> {
    Ok(match dtype {
        DType::F32 => Buffer::F32(v.into_iter().map(|x| x as f32).collect()),
        DType::F64 => Buffer::F64(v),
        DType::F16 => Buffer::F16(v.into_iter().map(f16::from_f64).collect()),
        DType::BF16 => Buffer::BF16(v.into_iter().map(bf16::from_f64).collect()),
        other => return Err(format!("expected a float element type, found {other}")),
    })
}

/// A numeric buffer of element type `dtype` holding `v` (converted as C casts do).
pub(crate) fn numeric_buffer(dtype: DType, v: Vec<f64>) -> Result<Buffer, String> {
    Ok(match dtype {
        DType::I64 => Buffer::I64(v.into_iter().map(|x| x as i64).collect()),
        DType::I32 => Buffer::I32(v.into_iter().map(|x| x as i32).collect()),
        DType::I16 => Buffer::I16(v.into_iter().map(|x| x as i16).collect()),
        DType::I8 => Buffer::I8(v.into_iter().map(|x| x as i8).collect()),
        DType::U64 => Buffer::U64(v.into_iter().map(|x| x as u64).collect()),
        DType::U32 => Buffer::U32(v.into_iter().map(|x| x as u32).collect()),
        DType::U16 => Buffer::U16(v.into_iter().map(|x| x as u16).collect()),
        DType::U8 => Buffer::U8(v.into_iter().map(|x| x as u8).collect()),
        DType::Bool => Buffer::Bool(v.into_iter().map(|x| x != 0.0).collect()),
        other => return float_buffer(other, v),
    })
}

/// `Binarizer`: 1 where `x > threshold`, else 0, in the input's element type.
pub fn binarizer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let threshold = ctx.float("threshold", 0.0)? as f64;
    op(move |mut ins| {
        let t = ins.take(0)?.host()?;
        let v = t
            .to_f64_vec()
            .filter(|_| t.dtype() != DType::String)
            .ok_or("Binarizer input must be numeric")?;
        let y = v
            .into_iter()
            .map(|x| (x > threshold) as u8 as f64)
            .collect();
        Ok(vec![upload(
            t.shape.clone(),
            numeric_buffer(t.dtype(), y)?,
        )?])
    })
}

/// `ArrayFeatureExtractor(X, Y)`: the elements of `X`'s last axis at the indices `Y`; the
/// output is `X.shape[:-1] + [len(Y)]` (`[1, len(Y)]` for a 1-D `X`).
pub fn array_feature_extractor(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let x = ins.take(0)?.host()?;
        let idx = ins
            .take(1)?
            .host()?
            .to_i64_vec()
            .ok_or("ArrayFeatureExtractor indices must be integers")?;
        let n = *x
            .shape
            .last()
            .ok_or("ArrayFeatureExtractor input X must not be a scalar")?;
        let picks = idx
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .filter(|&i| i < n)
                    .ok_or_else(|| format!("ArrayFeatureExtractor index {i} is out of range for a last axis of size {n}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut shape = if x.shape.len() == 1 {
            vec![1]
        } else {
            x.shape[..x.shape.len() - 1].to_vec()
        };
        shape.push(picks.len());
        let rows = x.len().checked_div(n).unwrap_or(0);
        super::util::check_numel(&shape)?;
        let sel: Vec<usize> = (0..rows)
            .flat_map(|r| picks.iter().map(move |&p| r * n + p))
            .collect();
        let data = x
            .data
            .select(&sel)
            .ok_or("ArrayFeatureExtractor index is out of range")?;
        Ok(vec![Value::upload(
            &TensorData::new(shape, data).map_err(|e| e.to_string())?,
        )?])
    })
}

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[
    (ML, "LabelEncoder", label::label_encoder),
    (ML, "TreeEnsemble", tree::tree_ensemble),
    (
        ML,
        "TreeEnsembleRegressor",
        tree_legacy::tree_ensemble_regressor,
    ),
    (
        ML,
        "TreeEnsembleClassifier",
        tree_legacy::tree_ensemble_classifier,
    ),
    (ML, "ArrayFeatureExtractor", array_feature_extractor),
    (ML, "Binarizer", binarizer),
    (ML, "LinearRegressor", linear::linear_regressor),
    (ML, "LinearClassifier", linear::linear_classifier),
    (ML, "Normalizer", linear::normalizer),
    (ML, "Scaler", linear::scaler),
];
