//! `TfIdfVectorizer`: n-gram counts (with skips) of integer or string tokens, weighted.

use std::collections::HashMap;

use burnish_model::{AttrExt, Buffer};

use super::upload;
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// How counts become output values.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Tf,
    Idf,
    TfIdf,
}

/// The pool's tokens: input elements are mapped to their position in this table.
enum Vocab {
    Ints(HashMap<i64, u32>),
    Strings(HashMap<String, u32>),
}

/// The compiled vectorizer.
struct TfIdf {
    mode: Mode,
    min_len: usize,
    max_len: usize,
    max_skip: usize,
    vocab: Vocab,
    /// Each n-gram of the pool (as token ids) and the output column it counts into.
    grams: HashMap<Vec<u32>, usize>,
    out_size: usize,
    /// The weight of each output column (empty: unweighted); `weights[i]` of the attribute
    /// belongs to the i-th n-gram of the pool, which counts into column `ngram_indexes[i]`.
    weights: Vec<f32>,
}

/// Token id of every pool entry, and the vocabulary.
fn tokenize<K: std::hash::Hash + Eq + Clone>(pool: &[K]) -> (HashMap<K, u32>, Vec<u32>) {
    let mut map = HashMap::new();
    let ids = pool
        .iter()
        .map(|k| {
            let next = map.len() as u32;
            *map.entry(k.clone()).or_insert(next)
        })
        .collect();
    (map, ids)
}

impl TfIdf {
    fn parse(ctx: &BuildCtx) -> Result<TfIdf, String> {
        let a = ctx.attrs();
        let int = |name: &str| -> Result<i64, String> {
            a.int_opt(name)
                .map_err(|e| e.0)?
                .ok_or_else(|| format!("TfIdfVectorizer needs the `{name}` attribute"))
        };
        let count = |name: &str, v: i64, min: i64| {
            if v < min {
                return Err(format!("TfIdfVectorizer {name} {v} must be at least {min}"));
            }
            usize::try_from(v).map_err(|_| format!("TfIdfVectorizer {name} {v} is too large"))
        };
        let min_len = count("min_gram_length", int("min_gram_length")?, 1)?;
        let max_len = count("max_gram_length", int("max_gram_length")?, 1)?;
        let max_skip = count("max_skip_count", int("max_skip_count")?, 0)?;
        if min_len > max_len {
            return Err(format!(
                "TfIdfVectorizer min_gram_length {min_len} exceeds max_gram_length {max_len}"
            ));
        }
        let mode = match ctx.string("mode", "")?.as_str() {
            "TF" => Mode::Tf,
            "IDF" => Mode::Idf,
            "TFIDF" => Mode::TfIdf,
            other => {
                return Err(format!(
                    "TfIdfVectorizer mode `{other}` is not TF, IDF or TFIDF"
                ));
            }
        };
        let ints = a.ints_opt("pool_int64s").map_err(|e| e.0)?;
        let strs = a.strings_opt("pool_strings").map_err(|e| e.0)?;
        let (vocab, ids) = match (ints, strs) {
            (Some(p), None) => {
                let (m, ids) = tokenize(&p);
                (Vocab::Ints(m), ids)
            }
            (None, Some(p)) => {
                let (m, ids) = tokenize(&p);
                (Vocab::Strings(m), ids)
            }
            _ => {
                return Err(
                    "TfIdfVectorizer needs exactly one of pool_int64s and pool_strings".into(),
                );
            }
        };
        let counts = ctx
            .ints("ngram_counts")?
            .ok_or("TfIdfVectorizer needs ngram_counts")?;
        let indexes = ctx
            .ints("ngram_indexes")?
            .ok_or("TfIdfVectorizer needs ngram_indexes")?;
        let out_size = match indexes.iter().max() {
            Some(&m) if m >= 0 && indexes.iter().all(|&i| i >= 0) => m as usize + 1,
            Some(_) => return Err("TfIdfVectorizer ngram_indexes must not be negative".into()),
            None => return Err("TfIdfVectorizer ngram_indexes is empty".into()),
        };
        check_numel(&[out_size])?;
        let mut grams = HashMap::new();
        let mut gram_id = 0usize;
        for (i, &start) in counts.iter().enumerate() {
            let size = i + 1;
            let end = counts.get(i + 1).copied().unwrap_or(ids.len() as i64);
            if start < 0 || end < start || end as usize > ids.len() {
                return Err(format!(
                    "TfIdfVectorizer ngram_counts {counts:?} do not fit a pool of {} items",
                    ids.len()
                ));
            }
            let items = &ids[start as usize..end as usize];
            if items.len() % size != 0 {
                return Err(format!(
                    "TfIdfVectorizer: {} pool items for {size}-grams is not a whole number of n-grams",
                    items.len()
                ));
            }
            for gram in items.chunks(size) {
                let column = *indexes.get(gram_id).ok_or_else(|| {
                    format!(
                        "TfIdfVectorizer ngram_indexes has {} entries, the pool more n-grams",
                        indexes.len()
                    )
                })?;
                if (min_len..=max_len).contains(&size) {
                    grams.insert(gram.to_vec(), column as usize);
                }
                gram_id += 1;
            }
        }
        let given = ctx.floats("weights")?.unwrap_or_default();
        if !given.is_empty() && given.len() != indexes.len() {
            return Err(format!(
                "TfIdfVectorizer has {} weights for {} n-grams",
                given.len(),
                indexes.len()
            ));
        }
        let mut weights = Vec::new();
        if !given.is_empty() {
            weights = vec![0.0; out_size];
            for (&w, &col) in given.iter().zip(&indexes) {
                weights[col as usize] = w;
            }
        }
        Ok(TfIdf {
            mode,
            min_len,
            max_len,
            max_skip,
            vocab,
            grams,
            out_size,
            weights,
        })
    }

    /// Token ids of the input elements (`None` for tokens outside the pool).
    fn tokens(&self, x: &Value) -> Result<Vec<Option<u32>>, String> {
        let t = x.host()?;
        Ok(match (&self.vocab, &t.data) {
            (Vocab::Strings(m), Buffer::String(v)) => v.iter().map(|s| m.get(s).copied()).collect(),
            (Vocab::Ints(m), Buffer::I32(_) | Buffer::I64(_)) => t
                .to_i64_vec()
                .ok_or("TfIdfVectorizer input is not numeric")?
                .iter()
                .map(|k| m.get(k).copied())
                .collect(),
            _ => {
                return Err(format!(
                    "TfIdfVectorizer input is {}, the pool holds {}",
                    x.kind(),
                    if matches!(self.vocab, Vocab::Ints(_)) {
                        "int64s"
                    } else {
                        "strings"
                    }
                ));
            }
        })
    }

    /// Adds the n-gram counts of one row into `freq`.
    fn count_row(&self, row: &[Option<u32>], freq: &mut [u32]) {
        let mut min_len = self.min_len;
        let mut gram = Vec::with_capacity(self.max_len);
        for skip in 1..=self.max_skip + 1 {
            for start in 0..row.len() {
                let reach = (min_len - 1).saturating_mul(skip).saturating_add(start);
                if reach >= row.len() {
                    break;
                }
                gram.clear();
                let mut pos = start;
                while gram.len() < self.max_len && pos < row.len() {
                    let Some(tok) = row[pos] else { break };
                    gram.push(tok);
                    if gram.len() >= min_len
                        && let Some(&col) = self.grams.get(&gram)
                    {
                        freq[col] = freq[col].saturating_add(1);
                    }
                    pos = pos.saturating_add(skip);
                }
            }
            if min_len == 1 {
                min_len = 2;
                if min_len > self.max_len {
                    break;
                }
            }
        }
    }

    fn run(&self, x: &Value) -> Result<Value, String> {
        let shape = x.shape();
        let (rows, width, out_shape) = match shape.as_slice() {
            [c] => (1, *c, vec![self.out_size]),
            [b, c] => (*b, *c, vec![*b, self.out_size]),
            _ => {
                return Err(format!(
                    "TfIdfVectorizer input must be [C] or [B, C], found {shape:?}"
                ));
            }
        };
        let total = check_numel(&out_shape)?;
        let tokens = self.tokens(x)?;
        let mut freq = vec![0u32; total];
        if width > 0 {
            for (row, out) in tokens
                .chunks(width)
                .zip(freq.chunks_mut(self.out_size))
                .take(rows)
            {
                self.count_row(row, out);
            }
        }
        let y = freq
            .iter()
            .enumerate()
            .map(|(i, &f)| {
                let w = self.weights.get(i % self.out_size).copied();
                let f = f as f32;
                match (self.mode, w) {
                    (Mode::Tf, _) | (Mode::TfIdf, None) => f,
                    (Mode::Idf, None) => (f > 0.0) as u8 as f32,
                    (Mode::Idf, Some(w)) => {
                        if f > 0.0 {
                            w
                        } else {
                            0.0
                        }
                    }
                    (Mode::TfIdf, Some(w)) => w * f,
                }
            })
            .collect();
        upload(out_shape, Buffer::F32(y))
    }
}

/// `TfIdfVectorizer`.
pub fn tfidf_vectorizer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let v = TfIdf::parse(ctx)?;
    op(move |mut ins| Ok(vec![v.run(&ins.take(0)?)?]))
}
