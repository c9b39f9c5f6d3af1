//! `burnish::QLut`: an elementwise function of int8 codes by lookup. The lowering of QDQ graphs
//! writes one for `DequantizeLinear -> (Sigmoid, Mul, HardSwish, Clip, ...) -> QuantizeLinear`
//! chains of one activation: the chain run once on all 256 codes gives the table, so
//! `table[x]` is what the float chain between the two quantizations computes for code `x`.

use burnish_kernels::lut::{Table2, lookup};
use burnish_model::Buffer;

use super::host::{Codes, codes, int_value};
use crate::ops::util::{broadcast_shape, expand_to};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// Builds `QLut(x, table)`: `table` a constant of 256 u8 or i8 codes indexed by `x`'s byte
/// (an i8 code `c` reads entry `c as u8`).
pub fn qlut(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let table = ctx
        .consts
        .get(1)
        .cloned()
        .flatten()
        .ok_or("QLut's table must be a constant")?;
    let entries = |n: usize| {
        (n == 256)
            .then_some(())
            .ok_or(format!("QLut's table has {n} entries, not 256"))
    };
    let signed = matches!(table.data, Buffer::I8(_));
    let table: [u8; 256] = match &table.data {
        Buffer::U8(v) => entries(v.len()).map(|()| std::array::from_fn(|i| v[i])),
        Buffer::I8(v) => entries(v.len()).map(|()| std::array::from_fn(|i| v[i] as u8)),
        _ => Err("QLut's table must be uint8 or int8".into()),
    }?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let shape = x.shape();
        let mut out = vec![0u8; x.numel()];
        match codes(&x, "QLut input")? {
            Codes::U8(v) => lookup(&table, &v, &mut out),
            c @ Codes::I8(_) => lookup(&table, c.bytes(), &mut out),
        }
        Ok(vec![if signed {
            int_value(out.into_iter().map(|c| c as i8).collect(), shape)
        } else {
            int_value(out, shape)
        }])
    })
}

/// Builds `QLut2(a, b, table)`: `table` a constant of 65,536 u8 or i8 codes indexed by
/// `256 * a + b` (the codes' bytes); `a` and `b` broadcast.
pub fn qlut2(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let table = ctx
        .consts
        .get(2)
        .cloned()
        .flatten()
        .ok_or("QLut2's table must be a constant")?;
    let signed = matches!(table.data, Buffer::I8(_));
    let table: Vec<u8> = match &table.data {
        Buffer::U8(v) => v.clone(),
        Buffer::I8(v) => v.iter().map(|&c| c as u8).collect(),
        _ => return Err("QLut2's table must be uint8 or int8".into()),
    };
    if table.len() != 1 << 16 {
        return Err(format!(
            "QLut2's table has {} entries, not 65536",
            table.len()
        ));
    }
    let table = Table2::new(table).map_err(|e| format!("QLut2: {e}"))?;
    op(move |mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        let shape = broadcast_shape(&a.shape(), &b.shape())?;
        let mut out = vec![0u8; shape.iter().product()];
        let (sa, sb) = (a.shape(), b.shape());
        let (ca, cb) = (codes(&a, "QLut2 input a")?, codes(&b, "QLut2 input b")?);
        let (ba, bb) = (ca.bytes(), cb.bytes());
        match (run_len(&sa, &shape), run_len(&sb, &shape)) {
            (Some(1), Some(n)) if n >= MIN_RUN => {
                for ((d, x), &y) in out.chunks_mut(n).zip(ba.chunks(n)).zip(bb) {
                    table.fixed_b(x, y, d);
                }
            }
            (Some(n), Some(1)) if n >= MIN_RUN => {
                for ((d, y), &x) in out.chunks_mut(n).zip(bb.chunks(n)).zip(ba) {
                    table.fixed_a(x, y, d);
                }
            }
            _ => {
                let wide = |v: &Value| expand_to(v.clone(), &shape);
                let (a, b) = (wide(&a)?, wide(&b)?);
                let (ca, cb) = (codes(&a, "QLut2 input a")?, codes(&b, "QLut2 input b")?);
                table.pairs(ca.bytes(), cb.bytes(), &mut out);
            }
        }
        Ok(vec![if signed {
            int_value(out.into_iter().map(|c| c as i8).collect(), shape)
        } else {
            int_value(out, shape)
        }])
    })
}

/// Runs shorter than this take the pairwise table even when one input is fixed over them.
const MIN_RUN: usize = 16;

/// When an input of shape `s` holds one value per run of `n` consecutive outputs of shape
/// `out` (equal to `out` on the leading axes, 1 on the trailing ones): `n` (1 when the
/// shapes are equal).
fn run_len(s: &[usize], out: &[usize]) -> Option<usize> {
    let pad = out.len().checked_sub(s.len())?;
    let dim = |i: usize| if i < pad { 1 } else { s[i - pad] };
    let lead = (0..out.len())
        .rev()
        .find(|&i| dim(i) != 1)
        .map_or(0, |i| i + 1);
    (0..lead)
        .all(|i| dim(i) == out[i])
        .then(|| out[lead..].iter().product())
}
