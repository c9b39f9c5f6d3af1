//! Helpers shared by the op families: type checks, axes, broadcasting.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_backend::{Shape, TensorMetadata};
use burn_flex::FlexTensor;

use std::sync::Arc;

use burnish_model::TensorData;

use crate::value::{B, Value};

/// The float tensor inside `v`, or an error naming what was found.
pub fn float(v: Value) -> Result<FlexTensor, String> {
    match v {
        Value::Float(t) => Ok(t),
        other => Err(format!("expected a float tensor, found {}", other.dtype())),
    }
}

/// Normalizes a possibly negative axis for a tensor of `rank` dimensions.
pub fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r.max(1) {
        return Err(format!("axis {a} is out of range for rank {rank}"));
    }
    Ok(n as usize)
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(format!(
                    "shapes {a:?} and {b:?} cannot be broadcast together"
                ));
            }
        };
    }
    check_numel(&out)?;
    Ok(out)
}

/// Reshapes `v` to `rank` dimensions by prepending ones.
pub fn lift_rank(v: Value, rank: usize) -> Value {
    let shape = v.shape();
    if shape.len() >= rank {
        return v;
    }
    let mut s = vec![1; rank - shape.len()];
    s.extend(shape);
    v.reshape(&s)
}

/// Expands `v` to exactly `shape` (broadcasting dims of size one).
pub fn expand_to(v: Value, shape: &[usize]) -> Result<Value, String> {
    if v.shape() == shape {
        return Ok(v);
    }
    let v = lift_rank(v, shape.len());
    let s = Shape::from(shape.to_vec());
    Ok(match v {
        Value::Float(t) => Value::Float(B::float_expand(t, s)),
        Value::Int(t) => Value::Int(B::int_expand(t, s)),
        Value::Bool(t) => Value::Bool(B::bool_expand(t, s)),
        Value::Host(t) => return on_host(&t, |i| expand_to(i, shape)),
        other => return Err(not_tensor(&other)),
    })
}

/// The error for a sequence or optional where an op needs a tensor.
pub fn not_tensor(v: &Value) -> String {
    format!("expected a tensor, found {}", v.kind())
}

/// The error for a value whose element type an op does not take.
pub fn unsupported_value(op: &str, v: &Value) -> String {
    format!("{op} does not take {}", v.kind())
}

/// Runs a structural op (one that only moves, repeats or drops elements) on a host tensor
/// (strings, float8, ...): `f` runs on a backend tensor of element indices of the same shape,
/// and the host elements are picked by the indices it returns.
pub fn on_host(
    t: &TensorData,
    f: impl FnOnce(Value) -> Result<Value, String>,
) -> Result<Value, String> {
    let n = t.len() as i64;
    let idx = Value::upload(&TensorData::from_i64(t.shape.clone(), (0..n).collect()))?;
    let moved = f(idx)?;
    let shape = moved.shape();
    let picked: Vec<usize> = moved
        .host_i64()?
        .into_iter()
        .map(|i| usize::try_from(i).unwrap_or(usize::MAX))
        .collect();
    let data = t
        .data
        .select(&picked)
        .ok_or("an element index is out of range")?;
    let out = TensorData::new(shape, data).map_err(|e| e.to_string())?;
    Ok(Value::Host(Arc::new(out)))
}

/// Shape of a primitive, as a vector.
pub fn dims(t: &FlexTensor) -> Vec<usize> {
    t.shape().to_vec()
}

/// Converts a float tensor to a Vec<f32> on the host (any float dtype).
pub fn host_f32(t: &FlexTensor) -> Result<Vec<f32>, String> {
    if t.dtype() == burn_backend::DType::F32
        && let Some(s) = dense(t.clone()).as_slice::<f32>()
    {
        return Ok(s.to_vec());
    }
    let v = Value::Float(t.clone()).host_f64()?;
    Ok(v.into_iter().map(|x| x as f32).collect())
}

/// Uploads a host f32 vector with `shape`.
pub fn upload_f32(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    use burn_backend::TensorData;
    B::float_from_data(
        TensorData::new(data, Shape::from(shape)),
        &crate::value::device(),
    )
}

/// Resolves a list of axes (possibly negative) for `rank`, sorted and deduplicated.
pub fn axes(list: &[i64], rank: usize) -> Result<Vec<usize>, String> {
    let mut out = list
        .iter()
        .map(|&a| axis(a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Checks, before anything is allocated, that a tensor of `shape` fits the memory budget
/// (`--max-memory`, see [`burnish_model::limits`]) when its elements take `elem_bytes`;
/// returns its element count. The one check every op makes before creating a tensor whose
/// size comes from attributes or data.
pub fn check_alloc(shape: &[usize], elem_bytes: usize) -> Result<usize, String> {
    burnish_model::limits::check_tensor(shape, elem_bytes).map_err(|e| e.to_string())?;
    Ok(shape.iter().product())
}

/// [`check_alloc`] for 4-byte elements (f32 buffers, the common case).
pub fn check_numel(shape: &[usize]) -> Result<usize, String> {
    check_alloc(shape, 4)
}

/// The elements of a float tensor as f32, in row-major order (other float types converted).
pub(crate) fn f32s(t: &FlexTensor) -> Result<std::borrow::Cow<'_, [f32]>, String> {
    if t.dtype() == burn_backend::DType::F32 {
        if let Some(s) = t.as_slice::<f32>() {
            return Ok(std::borrow::Cow::Borrowed(s));
        }
        if let Some(s) = t.to_contiguous().as_slice::<f32>() {
            return Ok(std::borrow::Cow::Owned(s.to_vec()));
        }
    }
    Ok(std::borrow::Cow::Owned(host_f32(t)?))
}

/// `t` in row-major order starting at offset 0: unchanged when it already is, else copied.
/// Views whose innermost (merged) run is at least 8 values long copy run by run: contiguous
/// runs (a channel shuffle's transposed `[n, g, c, h, w]`, a time-reversed sequence's
/// negative outer stride: CRNN's backward LSTM input 1.8 -> 0.1 ms) as bytes, f32 runs of stride 2 (the
/// `Slice`s of a YOLOX Focus layer: their `Concat` 0.44 -> 0.22 ms on 4 x 3 x 208 x 208) through the
/// kernels' even-value gather; f32 views with a strided innermost dim and a contiguous other
/// dim (transposes) in tiles ([`transposed`]); other views use flex's copy.
pub fn dense(t: FlexTensor) -> FlexTensor {
    let layout = t.layout();
    if layout.is_contiguous() && layout.start_offset() == 0 {
        return t;
    }
    let mut dims: Vec<(usize, isize)> = Vec::new();
    for (&n, &s) in layout.shape().iter().zip(layout.strides()) {
        if n == 1 {
            continue;
        }
        match dims.last_mut() {
            Some((pn, ps)) if *ps == s * n as isize => {
                *pn *= n;
                *ps = s;
            }
            _ => dims.push((n, s)),
        }
    }
    let Some(&(run, step)) = dims.last() else {
        return t.to_contiguous();
    };
    if step > 2
        && t.dtype() == burn_backend::DType::F32
        && dims.iter().all(|&(_, s)| s > 0)
        && let Some(k) = dims.iter().position(|&(_, s)| s == 1)
    {
        let out = transposed(t.storage(), layout.start_offset(), &dims, k);
        return upload_f32(out, layout.shape().to_vec());
    }
    if run < 8 || !matches!(step, 1 | 2) {
        return t.to_contiguous();
    }
    let outer = &dims[..dims.len() - 1];
    let starts = run_starts(outer, layout.start_offset());
    if step == 2 {
        if t.dtype() != burn_backend::DType::F32 {
            return t.to_contiguous();
        }
        let src: &[f32] = t.storage();
        let mut out = vec![0f32; starts.len() * run];
        for (dst, &at) in out.chunks_exact_mut(run).zip(&starts) {
            burnish_kernels::f32::phase::evens(&src[at..at + 2 * run - 1], dst);
        }
        return upload_f32(out, layout.shape().to_vec());
    }
    let esize = t.dtype().size();
    let src = t.bytes();
    let run_bytes = run * esize;
    let mut out = Vec::with_capacity(starts.len() * run_bytes);
    for at in starts {
        out.extend_from_slice(&src[at * esize..][..run_bytes]);
    }
    let shape = layout.shape().clone();
    FlexTensor::from_data(burn_backend::TensorData::from_bytes_vec(
        out,
        shape,
        t.dtype(),
    ))
}

/// Side of the square tiles [`transposed`] copies.
const TILE: usize = 16;

/// The values of a view (merged `(size, stride)` dims from `start`) whose innermost dim is
/// strided and dim `k` contiguous, as a `Transpose` that moved the last axis leaves them
/// (CRNN's `[n, c, h, w] -> [w, n, c, h]` before its LSTM), in row-major order: 16 x 16 tiles
/// of dims `k` and the last, read along `k` into a register-sized buffer and written along the
/// last a whole tile row at a time (output rows a power of two apart share one L1 set, which
/// value-by-value stores thrash).
/// Flex's element-by-element copy of such a view ran at 1.4 GB/s (8 x 512 x 8 x 20: 1.8 ms).
fn transposed(src: &[f32], start: usize, dims: &[(usize, isize)], k: usize) -> Vec<f32> {
    let last = dims.len() - 1;
    let mut ostride = vec![1usize; dims.len()];
    for d in (0..last).rev() {
        ostride[d] = ostride[d + 1] * dims[d + 1].0;
    }
    let mut out = vec![0f32; ostride[0] * dims[0].0];
    let (nk, nl, sl, ok) = (dims[k].0, dims[last].0, dims[last].1 as usize, ostride[k]);
    let others = |strides: &dyn Fn(usize) -> isize| -> Vec<(usize, isize)> {
        (0..last)
            .filter(|&d| d != k)
            .map(|d| (dims[d].0, strides(d)))
            .collect()
    };
    let inputs = run_starts(&others(&|d| dims[d].1), start);
    let outputs = run_starts(&others(&|d| ostride[d] as isize), 0);
    let mut tile = [[0f32; TILE]; TILE];
    for (&bi, &bo) in inputs.iter().zip(&outputs) {
        for k0 in (0..nk).step_by(TILE) {
            let tk = TILE.min(nk - k0);
            for l0 in (0..nl).step_by(TILE) {
                let tl = TILE.min(nl - l0);
                for l in 0..tl {
                    let row = &src[bi + (l0 + l) * sl + k0..][..tk];
                    for (j, &v) in row.iter().enumerate() {
                        tile[j][l] = v;
                    }
                }
                for (j, t) in tile.iter().enumerate().take(tk) {
                    let at = bo + (k0 + j) * ok + l0;
                    out[at..at + tl].copy_from_slice(&t[..tl]);
                }
            }
        }
    }
    out
}

/// The element offset of every run of a view, outer dims in row-major order: `outer` are the
/// merged (size, stride) dims above the innermost run.
fn run_starts(outer: &[(usize, isize)], start: usize) -> Vec<usize> {
    let count: usize = outer.iter().map(|d| d.0).product();
    let mut idx = vec![0usize; outer.len()];
    let mut starts = Vec::with_capacity(count);
    for _ in 0..count {
        let at: isize = idx
            .iter()
            .zip(outer)
            .map(|(&i, &(_, s))| i as isize * s)
            .sum();
        // A view's every element lies inside its storage, so the offset is not negative.
        starts.push(start.wrapping_add_signed(at));
        for d in (0..outer.len()).rev() {
            idx[d] += 1;
            if idx[d] < outer[d].0 {
                break;
            }
            idx[d] = 0;
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_backend::ops::IntTensorOps;

    fn values(t: &FlexTensor) -> Vec<f64> {
        Value::Float(t.clone()).to_f64_vec().unwrap()
    }

    #[test]
    fn dense_matches_flex_copy_on_views() {
        let x = upload_f32(
            (0..2 * 6 * 5 * 9).map(|v| v as f32).collect(),
            vec![2, 6, 5, 9],
        );
        let shuffled = B::float_reshape(x.clone(), Shape::from(vec![2, 3, 2, 5, 9]));
        let views = [
            B::float_permute(shuffled, &[0, 2, 1, 3, 4]),
            B::float_permute(x.clone(), &[0, 2, 1, 3]),
            B::float_permute(x.clone(), &[0, 1, 3, 2]),
            x.clone().narrow(1, 2, 3),
            x.clone().narrow(3, 1, 8),
            B::float_expand(
                upload_f32((0..9).map(|v| v as f32).collect(), vec![1, 1, 9]),
                Shape::from(vec![4, 3, 9]),
            ),
        ];
        let wide = upload_f32(
            (0..2 * 3 * 6 * 21).map(|v| v as f32).collect(),
            vec![2, 3, 6, 21],
        );
        let every2 = |h0: isize, w0: isize| {
            let s = |a: isize, step: isize| burn_backend::Slice::new(a, None, step);
            B::float_slice(wide.clone(), &[s(0, 1), s(0, 1), s(h0, 2), s(w0, 2)])
        };
        let rev = |t: &FlexTensor, rank: usize| {
            let mut s: Vec<burn_backend::Slice> = (0..rank)
                .map(|_| burn_backend::Slice::new(0, None, 1))
                .collect();
            s[0] = burn_backend::Slice::new(0, None, -1);
            B::float_slice(t.clone(), &s)
        };
        let big = upload_f32(
            (0..3 * 40 * 37).map(|v| v as f32).collect(),
            vec![3, 40, 37],
        );
        let transposes = [
            B::float_permute(x.clone(), &[3, 0, 1, 2]),
            B::float_permute(x.clone(), &[2, 3, 0, 1]),
            B::float_permute(x.clone().narrow(1, 1, 4), &[3, 1, 0, 2]),
            B::float_permute(big.clone(), &[2, 0, 1]),
            B::float_permute(big.clone().narrow(2, 3, 30), &[0, 2, 1]),
            rev(&big, 3),
            rev(&wide, 4),
        ];
        let views = views
            .into_iter()
            .chain([every2(0, 0), every2(1, 1), every2(0, 1), every2(1, 0)])
            .chain(transposes);
        for v in views {
            if std::env::var_os("XDBG").is_some() {
                eprintln!("{:?}", v.layout());
            }
            let want = values(&v.to_contiguous());
            let got = dense(v.clone());
            assert!(got.is_contiguous() && got.layout().start_offset() == 0);
            assert_eq!(dims(&got), dims(&v));
            assert_eq!(values(&got), want, "{:?}", v.layout());
        }
        let ints = B::int_permute(
            B::int_reshape(
                B::int_from_data(
                    burn_backend::TensorData::new((0..240i64).collect(), vec![4, 6, 10]),
                    &crate::value::device(),
                ),
                Shape::from(vec![2, 2, 6, 10]),
            ),
            &[1, 0, 2, 3],
        );
        let got = Value::Int(dense(ints.clone())).to_f64_vec().unwrap();
        let want = Value::Int(ints.to_contiguous()).to_f64_vec().unwrap();
        assert_eq!(got, want);
    }
}
