//! `LabelEncoder` (ai.onnx.ml opsets 1 to 4): a key-to-value lookup with a default.

use std::collections::HashMap;

use burnish_model::{AttrExt, Buffer, DType, TensorData};

use super::numeric_buffer;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// A lookup key: strings, integers, or floats by their bits (every NaN is one key).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(String),
    Int(i64),
    Float(u64),
}

fn float_key(x: f64) -> Key {
    Key::Float(if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        (x + 0.0).to_bits()
    })
}

/// The keys of a host buffer, as the kind of key the table holds.
fn keys_of(data: &Buffer, want: &Key) -> Result<Vec<Key>, String> {
    Ok(match (data, want) {
        (Buffer::String(v), Key::Str(_)) => v.iter().cloned().map(Key::Str).collect(),
        (b, Key::Int(_)) if b.dtype().is_int() => b
            .to_i64_vec()
            .ok_or("LabelEncoder keys are not integers")?
            .into_iter()
            .map(Key::Int)
            .collect(),
        (b, Key::Float(_)) if b.dtype().is_float() => b
            .to_f64_vec()
            .ok_or("LabelEncoder keys are not floats")?
            .into_iter()
            .map(float_key)
            .collect(),
        (b, _) => {
            return Err(format!(
                "LabelEncoder input is {}, which does not match the keys' type",
                b.dtype()
            ));
        }
    })
}

/// The compiled encoder: key to position in `table`, whose last element is the default.
struct Encoder {
    map: HashMap<Key, usize>,
    kind: Key,
    table: Buffer,
}

impl Encoder {
    fn run(&self, x: &TensorData) -> Result<Value, String> {
        let default = self.table.len() - 1;
        let idx: Vec<usize> = keys_of(&x.data, &self.kind)?
            .iter()
            .map(|k| self.map.get(k).copied().unwrap_or(default))
            .collect();
        let data = self
            .table
            .select(&idx)
            .ok_or("LabelEncoder lookup out of range")?;
        Value::upload(&TensorData::new(x.shape.clone(), data).map_err(|e| e.to_string())?)
    }
}

fn build(keys: Buffer, values: Buffer, default: Buffer) -> Result<Encoder, String> {
    if keys.len() != values.len() {
        return Err(format!(
            "LabelEncoder has {} keys but {} values",
            keys.len(),
            values.len()
        ));
    }
    if default.len() != 1 || default.dtype() != values.dtype() {
        return Err("LabelEncoder default must be one element of the values' type".into());
    }
    let kind = match keys.dtype() {
        DType::String => Key::Str(String::new()),
        d if d.is_int() => Key::Int(0),
        d if d.is_float() => Key::Float(0),
        d => return Err(format!("LabelEncoder keys of type {d} are not supported")),
    };
    let mut map = HashMap::new();
    for (i, k) in keys_of(&keys, &kind)?.into_iter().enumerate() {
        map.entry(k).or_insert(i);
    }
    let table = Buffer::concat(&[&values, &default]).ok_or("LabelEncoder default type mismatch")?;
    Ok(Encoder { map, kind, table })
}

/// The default for values of `dtype` when no default attribute is given.
fn type_default(dtype: DType) -> Result<Buffer, String> {
    match dtype {
        DType::String => Ok(Buffer::String(vec!["_Unused".into()])),
        d if d.is_float() => numeric_buffer(d, vec![-0.0]),
        d => numeric_buffer(d, vec![-1.0]),
    }
}

/// `LabelEncoder`. Opset 1 (`classes_strings`) maps strings to their class index and integers
/// to class names; later opsets map `keys_*` to `values_*` (or `keys_tensor`/`values_tensor`).
pub fn label_encoder(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.attrs();
    let strs = |n: &str| a.strings_opt(n).map_err(|e| e.0);
    let tensor = |n: &str| a.tensor_opt(n).map_err(|e| e.0);
    if let Some(classes) = strs("classes_strings")? {
        let n = classes.len() as i64;
        let to_int = build(
            Buffer::String(classes.clone()),
            Buffer::I64((0..n).collect()),
            Buffer::I64(vec![ctx.int("default_int64", -1)?]),
        )?;
        let to_str = build(
            Buffer::I64((0..n).collect()),
            Buffer::String(classes),
            Buffer::String(vec![ctx.string("default_string", "_Unused")?]),
        )?;
        return op(move |mut ins| {
            let x = ins.take(0)?.host()?;
            let enc = if x.dtype() == DType::String {
                &to_int
            } else {
                &to_str
            };
            Ok(vec![enc.run(&x)?])
        });
    }
    let keys = if let Some(k) = strs("keys_strings")? {
        Buffer::String(k)
    } else if let Some(k) = ctx.ints("keys_int64s")? {
        Buffer::I64(k)
    } else if let Some(k) = ctx.floats("keys_floats")? {
        Buffer::F32(k)
    } else if let Some(k) = tensor("keys_tensor")? {
        k.data.clone()
    } else {
        return Err(
            "LabelEncoder needs keys_strings, keys_int64s, keys_floats or keys_tensor".into(),
        );
    };
    let (values, default) = if let Some(v) = strs("values_strings")? {
        (
            Buffer::String(v),
            Buffer::String(vec![ctx.string("default_string", "_Unused")?]),
        )
    } else if let Some(v) = ctx.ints("values_int64s")? {
        (
            Buffer::I64(v),
            Buffer::I64(vec![ctx.int("default_int64", -1)?]),
        )
    } else if let Some(v) = ctx.floats("values_floats")? {
        (
            Buffer::F32(v),
            Buffer::F32(vec![ctx.float("default_float", -0.0)?]),
        )
    } else if let Some(v) = tensor("values_tensor")? {
        let default = match tensor("default_tensor")? {
            Some(d) => d.data.clone(),
            None => type_default(v.dtype())?,
        };
        (v.data.clone(), default)
    } else {
        return Err(
            "LabelEncoder needs values_strings, values_int64s, values_floats or values_tensor"
                .into(),
        );
    };
    let enc = build(keys, values, default)?;
    op(move |mut ins| Ok(vec![enc.run(&ins.take(0)?.host()?)?]))
}
