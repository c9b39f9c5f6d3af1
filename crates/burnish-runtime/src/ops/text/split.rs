//! `StringSplit` and `StringNormalizer`.

use burnish_model::{AttrExt, Buffer};

use super::{string_value, strings, upload};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

/// Splits `s` at `delimiter` (whitespace runs when `None`, leading and trailing whitespace
/// ignored), making at most `max` splits; Python's `str.split` semantics.
fn split_one(s: &str, delimiter: Option<&str>, max: Option<usize>) -> Vec<String> {
    if let Some(d) = delimiter {
        return match max {
            Some(m) => s.splitn(m.saturating_add(1), d).map(String::from).collect(),
            None => s.split(d).map(String::from).collect(),
        };
    }
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        if max.is_some_and(|m| out.len() >= m) {
            out.push(rest.to_string());
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        out.push(rest[..end].to_string());
        rest = rest[end..].trim_start();
    }
    out
}

/// `StringSplit(X) -> (Y, Z)`: `Y` holds each element's substrings along a new last axis,
/// padded with empty strings to the longest split; `Z` holds the substring counts.
pub fn string_split(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let delimiter = ctx.string("delimiter", "")?;
    let delimiter = (!delimiter.is_empty()).then_some(delimiter);
    let maxsplit = ctx.attrs().int_opt("maxsplit").map_err(|e| e.0)?;
    let max = maxsplit.and_then(|m| usize::try_from(m).ok());
    op(move |mut ins| {
        let (shape, xs) = strings(&ins.take(0)?, "StringSplit input X")?;
        let parts: Vec<Vec<String>> = xs
            .iter()
            .map(|s| split_one(s, delimiter.as_deref(), max))
            .collect();
        let width = parts.iter().map(Vec::len).max().unwrap_or(0);
        let mut out_shape = shape.clone();
        out_shape.push(width);
        check_numel(&out_shape)?;
        let counts = parts.iter().map(|p| p.len() as i64).collect();
        let mut flat = Vec::with_capacity(parts.len() * width);
        for mut p in parts {
            p.resize(width, String::new());
            flat.extend(p);
        }
        Ok(vec![
            string_value(out_shape, flat)?,
            upload(shape, Buffer::I64(counts))?,
        ])
    })
}

/// How `StringNormalizer` changes case.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    Lower,
    Upper,
    Keep,
}

/// Maps each character with its one-to-one case mapping (characters whose mapping has several
/// characters, such as `ß` to upper case, stay), as C's `towupper`/`towlower` do.
fn change_case(s: &str, case: Case) -> String {
    fn single(mut it: impl Iterator<Item = char>, c: char) -> char {
        match (it.next(), it.next()) {
            (Some(m), None) => m,
            _ => c,
        }
    }
    match case {
        Case::Keep => s.to_string(),
        Case::Lower => s.chars().map(|c| single(c.to_lowercase(), c)).collect(),
        Case::Upper => s.chars().map(|c| single(c.to_uppercase(), c)).collect(),
    }
}

/// `StringNormalizer`: drops the elements of a `[C]` or `[1, C]` string tensor that are stop
/// words (compared case-insensitively unless `is_case_sensitive`), then changes the case of the
/// rest. When every element is dropped the output is one empty string. `locale` is accepted
/// but not consulted: case mapping is Unicode's one-to-one simple mapping.
pub fn string_normalizer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let case = match ctx.string("case_change_action", "NONE")?.as_str() {
        "LOWER" => Case::Lower,
        "UPPER" => Case::Upper,
        "NONE" => Case::Keep,
        other => {
            return Err(format!(
                "StringNormalizer case_change_action `{other}` is not LOWER, UPPER or NONE"
            ));
        }
    };
    let sensitive = ctx.int("is_case_sensitive", 0)? != 0;
    ctx.string("locale", "")?;
    let stop = ctx.attrs().strings_opt("stopwords").map_err(|e| e.0)?;
    let stop: Vec<String> = stop
        .unwrap_or_default()
        .into_iter()
        .map(|w| {
            if sensitive {
                w
            } else {
                change_case(&w, Case::Lower)
            }
        })
        .collect();
    op(move |mut ins| {
        let (shape, xs) = strings(&ins.take(0)?, "StringNormalizer input X")?;
        let row = match shape.as_slice() {
            [_] => false,
            [1, _] => true,
            _ => {
                return Err(format!(
                    "StringNormalizer input must have shape [C] or [1, C], found {shape:?}"
                ));
            }
        };
        let is_stop = |s: &String| {
            if sensitive {
                stop.contains(s)
            } else {
                stop.contains(&change_case(s, Case::Lower))
            }
        };
        let mut kept: Vec<String> = xs
            .iter()
            .filter(|s| !is_stop(s))
            .map(|s| change_case(s, case))
            .collect();
        if kept.is_empty() {
            kept.push(String::new());
        }
        let out = if row {
            vec![1, kept.len()]
        } else {
            vec![kept.len()]
        };
        Ok(vec![string_value(out, kept)?])
    })
}
