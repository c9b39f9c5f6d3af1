//! Fixed number formatting, so that pages are byte-identical across renders and machines.

pub use burnish_bench::summary::format_us as us;

/// Placeholder for a missing or non-finite value.
pub const NONE: &str = "–";

/// `x` with `decimals` decimals, or [`NONE`] when not finite.
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        NONE.to_string()
    }
}

/// An optional value with `decimals` decimals.
pub fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| NONE.to_string(), |x| fixed(x, decimals))
}

/// A fraction as a percentage: `0.1234` -> `12.34%`.
pub fn pct(fraction: f64, decimals: usize) -> String {
    if fraction.is_finite() {
        format!("{:.decimals$}%", fraction * 100.0)
    } else {
        NONE.to_string()
    }
}

/// A signed percentage already in percent: `-3.2` -> `-3.2%`.
pub fn signed_pct(percent: f64) -> String {
    if percent.is_finite() {
        format!("{percent:+.1}%")
    } else {
        NONE.to_string()
    }
}

/// A ratio: `1.2345` -> `1.235×`.
pub fn ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}×")
    } else {
        NONE.to_string()
    }
}

/// A quantile as a percentile name: `0.99` -> `p99`, `0.999` -> `p99.9`.
pub fn percentile(q: f64) -> String {
    format!("p{}", trim(q * 100.0))
}

/// An optional latency in µs.
pub fn opt_us(x: Option<f64>) -> String {
    x.filter(|x| x.is_finite())
        .map_or_else(|| NONE.to_string(), us)
}

/// Bytes in binary units: `1536` -> `1.50 KiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

/// An integer with thousands separators: `1234567` -> `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Throughput: `1234.5` -> `1,234.5`, three significant digits below 100.
pub fn rate(x: f64) -> String {
    if !x.is_finite() {
        NONE.to_string()
    } else if x >= 100.0 {
        format!(
            "{}.{}",
            count(x.trunc() as u64),
            ((x.fract() * 10.0).round() as u64).min(9)
        )
    } else if x >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A compact axis label for a latency in µs (no trailing zeros): `1500` -> `1.5ms`.
pub fn axis_us(us: f64) -> String {
    let (v, unit) = if us >= 1e6 {
        (us / 1e6, "s")
    } else if us >= 1e3 {
        (us / 1e3, "ms")
    } else if us >= 1.0 || us == 0.0 {
        (us, "µs")
    } else {
        (us * 1e3, "ns")
    };
    format!("{}{unit}", trim(v))
}

/// A compact axis number: `2.50` -> `2.5`, `1200` -> `1.2k`.
pub fn axis_num(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if x.abs() >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_fixed() {
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(rate(1234.56), "1,234.6");
        assert_eq!(rate(12.345), "12.35");
        assert_eq!(pct(0.12345, 1), "12.3%");
        assert_eq!(ratio(f64::NAN), NONE);
        assert_eq!(axis_us(1500.0), "1.5ms");
        assert_eq!(axis_us(250.0), "250µs");
        assert_eq!(axis_num(1200.0), "1.2k");
        assert_eq!(percentile(0.99), "p99");
        assert_eq!(percentile(0.999), "p99.9");
    }
}
