//! Sequences and optionals as values (`SequenceConstruct`, `SequenceAt`, `SplitToSequence`,
//! `ConcatFromSequence`, `Optional`, `OptionalGetElement`, ...).
//!
//! A sequence is a [`Value::Sequence`] of tensors that share one element type; positions read
//! from data may be negative (counted from the back) and are bounds-checked. An empty sequence
//! carries no element type: `SequenceEmpty`'s `dtype` is checked and otherwise unused.

mod optional;
mod split_concat;
#[cfg(test)]
mod tests;

use burnish_model::DType;

use super::{BuildCtx, Builder, Inputs, Op, op};
use crate::value::Value;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("SequenceEmpty", sequence_empty),
    ("SequenceConstruct", sequence_construct),
    ("SequenceInsert", sequence_insert),
    ("SequenceAt", sequence_at),
    ("SequenceErase", sequence_erase),
    ("SequenceLength", sequence_length),
    ("ConcatFromSequence", split_concat::concat_from_sequence),
    ("SplitToSequence", split_concat::split_to_sequence),
    ("Optional", optional::optional),
    ("OptionalHasElement", optional::optional_has_element),
    ("OptionalGetElement", optional::optional_get_element),
];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];

/// The tensors of sequence input `i` of `op_name`, or an error naming what was found.
pub(super) fn take_sequence(
    ins: &mut Inputs,
    i: usize,
    op_name: &str,
) -> Result<Vec<Value>, String> {
    match ins.take(i)? {
        Value::Sequence(items) => Ok(items),
        other => Err(format!(
            "{op_name} input #{i} must be a sequence, found {}",
            other.kind()
        )),
    }
}

/// Checks that `t` is a tensor that may join `items` (same element type as the others).
fn check_element(op_name: &str, items: &[Value], t: &Value) -> Result<(), String> {
    if !t.is_tensor() {
        return Err(format!(
            "{op_name}: sequence elements must be tensors, found {}",
            t.kind()
        ));
    }
    if let Some(first) = items.first()
        && first.dtype() != t.dtype()
    {
        return Err(format!(
            "{op_name}: a {} tensor cannot join a sequence of {} tensors",
            t.dtype(),
            first.dtype()
        ));
    }
    Ok(())
}

/// The position held by the scalar `position` input of `op_name`.
fn position_value(op_name: &str, v: &Value) -> Result<i64, String> {
    if !matches!(v.dtype(), DType::I32 | DType::I64) || !v.is_tensor() {
        return Err(format!(
            "{op_name}: position must be an int32 or int64 tensor, found {}",
            v.kind()
        ));
    }
    match v.host_i64()?.as_slice() {
        [p] => Ok(*p),
        other => Err(format!(
            "{op_name}: position must hold one element, found {}",
            other.len()
        )),
    }
}

/// Resolves position `p` (negative counts from the back) against a sequence of `len`
/// elements; `end_ok` also accepts `len` itself (insertion at the back).
fn resolve(op_name: &str, p: i64, len: usize, end_ok: bool) -> Result<usize, String> {
    let n = i64::try_from(len).map_err(|_| format!("{op_name}: sequence too long"))?;
    let idx = if p < 0 { p.checked_add(n) } else { Some(p) };
    let hi = if end_ok { n } else { n - 1 };
    match idx {
        Some(i) if (0..=hi).contains(&i) => Ok(i as usize),
        _ => Err(format!(
            "{op_name} position {p} is out of range for a sequence of {len}"
        )),
    }
}

/// `SequenceEmpty(dtype)`: an empty sequence (the element type only has to be a valid one).
pub fn sequence_empty(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let code = ctx.int("dtype", 1)?;
    let known = i32::try_from(code)
        .ok()
        .and_then(DType::from_onnx)
        .is_some();
    if !known {
        return Err(format!(
            "SequenceEmpty: attribute `dtype` {code} is not a supported tensor element type"
        ));
    }
    op(|_| Ok(vec![Value::Sequence(Vec::new())]))
}

/// `SequenceConstruct(inputs...)`: a sequence of the input tensors, in order.
pub fn sequence_construct(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|ins| {
        let values = ins.take_all();
        if values.is_empty() {
            return Err("SequenceConstruct needs at least one input".into());
        }
        let mut items = Vec::with_capacity(values.len());
        for v in values {
            check_element("SequenceConstruct", &items, &v)?;
            items.push(v);
        }
        Ok(vec![Value::Sequence(items)])
    })
}

/// `SequenceInsert(sequence, tensor, position?)`: inserts before `position` (in
/// `[-n, n]`, default `n`: at the back).
pub fn sequence_insert(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let mut items = take_sequence(&mut ins, 0, "SequenceInsert")?;
        let t = ins.take(1)?;
        check_element("SequenceInsert", &items, &t)?;
        let at = match ins.opt(2) {
            Some(p) => resolve(
                "SequenceInsert",
                position_value("SequenceInsert", &p)?,
                items.len(),
                true,
            )?,
            None => items.len(),
        };
        items.insert(at, t);
        Ok(vec![Value::Sequence(items)])
    })
}

/// `SequenceAt(sequence, position)`: the element at `position` (in `[-n, n-1]`).
pub fn sequence_at(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let mut items = take_sequence(&mut ins, 0, "SequenceAt")?;
        let p = position_value("SequenceAt", &ins.take(1)?)?;
        let at = resolve("SequenceAt", p, items.len(), false)?;
        Ok(vec![items.swap_remove(at)])
    })
}

/// `SequenceErase(sequence, position?)`: drops the element at `position` (default `-1`).
pub fn sequence_erase(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let mut items = take_sequence(&mut ins, 0, "SequenceErase")?;
        let p = match ins.opt(1) {
            Some(p) => position_value("SequenceErase", &p)?,
            None => -1,
        };
        let at = resolve("SequenceErase", p, items.len(), false)?;
        items.remove(at);
        Ok(vec![Value::Sequence(items)])
    })
}

/// `SequenceLength(sequence)`: the number of elements, as an int64 scalar.
pub fn sequence_length(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let items = take_sequence(&mut ins, 0, "SequenceLength")?;
        let n = i64::try_from(items.len()).map_err(|_| "SequenceLength: sequence too long")?;
        Ok(vec![super::shape::i64_value(vec![], vec![n])?])
    })
}
