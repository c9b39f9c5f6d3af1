//! `ConcatFromSequence` (join along an axis, or stack along a new one) and `SplitToSequence`
//! (cut along an axis into equal chunks, given lengths, or single slices).

use burn_backend::Slice;
use burnish_model::{AttrExt, DType};

use super::take_sequence;
use crate::ops::shape::{cat, slice};
use crate::ops::util::{axis, check_numel, not_tensor};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// `ConcatFromSequence(sequence; axis, new_axis)`: the elements joined along `axis`, or with
/// `new_axis = 1` stacked along a new axis inserted at `axis` (in `[-r-1, r]`).
pub fn concat_from_sequence(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx
        .node
        .attrs
        .int_opt("axis")
        .map_err(|e| e.0)?
        .ok_or("ConcatFromSequence: attribute `axis` is required")?;
    let new_axis = match ctx.int("new_axis", 0)? {
        0 => false,
        1 => true,
        other => {
            return Err(format!(
                "ConcatFromSequence: attribute `new_axis` must be 0 or 1, found {other}"
            ));
        }
    };
    op(move |mut ins| {
        let items = take_sequence(&mut ins, 0, "ConcatFromSequence")?;
        let first = items
            .first()
            .ok_or("ConcatFromSequence cannot join an empty sequence")?;
        let base = first.shape();
        if base.is_empty() && !new_axis {
            return Err("ConcatFromSequence cannot join scalars without `new_axis`".into());
        }
        let out_rank = base.len() + usize::from(new_axis);
        let d = axis(a, out_rank).map_err(|e| format!("ConcatFromSequence: {e}"))?;
        let dtype = first.dtype();
        let mut along = 0usize;
        for (i, v) in items.iter().enumerate() {
            check_item(v, i, dtype, &base, (!new_axis).then_some(d))?;
            along = along
                .checked_add(if new_axis { 1 } else { v.shape()[d] })
                .ok_or("ConcatFromSequence: result too large")?;
        }
        let mut out_shape = base.clone();
        if new_axis {
            out_shape.insert(d, along);
        } else {
            out_shape[d] = along;
        }
        let total = check_numel(&out_shape)?;
        let lift = |v: Value| {
            if new_axis {
                let mut s = v.shape();
                s.insert(d, 1);
                v.reshape(&s)
            } else {
                v
            }
        };
        if total == 0 {
            return Ok(vec![first.clone().reshape(&out_shape)]);
        }
        let mut keep: Vec<Value> = items
            .into_iter()
            .filter(|v| v.numel() > 0)
            .map(lift)
            .collect();
        if keep.len() == 1 {
            return Ok(keep.split_off(0));
        }
        Ok(vec![cat(keep, d)?])
    })
}

/// Checks element `i` against the first one: a tensor of the same element type and shape,
/// except along `free` (the concatenation axis, when joining without a new axis).
fn check_item(
    v: &Value,
    i: usize,
    dtype: DType,
    base: &[usize],
    free: Option<usize>,
) -> Result<(), String> {
    if !v.is_tensor() {
        return Err(format!("ConcatFromSequence element {i}: {}", not_tensor(v)));
    }
    if v.dtype() != dtype {
        return Err(format!(
            "ConcatFromSequence element {i} is {}, element 0 is {}",
            v.kind(),
            dtype
        ));
    }
    let s = v.shape();
    let fits = s.len() == base.len() && (0..s.len()).all(|k| Some(k) == free || s[k] == base[k]);
    if !fits {
        return Err(format!(
            "ConcatFromSequence element {i} has shape {s:?}, which does not fit element 0's \
             {base:?}"
        ));
    }
    Ok(())
}

/// The chunk lengths `split` asks for along a dimension of size `dim`: a scalar gives chunks of
/// that length (the last one shorter when it does not divide `dim`), a 1-D tensor gives the
/// lengths themselves.
fn split_lengths(split: &Value, dim: usize) -> Result<Vec<usize>, String> {
    if !split.is_tensor() || !matches!(split.dtype(), DType::I32 | DType::I64) {
        return Err(format!(
            "SplitToSequence: `split` must be an int32 or int64 tensor, found {}",
            split.kind()
        ));
    }
    let v = split.host_i64()?;
    match (split.rank(), v.as_slice()) {
        (0, [len]) => {
            let len = usize::try_from(*len)
                .ok()
                .filter(|&l| l > 0)
                .ok_or_else(|| format!("SplitToSequence: scalar `split` {len} must be positive"))?;
            let mut out = vec![len; dim / len];
            if !dim.is_multiple_of(len) {
                out.push(dim % len);
            }
            Ok(out)
        }
        (1, list) => {
            let lengths = list
                .iter()
                .map(|&l| {
                    usize::try_from(l)
                        .map_err(|_| format!("SplitToSequence: `split` length {l} is negative"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let sum = lengths.iter().try_fold(0usize, |a, &l| a.checked_add(l));
            if sum != Some(dim) {
                return Err(format!(
                    "SplitToSequence: `split` lengths {list:?} do not add up to the axis size {dim}"
                ));
            }
            Ok(lengths)
        }
        (r, _) => Err(format!(
            "SplitToSequence: `split` must be a scalar or 1-D, found rank {r}"
        )),
    }
}

/// `SplitToSequence(input, split?; axis, keepdims)`: the pieces of `input` along `axis`.
/// Without `split`, every piece has length 1 and `keepdims = 0` drops the axis.
pub fn split_to_sequence(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    let keepdims = ctx.int("keepdims", 1)? != 0;
    op(move |mut ins| {
        let x = ins.take(0)?;
        if !x.is_tensor() {
            return Err(format!("SplitToSequence: {}", not_tensor(&x)));
        }
        let s = x.shape();
        if s.is_empty() {
            return Err("SplitToSequence cannot split a scalar".into());
        }
        let d = axis(a, s.len()).map_err(|e| format!("SplitToSequence: {e}"))?;
        let (lengths, squeeze) = match ins.opt(1) {
            Some(split) => (split_lengths(&split, s[d])?, false),
            None => (vec![1; s[d]], !keepdims),
        };
        let mut squeezed = s.clone();
        squeezed.remove(d);
        let mut start = 0usize;
        let mut items = Vec::with_capacity(lengths.len());
        for len in lengths {
            let mut sl: Vec<Slice> = s.iter().map(|&n| Slice::from(0..n)).collect();
            sl[d] = Slice::from(start..start + len);
            let piece = slice(x.clone(), &sl)?;
            items.push(if squeeze {
                piece.reshape(&squeezed)
            } else {
                piece
            });
            start += len;
        }
        Ok(vec![Value::Sequence(items)])
    })
}
