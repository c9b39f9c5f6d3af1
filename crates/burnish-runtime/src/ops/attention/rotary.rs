//! `RotaryEmbedding` (opset 23): rotates the first `rotary_embedding_dim` features of each
//! head by the cached angles of its position, in halves or interleaved pairs.

use super::host::{f32s, float_input, rows_mut, upload};
use crate::ops::util::dims;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// How a row of `input` is laid out.
struct Layout {
    batch: usize,
    seq: usize,
    heads: usize,
    head: usize,
    /// `[batch, heads, seq, head]` (else `[batch, seq, heads * head]`).
    heads_first: bool,
}

impl Layout {
    /// The `(batch, seq)` position of row `r` (one head of one token).
    fn position(&self, r: usize) -> (usize, usize) {
        if self.heads_first {
            (r / (self.seq * self.heads), r % self.seq)
        } else {
            (r / (self.heads * self.seq), (r / self.heads) % self.seq)
        }
    }
}

fn non_negative(ctx: &BuildCtx, name: &str) -> Result<usize, String> {
    let v = ctx.int(name, 0)?;
    usize::try_from(v).map_err(|_| format!("attribute `{name}` must be >= 0, found {v}"))
}

/// `RotaryEmbedding(input, cos_cache, sin_cache, position_ids?)`.
pub fn rotary_embedding(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let interleaved = ctx.int("interleaved", 0)? != 0;
    let rotary_dim = non_negative(ctx, "rotary_embedding_dim")?;
    let num_heads = non_negative(ctx, "num_heads")?;
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "input")?;
        let cos = float_input(ins.take(1)?, "cos_cache")?;
        let sin = float_input(ins.take(2)?, "sin_cache")?;
        let pos = match ins.opt(3) {
            Some(p @ Value::Int(_)) => Some(p.host_i64()?),
            Some(other) => {
                return Err(format!(
                    "`position_ids` must be an integer tensor, found {}",
                    other.dtype()
                ));
            }
            None => None,
        };
        let s = dims(&x);
        let lay = match s[..] {
            [batch, heads, seq, head] => Layout {
                batch,
                seq,
                heads,
                head,
                heads_first: true,
            },
            [batch, seq, hidden] if num_heads > 0 && hidden % num_heads == 0 => Layout {
                batch,
                seq,
                heads: num_heads,
                head: hidden / num_heads,
                heads_first: false,
            },
            _ => {
                return Err(format!(
                    "`input` must be 4-D, or 3-D with `num_heads` dividing its last dim; \
                     found {s:?} with num_heads {num_heads}"
                ));
            }
        };
        let rd = if rotary_dim == 0 {
            lay.head
        } else {
            rotary_dim
        };
        if rd > lay.head || rd % 2 != 0 {
            return Err(format!(
                "rotary_embedding_dim {rd} must be even and at most the head size {}",
                lay.head
            ));
        }
        let half = rd / 2;
        let (cd, sd) = (dims(&cos), dims(&sin));
        if cd != sd {
            return Err(format!(
                "cos_cache {cd:?} and sin_cache {sd:?} differ in shape"
            ));
        }
        let tokens = lay.batch * lay.seq;
        let cache_rows: Vec<usize> = match &pos {
            Some(p) => {
                if cd.len() != 2 || cd[1] != half || p.len() != tokens {
                    return Err(format!(
                        "with position_ids {} values, the caches must be [max_position, {half}] \
                         and position_ids [{}, {}]; found caches {cd:?}",
                        p.len(),
                        lay.batch,
                        lay.seq
                    ));
                }
                p.iter()
                    .map(|&i| {
                        usize::try_from(i)
                            .ok()
                            .filter(|&i| i < cd[0])
                            .ok_or_else(|| {
                                format!(
                                    "position id {i} is out of range for caches of {} rows",
                                    cd[0]
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?
            }
            None => {
                if cd != [lay.batch, lay.seq, half] {
                    return Err(format!(
                        "without position_ids the caches must be [{}, {}, {half}], found {cd:?}",
                        lay.batch, lay.seq
                    ));
                }
                (0..tokens).collect()
            }
        };
        let (cs, sn) = (f32s(&cos)?, f32s(&sin)?);
        let mut out = f32s(&x)?.into_owned();
        rows_mut(&mut out, lay.head, |r, row| {
            let (b, t) = lay.position(r);
            let at = cache_rows[b * lay.seq + t] * half;
            let (c, sv) = (&cs[at..at + half], &sn[at..at + half]);
            for j in 0..half {
                let (i1, i2) = if interleaved {
                    (2 * j, 2 * j + 1)
                } else {
                    (j, j + half)
                };
                let (x1, x2) = (row[i1], row[i2]);
                row[i1] = c[j] * x1 - sv[j] * x2;
                row[i2] = sv[j] * x1 + c[j] * x2;
            }
        });
        Ok(vec![Value::Float(upload(out, s, x.dtype()))])
    })
}
