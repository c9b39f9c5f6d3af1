//! String tensors and text ops (`StringConcat`, `StringSplit`, `StringNormalizer`,
//! `RegexFullMatch`, `TfIdfVectorizer`) and `ImageDecoder`.
//!
//! String tensors are host values ([`Value::Host`] around a [`Buffer::String`]); every op here
//! runs on the host.

mod image_decoder;
mod jpeg;
mod jpeg_dsp;
mod jpeg_scan;
mod pattern;
mod split;
#[cfg(test)]
mod tests;
mod tfidf;

use std::sync::Arc;

use burnish_model::{Buffer, TensorData};

use super::util::{broadcast_shape, expand_to};
use super::{BuildCtx, Builder, Op, op};
use crate::value::Value;

/// The strings of a string tensor, with its shape; `what` names the input in errors.
pub(crate) fn strings(v: &Value, what: &str) -> Result<(Vec<usize>, Vec<String>), String> {
    match v {
        Value::Host(t) => match &t.data {
            Buffer::String(s) => Ok((t.shape.clone(), s.clone())),
            _ => Err(format!(
                "{what} must be a string tensor, found {}",
                v.kind()
            )),
        },
        other => Err(format!(
            "{what} must be a string tensor, found {}",
            other.kind()
        )),
    }
}

/// A string tensor value.
pub(crate) fn string_value(shape: Vec<usize>, data: Vec<String>) -> Result<Value, String> {
    let t = TensorData::new(shape, Buffer::String(data)).map_err(|e| e.to_string())?;
    Ok(Value::Host(Arc::new(t)))
}

/// A host tensor uploaded as a backend value.
pub(crate) fn upload(shape: Vec<usize>, data: Buffer) -> Result<Value, String> {
    Value::upload(&TensorData::new(shape, data).map_err(|e| e.to_string())?)
}

/// `StringConcat(X, Y)`: element-wise concatenation with numpy broadcasting.
pub fn string_concat(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let (x, y) = (ins.take(0)?, ins.take(1)?);
        strings(&x, "StringConcat input X")?;
        strings(&y, "StringConcat input Y")?;
        let out = broadcast_shape(&x.shape(), &y.shape())?;
        let (_, a) = strings(&expand_to(x, &out)?, "X")?;
        let (_, b) = strings(&expand_to(y, &out)?, "Y")?;
        let joined = a.into_iter().zip(b).map(|(p, q)| p + &q).collect();
        Ok(vec![string_value(out, joined)?])
    })
}

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("StringConcat", string_concat),
    ("StringSplit", split::string_split),
    ("StringNormalizer", split::string_normalizer),
    ("RegexFullMatch", pattern::regex_full_match),
    ("TfIdfVectorizer", tfidf::tfidf_vectorizer),
    ("ImageDecoder", image_decoder::image_decoder),
];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];
