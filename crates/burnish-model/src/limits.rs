//! The memory budget: the largest tensor burnish creates from sizes it reads in a file (shapes
//! of synthesized inputs, NPY/NPZ headers, attributes and data of shape-making ops).
//!
//! A size that overflows, or a tensor larger than the budget, is an error before anything is
//! allocated, never an allocation abort. The budget is process-wide: the CLI sets it from
//! `--max-memory`; by default it is a quarter of the machine's memory, or of the process's
//! address-space limit (`ulimit -v`) when that is smaller.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::LimitError;

/// The budget in bytes; 0 until set or first read.
static MAX_TENSOR_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Used where the machine's memory cannot be read.
const FALLBACK_BYTES: usize = 4 << 30;

/// The largest tensor, in bytes, burnish creates.
pub fn max_tensor_bytes() -> usize {
    match MAX_TENSOR_BYTES.load(Ordering::Relaxed) {
        0 => {
            let d = default_max_tensor_bytes();
            MAX_TENSOR_BYTES.store(d, Ordering::Relaxed);
            d
        }
        n => n,
    }
}

/// Sets the budget (`--max-memory`); 0 restores the default.
pub fn set_max_tensor_bytes(bytes: usize) {
    MAX_TENSOR_BYTES.store(bytes, Ordering::Relaxed);
}

/// A quarter of the smaller of the machine's memory and the address-space limit.
pub fn default_max_tensor_bytes() -> usize {
    let total = [machine_memory(), address_space_limit()]
        .into_iter()
        .flatten()
        .min();
    total.map_or(FALLBACK_BYTES, |t| (t / 4).max(1 << 20))
}

/// Bytes of a tensor of `shape` with `elem_bytes`-byte elements, or an error when the size
/// overflows or exceeds the budget.
pub fn check_tensor(shape: &[usize], elem_bytes: usize) -> Result<usize, LimitError> {
    if shape.contains(&0) {
        return Ok(0);
    }
    let elements = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| LimitError::TooManyElements {
            shape: shape.to_vec(),
        })?;
    check_bytes(
        elements.checked_mul(elem_bytes.max(1)),
        &format!("a tensor of shape {shape:?}"),
    )
}

/// Checks a size in bytes (`None`: it overflowed) against the budget; `what` names the thing.
pub fn check_bytes(bytes: Option<usize>, what: &str) -> Result<usize, LimitError> {
    let limit = max_tensor_bytes();
    match bytes {
        Some(b) if b <= limit => Ok(b),
        Some(bytes) => Err(LimitError::OverBudget {
            what: what.to_string(),
            bytes,
            limit,
        }),
        None => Err(LimitError::Overflow {
            what: what.to_string(),
        }),
    }
}

/// Parses a size such as `512M`, `2G`, `2GiB`, `1.5g` or a plain byte count.
pub fn parse_size(text: &str) -> Result<usize, LimitError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| LimitError::NotASize { text: text.into() })?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(LimitError::UnknownUnit { text: text.into() }),
    };
    let bytes = value * scale as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(LimitError::UnusableSize { text: text.into() });
    }
    Ok(bytes as usize)
}

fn machine_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

fn address_space_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(
            parse_size("3X").unwrap_err().to_string(),
            "`3X` has an unknown unit (use K, M, G or T)"
        );
    }

    #[test]
    fn overflowing_and_oversized_shapes_are_errors() {
        assert!(check_tensor(&[1 << 32, 1 << 32, 1 << 32], 4).is_err());
        assert_eq!(
            check_tensor(&[usize::MAX / 2], 4).unwrap_err(),
            LimitError::Overflow {
                what: format!("a tensor of shape {:?}", [usize::MAX / 2])
            }
        );
        let limit = max_tensor_bytes();
        assert!(check_tensor(&[limit / 4 + 1], 4).is_err());
        assert_eq!(check_tensor(&[2, 3], 4).unwrap(), 24);
        assert_eq!(check_tensor(&[0, 1 << 40], 4).unwrap(), 0);
    }
}
