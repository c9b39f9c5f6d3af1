//! `Einsum`: parses the equation once (repeated labels, `...`, implicit output), then runs as
//! Burn tensor ops: diagonals by `select`, lone labels summed early, each pair of operands
//! contracted by one batched matmul, and a final sum and permute to the output order.

use burn_backend::ops::{FloatTensorOps, IntTensorOps};
use burnish_model::DType;

use super::host::{value, zeros};
use super::select::select_rows;
use crate::ops::generate::cast_value;
use crate::ops::shape::permute;
use crate::ops::util::expand_to;
use crate::ops::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// One term of the equation: its letters, and where `...` sits (letters before it).
#[derive(Clone, Debug, PartialEq)]
struct Term {
    letters: Vec<u32>,
    ellipsis: Option<usize>,
}

fn parse_term(t: &str) -> Result<Term, String> {
    let mut letters = Vec::new();
    let mut ellipsis = None;
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("...") {
            if ellipsis.is_some() {
                return Err(format!("term `{t}` has more than one ellipsis"));
            }
            ellipsis = Some(letters.len());
            rest = &rest[3..];
        } else if c.is_ascii_alphabetic() {
            letters.push(c as u32);
            rest = &rest[1..];
        } else {
            return Err(format!("unexpected `{c}` in einsum term `{t}`"));
        }
    }
    Ok(Term { letters, ellipsis })
}

/// The parsed equation.
#[derive(Clone, Debug)]
struct Equation {
    inputs: Vec<Term>,
    output: Option<Term>,
}

fn parse(eq: &str) -> Result<Equation, String> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    Ok(Equation {
        inputs: lhs.split(',').map(parse_term).collect::<Result<_, _>>()?,
        output: rhs.as_deref().map(parse_term).transpose()?,
    })
}

/// Labels of a term for an operand of `rank` dims; ellipsis dims get labels `e - k .. e`
/// (right-aligned against `e` broadcast dims).
fn labels(t: &Term, rank: Option<usize>, e: usize) -> Result<Vec<u32>, String> {
    let n = t.letters.len();
    let Some(at) = t.ellipsis else {
        if rank.is_some_and(|r| r != n) {
            return Err(format!(
                "term of {n} labels for an operand of rank {rank:?}"
            ));
        }
        return Ok(t.letters.clone());
    };
    let k = match rank {
        Some(r) => r
            .checked_sub(n)
            .ok_or_else(|| format!("term of {n} labels for an operand of rank {r}"))?,
        None => e,
    };
    let mut out = t.letters[..at].to_vec();
    out.extend((e - k..e).map(|l| l as u32));
    out.extend_from_slice(&t.letters[at..]);
    Ok(out)
}

/// An operand with one label per dim.
struct Operand {
    v: Value,
    labels: Vec<u32>,
}

fn sum_dims(v: Value, dims: &[usize]) -> Value {
    if dims.is_empty() {
        return v;
    }
    let mut shape = v.shape();
    let mut v = v;
    for &d in dims {
        v = match v {
            Value::Float(t) => Value::Float(B::float_sum_dim(t, d)),
            Value::Int(t) => Value::Int(B::int_sum_dim(t, d)),
            other => other,
        };
    }
    let keep: Vec<usize> = (0..shape.len()).filter(|d| !dims.contains(d)).collect();
    shape = keep.iter().map(|&d| shape[d]).collect();
    v.reshape(&shape)
}

impl Operand {
    /// Takes diagonals until every label appears once.
    fn diagonals(mut self) -> Result<Self, String> {
        while let Some((i, j)) = (0..self.labels.len()).find_map(|i| {
            (i + 1..self.labels.len())
                .find(|&j| self.labels[j] == self.labels[i])
                .map(|j| (i, j))
        }) {
            let shape = self.v.shape();
            let n = shape[i];
            if shape[j] != n {
                return Err(format!("repeated label with sizes {n} and {}", shape[j]));
            }
            let mut perm: Vec<usize> = (0..shape.len()).filter(|&d| d != i && d != j).collect();
            let mut lab: Vec<u32> = perm.iter().map(|&d| self.labels[d]).collect();
            let mut out: Vec<usize> = perm.iter().map(|&d| shape[d]).collect();
            perm.extend([i, j]);
            lab.push(self.labels[i]);
            let mut flat = out.clone();
            flat.push(n * n);
            out.push(n);
            let v = permute(self.v, &perm)?.reshape(&flat);
            let rows = (0..n).map(|k| (k * (n + 1)) as i64).collect();
            self.v = select_rows(v, flat.len() - 1, rows, &out)?;
            self.labels = lab;
        }
        Ok(self)
    }

    /// Sums the dims whose labels `keep` rejects.
    fn sum_unless(self, keep: impl Fn(u32) -> bool) -> Self {
        let dims: Vec<usize> = (0..self.labels.len())
            .filter(|&d| !keep(self.labels[d]))
            .collect();
        Operand {
            labels: self.labels.iter().copied().filter(|&l| keep(l)).collect(),
            v: sum_dims(self.v, &dims),
        }
    }

    /// Permutes to `order` and expands each dim to the label's size in `sizes`.
    fn arrange(self, order: &[u32], size: &dyn Fn(u32) -> usize) -> Result<Value, String> {
        let perm: Vec<usize> = order
            .iter()
            .filter_map(|l| self.labels.iter().position(|m| m == l))
            .collect();
        let v = permute(self.v, &perm)?;
        let full: Vec<usize> = order.iter().map(|&l| size(l)).collect();
        expand_to(v, &full)
    }
}

fn matmul(a: Value, b: Value) -> Result<Value, String> {
    Ok(match (a, b) {
        (Value::Float(a), Value::Float(b)) => Value::Float(B::float_matmul(a, b)),
        (Value::Int(a), Value::Int(b)) => Value::Int(B::int_matmul(a, b)),
        _ => return Err("Einsum operands must share one numeric type".into()),
    })
}

/// Contracts `a` with `b`, keeping the labels `needed` says later steps use.
fn contract(
    a: Operand,
    b: Operand,
    needed: &dyn Fn(u32) -> bool,
    size: &dyn Fn(u32) -> usize,
) -> Result<Operand, String> {
    let a = a.sum_unless(|l| b.labels.contains(&l) || needed(l));
    let b = b.sum_unless(|l| a.labels.contains(&l) || needed(l));
    let batch: Vec<u32> = a
        .labels
        .iter()
        .copied()
        .filter(|l| b.labels.contains(l) && needed(*l))
        .collect();
    let inner: Vec<u32> = a
        .labels
        .iter()
        .copied()
        .filter(|l| b.labels.contains(l) && !needed(*l))
        .collect();
    let left: Vec<u32> = a
        .labels
        .iter()
        .copied()
        .filter(|l| !b.labels.contains(l))
        .collect();
    let right: Vec<u32> = b
        .labels
        .iter()
        .copied()
        .filter(|l| !a.labels.contains(l))
        .collect();
    let prod = |ls: &[u32]| ls.iter().map(|&l| size(l)).product::<usize>();
    let (bt, m, k, n) = (prod(&batch), prod(&left), prod(&inner), prod(&right));
    let order_a: Vec<u32> = [&batch[..], &left, &inner].concat();
    let order_b: Vec<u32> = [&batch[..], &inner, &right].concat();
    let va = a.arrange(&order_a, size)?.reshape(&[bt, m, k]);
    let vb = b.arrange(&order_b, size)?.reshape(&[bt, k, n]);
    let labels: Vec<u32> = [&batch[..], &left, &right].concat();
    let shape: Vec<usize> = labels.iter().map(|&l| size(l)).collect();
    let v = if bt * m * k * n == 0 {
        value(vec![bt, m, n], zeros(va.dtype(), bt * m * n)?)?
    } else {
        matmul(va, vb)?
    };
    Ok(Operand {
        v: v.reshape(&shape),
        labels,
    })
}

/// `Einsum(inputs...)` with `equation`.
pub fn einsum(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eq = parse(&ctx.string("equation", "")?)?;
    if eq.inputs.len() != ctx.node.inputs.len() {
        return Err(format!(
            "equation has {} terms for {} inputs",
            eq.inputs.len(),
            ctx.node.inputs.len()
        ));
    }
    op(move |ins| {
        let vals = ins.take_all();
        if vals.len() != eq.inputs.len() {
            return Err(format!(
                "equation has {} terms for {} inputs",
                eq.inputs.len(),
                vals.len()
            ));
        }
        run(&eq, vals)
    })
}

fn run(eq: &Equation, vals: Vec<Value>) -> Result<Vec<Value>, String> {
    let dtype = vals
        .first()
        .map(Value::dtype)
        .ok_or("Einsum needs an input")?;
    let wide = dtype.is_int() && !matches!(dtype, DType::I32 | DType::I64);
    let e = eq
        .inputs
        .iter()
        .zip(&vals)
        .map(|(t, v)| v.rank().saturating_sub(t.letters.len()) * t.ellipsis.is_some() as usize)
        .max()
        .unwrap_or(0);
    let mut ops = Vec::with_capacity(vals.len());
    let mut sizes: std::collections::HashMap<u32, usize> = Default::default();
    for (t, v) in eq.inputs.iter().zip(vals) {
        if v.dtype() != dtype || matches!(v, Value::Bool(_)) {
            return Err(format!(
                "Einsum operands must share one numeric type, found {} and {}",
                dtype,
                v.dtype()
            ));
        }
        let v = if wide { cast_value(v, DType::I64)? } else { v };
        let labels = labels(t, Some(v.rank()), e)?;
        for (&l, &d) in labels.iter().zip(&v.shape()) {
            let s = sizes.entry(l).or_insert(d);
            match (*s, d) {
                (x, y) if x == y => {}
                (1, y) => *s = y,
                (_, 1) => {}
                (x, y) => return Err(format!("einsum label sizes {x} and {y} differ")),
            }
        }
        ops.push(Operand { v, labels }.diagonals()?);
    }
    let out_labels = match &eq.output {
        Some(t) => labels(t, None, e)?,
        None => {
            let mut once: Vec<u32> = sizes
                .keys()
                .copied()
                .filter(|&l| l >= 'A' as u32)
                .filter(|l| {
                    eq.inputs
                        .iter()
                        .flat_map(|t| &t.letters)
                        .filter(|m| *m == l)
                        .count()
                        == 1
                })
                .collect();
            once.sort_unstable();
            (0..e as u32).chain(once).collect()
        }
    };
    for (i, l) in out_labels.iter().enumerate() {
        if !sizes.contains_key(l) || out_labels[..i].contains(l) {
            return Err("einsum output labels must be distinct input labels".into());
        }
    }
    let size = |l: u32| sizes.get(&l).copied().unwrap_or(1);
    let mut rest = ops.into_iter();
    let mut acc = rest.next().ok_or("Einsum needs an input")?;
    let remaining: Vec<Operand> = rest.collect();
    let mut later: Vec<Vec<u32>> = Vec::new();
    for i in 0..remaining.len() {
        later.push(
            remaining[i + 1..]
                .iter()
                .flat_map(|o| o.labels.clone())
                .collect(),
        );
    }
    for (b, later) in remaining.into_iter().zip(later) {
        let needed = |l: u32| out_labels.contains(&l) || later.contains(&l);
        acc = contract(acc, b, &needed, &size)?;
    }
    let acc = acc.sum_unless(|l| out_labels.contains(&l));
    let mut v = acc.arrange(&out_labels, &size)?;
    if wide {
        v = cast_value(v, dtype)?;
    }
    Ok(vec![v])
}
