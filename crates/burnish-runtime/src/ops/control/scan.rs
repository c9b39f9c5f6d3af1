//! `Scan`: a subgraph run once per slice of its scan inputs, carrying state from one slice to
//! the next, with per-slice outputs stacked (opset 8 adds a batch axis and `sequence_lens`).

use burn_backend::Slice;

use super::loops::{empty_like, stack};
use super::{Body, split_inputs};
use crate::ops::shape::{cat, permute, slice};
use crate::ops::util::axis;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// What a `Scan` node does, parsed once.
struct Spec {
    states: usize,
    inputs: usize,
    input_axes: Vec<i64>,
    input_reverse: Vec<bool>,
    output_axes: Vec<i64>,
    output_reverse: Vec<bool>,
}

/// `Scan`: opset 9+ form, and the opset 8 form with its batch axis and `sequence_lens`.
pub fn scan(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let body = Body::compile(ctx, "body")?;
    let explicit = ctx.node.inputs.len();
    let batched = ctx.opset < 9;
    let m = usize::try_from(ctx.int("num_scan_inputs", -1)?)
        .map_err(|_| "`num_scan_inputs` is required and must be positive".to_string())?;
    let given = explicit - usize::from(batched);
    let n = given
        .checked_sub(m)
        .ok_or_else(|| format!("`num_scan_inputs` {m} exceeds the {given} inputs"))?;
    if body.formal != n + m || body.outputs < n {
        return Err(format!(
            "the body takes {} inputs and has {} outputs, for {n} states and {m} scan inputs",
            body.formal, body.outputs
        ));
    }
    let k = body.outputs - n;
    let directions = |name: &str, len: usize| -> Result<Vec<bool>, String> {
        let d = ctx.ints(name)?.unwrap_or_else(|| vec![0; len]);
        if d.len() != len || d.iter().any(|&x| x != 0 && x != 1) {
            return Err(format!(
                "`{name}` must hold {len} values of 0 or 1, found {d:?}"
            ));
        }
        Ok(d.into_iter().map(|x| x == 1).collect())
    };
    let axes = |name: &str, len: usize| -> Result<Vec<i64>, String> {
        let a = ctx.ints(name)?.unwrap_or_else(|| vec![0; len]);
        if a.len() != len {
            return Err(format!("`{name}` must hold {len} axes, found {a:?}"));
        }
        Ok(a)
    };
    let spec = Spec {
        states: n,
        inputs: m,
        input_reverse: directions(
            if batched {
                "directions"
            } else {
                "scan_input_directions"
            },
            m,
        )?,
        input_axes: axes("scan_input_axes", m)?,
        output_axes: axes("scan_output_axes", k)?,
        output_reverse: directions("scan_output_directions", k)?,
    };
    op(move |ins| {
        let (own, implicit) = split_inputs(ins, explicit)?;
        let mut own = own.into_iter();
        let lens = if batched { own.next().flatten() } else { None };
        let values: Vec<Value> = own
            .map(|v| v.ok_or_else(|| "a Scan input is missing".to_string()))
            .collect::<Result<_, _>>()?;
        if !batched {
            return run_scan(&body, &spec, values, &implicit, None);
        }
        run_batched(&body, &spec, values, lens, &implicit)
    })
}

/// One scan over unbatched values (`limit` caps the sequence length, for opset 8).
fn run_scan(
    body: &Body,
    spec: &Spec,
    values: Vec<Value>,
    implicit: &[Value],
    limit: Option<usize>,
) -> Result<Vec<Value>, String> {
    let (mut states, scanned) = {
        let mut v = values;
        let rest = v.split_off(spec.states);
        (v, rest)
    };
    let mut axes = Vec::with_capacity(spec.inputs);
    let mut length = None;
    for (j, x) in scanned.iter().enumerate() {
        let shape = x.shape();
        let a = axis(spec.input_axes[j], shape.len())?;
        let len = shape[a];
        if length.is_some_and(|l| l != len) {
            return Err(format!(
                "scan inputs have different lengths along their axes: {length:?} and {len}"
            ));
        }
        length = Some(len);
        axes.push(a);
    }
    let full = length.unwrap_or(0);
    let steps = limit.map_or(full, |l| l.min(full));
    let k = body.outputs - spec.states;
    let mut outs: Vec<Vec<Value>> = vec![Vec::with_capacity(steps); k];
    for t in 0..steps {
        let mut formal = std::mem::take(&mut states);
        for (j, x) in scanned.iter().enumerate() {
            let at = if spec.input_reverse[j] {
                full - 1 - t
            } else {
                t
            };
            formal.push(take_index(x.clone(), axes[j], at)?);
        }
        let mut res = body.run(formal, implicit)?;
        let rest = res.split_off(spec.states);
        states = res;
        for (o, v) in rest.into_iter().enumerate() {
            outs[o].push(v);
        }
    }
    for (o, mut per_step) in outs.into_iter().enumerate() {
        if spec.output_reverse[o] {
            per_step.reverse();
        }
        let stacked = stack(per_step, || empty_like(body, spec.states + o))?;
        let rank = stacked.rank();
        let a = axis(spec.output_axes[o], rank)?;
        states.push(if a == 0 {
            stacked
        } else {
            let mut perm: Vec<usize> = (1..rank).collect();
            perm.insert(a, 0);
            permute(stacked, &perm)?
        });
    }
    Ok(states)
}

/// Element `at` of axis `a`, with that axis removed.
fn take_index(x: Value, a: usize, at: usize) -> Result<Value, String> {
    let mut shape = x.shape();
    let ranges: Vec<Slice> = shape
        .iter()
        .enumerate()
        .map(|(d, &n)| {
            if d == a {
                Slice::new(at as isize, Some(at as isize + 1), 1)
            } else {
                Slice::new(0, Some(n as isize), 1)
            }
        })
        .collect();
    let v = slice(x, &ranges)?;
    shape.remove(a);
    Ok(v.reshape(&shape))
}

/// Opset 8: every input has a leading batch axis; each batch row scans on its own (along
/// axis 1 of the scan inputs, up to its `sequence_lens`), and the results are stacked back.
fn run_batched(
    body: &Body,
    spec: &Spec,
    values: Vec<Value>,
    lens: Option<Value>,
    implicit: &[Value],
) -> Result<Vec<Value>, String> {
    let batch = values
        .first()
        .map_or(0, |v| v.shape().first().copied().unwrap_or(0));
    let lens: Option<Vec<i64>> = lens.map(|l| l.host_i64()).transpose()?;
    let spec = Spec {
        input_axes: vec![0; spec.inputs],
        output_axes: vec![0; spec.output_axes.len()],
        input_reverse: spec.input_reverse.clone(),
        output_reverse: spec.output_reverse.clone(),
        ..*spec
    };
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(batch);
    for b in 0..batch {
        let row = values
            .iter()
            .map(|v| take_index(v.clone(), 0, b))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = match &lens {
            Some(l) => Some(
                usize::try_from(
                    *l.get(b)
                        .ok_or("`sequence_lens` is shorter than the batch")?,
                )
                .map_err(|_| "`sequence_lens` holds a negative length".to_string())?,
            ),
            None => None,
        };
        rows.push(run_scan(body, &spec, row, implicit, limit)?);
    }
    let outputs = body.outputs;
    (0..outputs)
        .map(|o| {
            let per_row: Vec<Value> = rows.iter().map(|r| r[o].clone()).collect();
            let lifted = per_row
                .into_iter()
                .map(|v| {
                    let mut s = vec![1];
                    s.extend(v.shape());
                    v.reshape(&s)
                })
                .collect();
            cat(lifted, 0)
        })
        .collect()
}
