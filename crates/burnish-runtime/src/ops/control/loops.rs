//! `Loop` (a counted and/or conditional loop with loop-carried values and scan outputs) and
//! `SequenceMap` (a subgraph applied to every element of a sequence).

use burnish_model::{Buffer, DType, TensorData};

use super::{Body, split_inputs, truth};
use crate::ops::shape::{cat, i64_value};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// Most iterations a `Loop` runs before it is stopped as runaway.
pub const MAX_ITERATIONS: i64 = 1 << 31;

/// Stacks per-iteration values along a new leading axis; `empty` gives the result of zero
/// iterations.
pub(crate) fn stack(
    values: Vec<Value>,
    empty: impl FnOnce() -> Result<Value, String>,
) -> Result<Value, String> {
    if values.is_empty() {
        return empty();
    }
    let first = values[0].shape();
    let mut lifted = Vec::with_capacity(values.len());
    for v in values {
        if !v.is_tensor() {
            return Err(format!(
                "a scan output must be a tensor, found {}",
                v.kind()
            ));
        }
        let s = v.shape();
        if s != first {
            return Err(format!(
                "scan output shapes differ between iterations: {first:?} and {s:?}"
            ));
        }
        let mut one = vec![1];
        one.extend(s);
        lifted.push(v.reshape(&one));
    }
    cat(lifted, 0)
}

/// An empty tensor `[0, dims...]` of the body output's declared type (float32 and no further
/// dims when undeclared).
pub(crate) fn empty_like(body: &Body, output: usize) -> Result<Value, String> {
    let info = body.output_info.get(output);
    let dtype = info.and_then(|i| i.dtype).unwrap_or(DType::F32);
    let mut shape = vec![0];
    if let Some(dims) = info.and_then(|i| i.shape.as_ref()) {
        shape.extend(dims.iter().map(|d| match d {
            burnish_model::Dim::Fixed(n) => *n,
            _ => 0,
        }));
    }
    let data = Buffer::from_le_bytes(dtype, &[]).map_err(|e| e.to_string())?;
    Value::upload(&TensorData::new(shape, data).map_err(|e| e.to_string())?)
}

/// `Loop(M, cond, v_initial...)`: runs `body(iteration, cond, v...)` while the trip count and
/// the condition allow; outputs the final loop-carried values, then each scan output stacked
/// over the iterations.
pub fn loop_op(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let body = Body::compile(ctx, "body")?;
    let explicit = ctx.node.inputs.len();
    let carried = explicit.saturating_sub(2);
    if body.formal != carried + 2 {
        return Err(format!(
            "the body takes {} inputs, the loop passes {}",
            body.formal,
            carried + 2
        ));
    }
    if body.outputs < carried + 1 {
        return Err(format!(
            "the body has {} outputs, fewer than its condition and {carried} loop-carried values",
            body.outputs
        ));
    }
    let scans = body.outputs - 1 - carried;
    op(move |ins| {
        let (mut own, implicit) = split_inputs(ins, explicit)?;
        let trip = match own.first_mut().and_then(Option::take) {
            Some(m) => Some(*m.host_i64()?.first().ok_or("`M` is empty")?),
            None => None,
        };
        let mut cond = match own.get_mut(1).and_then(Option::take) {
            Some(c) => truth(&c, "cond")?,
            None => true,
        };
        let mut values: Vec<Value> = own
            .into_iter()
            .skip(2)
            .map(|v| v.ok_or_else(|| "a loop-carried input is missing".to_string()))
            .collect::<Result<_, _>>()?;
        let mut outs: Vec<Vec<Value>> = vec![Vec::new(); scans];
        let mut i = 0i64;
        while cond && trip.is_none_or(|m| i < m) {
            if i >= MAX_ITERATIONS {
                return Err(format!(
                    "the loop ran {MAX_ITERATIONS} iterations without ending"
                ));
            }
            let mut formal = vec![i64_value(vec![], vec![i])?, bool_scalar(cond)?];
            formal.append(&mut values);
            let mut res = body.run(formal, &implicit)?.into_iter();
            let c = res.next().ok_or("the body returned no condition")?;
            cond = truth(&c, "cond (body output)")?;
            values = res.by_ref().take(carried).collect();
            for (k, v) in res.enumerate() {
                outs[k].push(v);
            }
            i += 1;
        }
        for (k, per_iteration) in outs.into_iter().enumerate() {
            let total: usize = per_iteration.iter().map(Value::numel).sum();
            check_numel(&[total])?;
            values.push(stack(per_iteration, || empty_like(&body, 1 + carried + k))?);
        }
        Ok(values)
    })
}

fn bool_scalar(b: bool) -> Result<Value, String> {
    Value::upload(&TensorData::new(vec![], Buffer::Bool(vec![b])).map_err(|e| e.to_string())?)
}

/// `SequenceMap(input_sequence, additional_inputs...)`: runs `body` on the i-th element of
/// every sequence input (tensor inputs are passed whole); each body output becomes a sequence.
pub fn sequence_map(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let body = Body::compile(ctx, "body")?;
    let explicit = ctx.node.inputs.len();
    if body.formal != explicit {
        return Err(format!(
            "the body takes {} inputs, the node has {explicit}",
            body.formal
        ));
    }
    op(move |ins| {
        let (own, implicit) = split_inputs(ins, explicit)?;
        let own: Vec<Value> = own
            .into_iter()
            .map(|v| v.ok_or_else(|| "an input is missing".to_string()))
            .collect::<Result<_, _>>()?;
        let Some(Value::Sequence(first)) = own.first() else {
            return Err("`input_sequence` must be a sequence".into());
        };
        let n = first.len();
        for v in &own {
            if let Value::Sequence(s) = v
                && s.len() != n
            {
                return Err(format!("sequence inputs have {n} and {} elements", s.len()));
            }
        }
        let mut outs: Vec<Vec<Value>> = vec![Vec::with_capacity(n); body.outputs];
        for i in 0..n {
            let formal = own
                .iter()
                .map(|v| match v {
                    Value::Sequence(s) => s[i].clone(),
                    other => other.clone(),
                })
                .collect();
            for (k, v) in body.run(formal, &implicit)?.into_iter().enumerate() {
                outs[k].push(v);
            }
        }
        Ok(outs.into_iter().map(Value::Sequence).collect())
    })
}
