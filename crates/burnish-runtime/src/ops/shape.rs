//! Shape ops: `Reshape`, `Flatten`, `Transpose`, `Squeeze`, `Unsqueeze`, `Shape`, `Size`,
//! `Expand`, and the value helpers the layout ops (`layout.rs`) share.

use burn_backend::Slice;
use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use rayon::prelude::*;

use super::util::{axes, axis, broadcast_shape, expand_to, not_tensor, on_host};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};
use burnish_model::TensorData;

/// An int64 tensor value from host data.
pub fn i64_value(shape: Vec<usize>, data: Vec<i64>) -> Result<Value, String> {
    Value::upload(&TensorData::from_i64(shape, data))
}

pub(super) fn permute(v: Value, perm: &[usize]) -> Result<Value, String> {
    Ok(match v {
        Value::Float(t) => Value::Float(B::float_permute(t, perm)),
        Value::Int(t) => Value::Int(B::int_permute(t, perm)),
        Value::Bool(t) => Value::Bool(B::bool_permute(t, perm)),
        Value::Host(t) => return on_host(&t, |i| permute(i, perm)),
        other => return Err(not_tensor(&other)),
    })
}

/// Slices `v` with one `Slice` per dimension.
pub fn slice(v: Value, s: &[Slice]) -> Result<Value, String> {
    Ok(match v {
        Value::Float(t) => Value::Float(B::float_slice(t, s)),
        Value::Int(t) => Value::Int(B::int_slice(t, s)),
        Value::Bool(t) => Value::Bool(B::bool_slice(t, s)),
        Value::Host(t) => return on_host(&t, |i| slice(i, s)),
        other => return Err(not_tensor(&other)),
    })
}

/// `Concat` along `dim`; float32 views (a Focus layer's stride-2 `Slice`s) are made dense
/// first, so the block copies of [`cat_f32`] take them instead of Burn's element-wise copy.
pub(super) fn cat(vs: Vec<Value>, dim: usize) -> Result<Value, String> {
    let vs: Vec<Value> = vs
        .into_iter()
        .map(|v| match v {
            Value::Float(t) if t.dtype() == burn_backend::DType::F32 => {
                Value::Float(super::util::dense(t))
            }
            v => v,
        })
        .collect();
    if let Some(t) = cat_f32(&vs, dim) {
        return Ok(Value::Float(t));
    }
    match vs.first() {
        Some(Value::Float(_)) => Ok(Value::Float(B::float_cat(
            vs.into_iter()
                .map(super::util::float)
                .collect::<Result<_, _>>()?,
            dim,
        ))),
        Some(Value::Int(_)) => Ok(Value::Int(B::int_cat(
            vs.into_iter()
                .map(|v| match v {
                    Value::Int(t) => Ok(t),
                    _ => Err("Concat of mixed types".to_string()),
                })
                .collect::<Result<_, _>>()?,
            dim,
        ))),
        Some(Value::Bool(_)) => Ok(Value::Bool(B::bool_cat(
            vs.into_iter()
                .map(|v| match v {
                    Value::Bool(t) => Ok(t),
                    _ => Err("Concat of mixed types".to_string()),
                })
                .collect::<Result<_, _>>()?,
            dim,
        ))),
        Some(Value::Host(_)) => cat_host(vs, dim),
        Some(other) => Err(not_tensor(other)),
        None => Err("Concat of nothing".into()),
    }
}

/// `cat` of contiguous float32 tensors as block copies: for each index of the dims before
/// `dim`, each input's slab in turn, the output split into chunks copied in parallel when
/// large (DenseNet's concats). `None` (use Burn's) for other types, layouts or shapes.
fn cat_f32(vs: &[Value], dim: usize) -> Option<burn_flex::FlexTensor> {
    let first = vs.first()?.shape();
    if dim >= first.len() {
        return None;
    }
    let mut slices = Vec::with_capacity(vs.len());
    let mut total_dim = 0usize;
    for v in vs {
        let Value::Float(t) = v else { return None };
        let s = v.shape();
        if t.dtype() != burn_backend::DType::F32
            || s.len() != first.len()
            || s.iter()
                .enumerate()
                .any(|(i, &d)| i != dim && d != first[i])
            || !t.is_contiguous()
            || t.layout().start_offset() != 0
        {
            return None;
        }
        let n: usize = s.iter().product();
        slices.push((&t.as_slice::<f32>()?[..n], s[dim]));
        total_dim += s[dim];
    }
    let outer: usize = first[..dim].iter().product();
    let inner: usize = first[dim + 1..].iter().product();
    let mut out_shape = first.clone();
    out_shape[dim] = total_dim;
    let total = super::util::check_numel(&out_shape).ok()?;
    let mut pieces = Vec::with_capacity(outer * slices.len());
    let mut at = 0;
    for o in 0..outer {
        for (src, d) in &slices {
            let block = d * inner;
            pieces.push((&src[o * block..(o + 1) * block], at));
            at += block;
        }
    }
    let mut out: Vec<f32> = Vec::with_capacity(total);
    let dst = &mut out.spare_capacity_mut()[..total];
    let fill = |(c, part): (usize, &mut [std::mem::MaybeUninit<f32>])| {
        copy_pieces(&pieces, c * COPY_CHUNK, part);
    };
    if total >= 2 * COPY_CHUNK && rayon::current_num_threads() > 1 {
        dst.par_chunks_mut(COPY_CHUNK).enumerate().for_each(fill);
    } else {
        dst.chunks_mut(COPY_CHUNK).enumerate().for_each(fill);
    }
    // SAFETY: the pieces cover `0..total` back to back, so every value was written.
    unsafe { out.set_len(total) };
    Some(super::util::upload_f32(out, out_shape))
}

/// Output values per copy task of [`cat_f32`].
const COPY_CHUNK: usize = 1 << 15;

/// Writes `dst`, the output values from `lo` on, from the `(values, output offset)` pieces
/// that cover them (sorted, back to back).
fn copy_pieces(pieces: &[(&[f32], usize)], lo: usize, dst: &mut [std::mem::MaybeUninit<f32>]) {
    let hi = lo + dst.len();
    let mut i = pieces.partition_point(|&(s, at)| at + s.len() <= lo);
    while let Some(&(src, at)) = pieces.get(i).filter(|p| p.1 < hi) {
        let (a, b) = (lo.max(at), hi.min(at + src.len()));
        for (d, v) in dst[a - lo..b - lo].iter_mut().zip(&src[a - at..b - at]) {
            d.write(*v);
        }
        i += 1;
    }
}

/// `cat` of host tensors: indices into the joined elements are concatenated on the backend.
fn cat_host(vs: Vec<Value>, dim: usize) -> Result<Value, String> {
    let mut datas = Vec::with_capacity(vs.len());
    let mut indices = Vec::with_capacity(vs.len());
    let mut offset = 0i64;
    for v in vs {
        let Value::Host(t) = v else {
            return Err("Concat of mixed types".into());
        };
        let n = t.len() as i64;
        let idx = TensorData::from_i64(t.shape.clone(), (offset..offset + n).collect());
        indices.push(Value::upload(&idx)?);
        offset += n;
        datas.push(t);
    }
    let parts: Vec<&burnish_model::Buffer> = datas.iter().map(|t| &t.data).collect();
    let joined = burnish_model::Buffer::concat(&parts).ok_or("Concat of mixed types")?;
    let all = TensorData::new(vec![joined.len()], joined).map_err(|e| e.to_string())?;
    on_host(&all, |_| cat(indices, dim))
}

/// `Reshape(data, shape)` with `0` (copy, unless `allowzero`) and `-1` (infer).
pub fn reshape(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let allow_zero = ctx.int("allowzero", 0)? != 0;
    let attr_shape = ctx.ints("shape")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let target = match ins.opt(1) {
            Some(s) => s.host_i64()?,
            None => attr_shape.clone().ok_or("Reshape without a shape")?,
        };
        let out = reshape_dims(&x.shape(), &target, allow_zero)?;
        Ok(vec![x.reshape(&out)])
    })
}

/// Resolves an ONNX reshape target against an input shape.
pub fn reshape_dims(
    input: &[usize],
    target: &[i64],
    allow_zero: bool,
) -> Result<Vec<usize>, String> {
    let total: usize = input.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allow_zero => out.push(*input.get(i).ok_or_else(|| {
                format!("Reshape target {target:?} copies dim {i} that input {input:?} lacks")
            })?),
            d if d >= 0 => out.push(d as usize),
            _ => return Err(format!("invalid Reshape target {target:?}")),
        }
    }
    let product = |dims: &[usize]| dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if let Some(i) = infer {
        let known = product(&out).unwrap_or(0);
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {input:?} into {target:?}"));
        }
        out[i] = total / known;
    }
    if product(&out) != Some(total) {
        return Err(format!(
            "cannot reshape {input:?} ({total} elements) into {target:?}"
        ));
    }
    Ok(out)
}

/// `Flatten(axis)`.
pub fn flatten(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 1)?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        let r = s.len() as i64;
        let ax = if a < 0 { a + r } else { a };
        if ax < 0 || ax > r {
            return Err(format!("Flatten axis {a} out of range for rank {r}"));
        }
        let ax = ax as usize;
        let out = [s[..ax].iter().product(), s[ax..].iter().product()];
        Ok(vec![x.reshape(&out)])
    })
}

/// `Transpose(perm)` (reverse order by default).
pub fn transpose(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let perm = ctx.ints("perm")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let r = x.rank();
        let p: Vec<usize> = match &perm {
            Some(p) => p.iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?,
            None => (0..r).rev().collect(),
        };
        let mut seen = p.clone();
        seen.sort_unstable();
        if seen != (0..r).collect::<Vec<_>>() {
            return Err(format!("perm {p:?} is not a permutation of rank {r}"));
        }
        Ok(vec![permute(x, &p)?])
    })
}

/// `Squeeze(axes)`: the listed dims (all size-1 dims when none).
pub fn squeeze(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let from_input = ctx.opset >= 13;
    let attr = ctx.ints("axes")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        let list = if from_input {
            ins.opt(1).map(|v| v.host_i64()).transpose()?
        } else {
            attr.clone()
        };
        let out: Vec<usize> = match list {
            Some(l) if !l.is_empty() => {
                let ax = axes(&l, s.len())?;
                if let Some(&bad) = ax.iter().find(|&&a| s[a] != 1) {
                    return Err(format!(
                        "cannot squeeze dim {bad} of size {} in {s:?}",
                        s[bad]
                    ));
                }
                s.iter()
                    .enumerate()
                    .filter(|(i, _)| !ax.contains(i))
                    .map(|(_, &d)| d)
                    .collect()
            }
            _ => s.iter().copied().filter(|&d| d != 1).collect(),
        };
        Ok(vec![x.reshape(&out)])
    })
}

/// `Unsqueeze(axes)`.
pub fn unsqueeze(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let from_input = ctx.opset >= 13;
    let attr = ctx.ints("axes")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        let list = if from_input {
            ins.opt(1).map(|v| v.host_i64()).transpose()?
        } else {
            attr.clone()
        };
        let list = list.ok_or("Unsqueeze without axes")?;
        let rank = s.len() + list.len();
        let ax = axes(&list, rank)?;
        if ax.len() != list.len() {
            return Err(format!("Unsqueeze axes {list:?} repeat"));
        }
        let mut it = s.iter();
        let out: Vec<usize> = (0..rank)
            .map(|i| {
                if ax.contains(&i) {
                    1
                } else {
                    *it.next().unwrap_or(&1)
                }
            })
            .collect();
        Ok(vec![x.reshape(&out)])
    })
}

/// `Shape(start, end)`: the input's dims as int64.
pub fn shape(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let start = ctx.int("start", 0)?;
    let end = ctx
        .node
        .attrs
        .contains_key("end")
        .then(|| ctx.int("end", 0))
        .transpose()?;
    op(move |mut ins| {
        let s = ins.take(0)?.shape();
        let r = s.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let (a, b) = (clamp(start), clamp(end.unwrap_or(r)));
        let dims: Vec<i64> = s[a..b.max(a)].iter().map(|&d| d as i64).collect();
        Ok(vec![i64_value(vec![dims.len()], dims)?])
    })
}

/// `Size`: element count as an int64 scalar.
pub fn size(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| Ok(vec![i64_value(vec![], vec![ins.take(0)?.numel() as i64])?]))
}

/// `Expand(input, shape)`: bidirectional broadcast.
pub fn expand(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let x = ins.take(0)?;
        let target = ins.take(1)?.host_i64()?;
        if target.iter().any(|&d| d < 0) {
            return Err(format!("Expand to negative shape {target:?}"));
        }
        let t: Vec<usize> = target.iter().map(|&d| d as usize).collect();
        let out = broadcast_shape(&x.shape(), &t)?;
        super::util::check_numel(&out)?;
        Ok(vec![expand_to(x, &out)?])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::util::{host_f32, upload_f32};

    /// Concats of float32 tensors, small and large enough to copy in parallel chunks whose
    /// edges fall inside pieces, along the channel dim (one piece per input) and a later dim
    /// (a piece per outer index), match an index-by-index reference on 1 and 2 threads.
    #[test]
    fn float_concats_match_the_definition_on_threads() {
        for (shapes, dim) in [
            (vec![[1, 3, 4, 5], [1, 2, 4, 5]], 1),
            (vec![[1, 40, 30, 31], [1, 7, 30, 31], [1, 33, 30, 31]], 1),
            (vec![[2, 30, 17, 40], [2, 30, 5, 40], [2, 30, 21, 40]], 2),
        ] {
            let parts: Vec<Vec<f32>> = shapes
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let n: usize = s.iter().product();
                    (0..n).map(|i| (k * 1_000_000 + i) as f32).collect()
                })
                .collect();
            let total_dim: usize = shapes.iter().map(|s| s[dim]).sum();
            let mut want_shape = shapes[0];
            want_shape[dim] = total_dim;
            let mut want = Vec::new();
            let outer: usize = want_shape[..dim].iter().product();
            let inner: usize = want_shape[dim + 1..].iter().product();
            for o in 0..outer {
                for (p, s) in parts.iter().zip(&shapes) {
                    let block = s[dim] * inner;
                    want.extend_from_slice(&p[o * block..(o + 1) * block]);
                }
            }
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let vs: Vec<Value> = parts
                    .iter()
                    .zip(&shapes)
                    .map(|(p, s)| Value::Float(upload_f32(p.clone(), s.to_vec())))
                    .collect();
                let Value::Float(got) = pool.install(|| cat(vs, dim)).unwrap() else {
                    panic!("not a float");
                };
                assert_eq!(super::super::util::dims(&got), want_shape.to_vec());
                assert_eq!(host_f32(&got).unwrap(), want, "{shapes:?} dim {dim}");
            }
        }
    }
}
