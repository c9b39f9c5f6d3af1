//! The narrow element types (float8, float4, 4- and 2-bit integers): one code per element,
//! decoded to and encoded from `f32` as the ONNX specification defines them.
//!
//! Encoding rounds to nearest, ties to even; the 4- and 2-bit integers truncate and wrap. With `saturate`, finite values beyond the range and
//! infinities clamp to the largest finite value (what ONNX's `Cast` and `QuantizeLinear` do by
//! default); without it they become infinity where the format has one, else NaN.

use crate::DType;

/// How `FLOAT8E8M0` rounds values that are not powers of two (`Cast`'s `round_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    /// Toward +infinity (the default).
    Up,
    /// Toward zero.
    Down,
    /// To nearest, ties to even.
    Nearest,
}

impl RoundMode {
    /// Parses `up`, `down` or `nearest`.
    pub fn parse(s: &str) -> Option<RoundMode> {
        Some(match s {
            "up" => RoundMode::Up,
            "down" => RoundMode::Down,
            "nearest" => RoundMode::Nearest,
            _ => return None,
        })
    }
}

/// Layout of a minifloat: exponent and mantissa bits, bias, and the special-value convention.
#[derive(Clone, Copy)]
struct Format {
    exp_bits: u32,
    man_bits: u32,
    bias: i32,
    /// Infinities (all-ones exponent, zero mantissa) and IEEE NaNs exist.
    ieee: bool,
    /// "Unsigned zero": the only NaN is `0x80` and there is no negative zero.
    uz: bool,
    /// NaN has every bit but the sign set (E4M3FN); no infinity.
    fn_nan: bool,
    /// Largest finite value.
    max: f64,
}

fn format(dtype: DType) -> Option<Format> {
    let f = |exp_bits, man_bits, bias, ieee, uz, fn_nan, max| Format {
        exp_bits,
        man_bits,
        bias,
        ieee,
        uz,
        fn_nan,
        max,
    };
    Some(match dtype {
        DType::F8E4M3FN => f(4, 3, 7, false, false, true, 448.0),
        DType::F8E4M3FNUZ => f(4, 3, 8, false, true, false, 240.0),
        DType::F8E5M2 => f(5, 2, 15, true, false, false, 57344.0),
        DType::F8E5M2FNUZ => f(5, 2, 16, false, true, false, 57344.0),
        DType::F4E2M1 => f(2, 1, 1, false, false, false, 6.0),
        _ => return None,
    })
}

/// Integer range of the 4- and 2-bit integer types.
fn int_range(dtype: DType) -> Option<(i32, i32)> {
    Some(match dtype {
        DType::I4 => (-8, 7),
        DType::U4 => (0, 15),
        DType::I2 => (-2, 1),
        DType::U2 => (0, 3),
        _ => return None,
    })
}

/// Width of the code of `dtype` in bits.
fn code_bits(dtype: DType) -> u32 {
    dtype.bits() as u32
}

/// The value of `code` (only its low `bits` bits are read). NaN for the NaN codes.
pub fn decode(dtype: DType, code: u8) -> f32 {
    if let Some((lo, _)) = int_range(dtype) {
        let bits = code_bits(dtype);
        let v = (code as i32) & ((1 << bits) - 1);
        return if lo < 0 && v >= 1 << (bits - 1) {
            (v - (1 << bits)) as f32
        } else {
            v as f32
        };
    }
    if dtype == DType::F8E8M0 {
        return if code == 0xFF {
            f32::NAN
        } else {
            (2.0f64).powi(code as i32 - 127) as f32
        };
    }
    let Some(f) = format(dtype) else {
        return f32::NAN;
    };
    let total = 1 + f.exp_bits + f.man_bits;
    let code = code & ((1u16 << total) - 1) as u8;
    let sign_bit = 1u8 << (total - 1);
    if f.uz && code == sign_bit {
        return f32::NAN;
    }
    let negative = code & sign_bit != 0;
    let exp = ((code >> f.man_bits) as u32) & ((1 << f.exp_bits) - 1);
    let man = (code as u32) & ((1 << f.man_bits) - 1);
    let all_ones = (1 << f.exp_bits) - 1;
    if f.ieee && exp == all_ones {
        let v = if man == 0 { f32::INFINITY } else { f32::NAN };
        return if negative { -v } else { v };
    }
    if f.fn_nan && exp == all_ones && man == (1 << f.man_bits) - 1 {
        return f32::NAN;
    }
    let magnitude = if exp == 0 {
        man as f64 * (2.0f64).powi(1 - f.bias - f.man_bits as i32)
    } else {
        (1.0 + man as f64 / (1u32 << f.man_bits) as f64) * (2.0f64).powi(exp as i32 - f.bias)
    };
    (if negative { -magnitude } else { magnitude }) as f32
}

/// Rounds half to even.
fn round_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// The code of `x` in `dtype`. `round` only matters for `FLOAT8E8M0`.
pub fn encode(dtype: DType, x: f32, saturate: bool, round: RoundMode) -> u8 {
    if int_range(dtype).is_some() {
        return encode_int(dtype, if x.is_finite() { x as i64 } else { 0 });
    }
    if dtype == DType::F8E8M0 {
        return encode_e8m0(x, saturate, round);
    }
    let Some(f) = format(dtype) else {
        return 0;
    };
    let total = 1 + f.exp_bits + f.man_bits;
    let sign_bit = 1u8 << (total - 1);
    let nan = if f.uz || dtype == DType::F4E2M1 {
        sign_bit
    } else {
        (((1u16 << total) - 1) as u8) & !if f.fn_nan { 0 } else { sign_bit }
    };
    if x.is_nan() {
        return nan;
    }
    let negative = x.is_sign_negative();
    let sign = if negative { sign_bit } else { 0 };
    let max_code = max_code(f);
    let overflow = |sign: u8| -> u8 {
        if saturate || dtype == DType::F4E2M1 {
            sign | max_code
        } else if f.ieee {
            sign | (((1 << f.exp_bits) - 1) << f.man_bits) as u8
        } else {
            nan
        }
    };
    let a = (x as f64).abs();
    if a.is_infinite() {
        return overflow(sign);
    }
    if a == 0.0 {
        return if f.uz { 0 } else { sign };
    }
    let emin = 1 - f.bias;
    let e = (a.log2().floor() as i32).max(emin);
    let quantum = (2.0f64).powi(e - f.man_bits as i32);
    let mut r = round_even(a / quantum) * quantum;
    if r > f.max {
        return overflow(sign);
    }
    if r == 0.0 {
        return if f.uz { 0 } else { sign };
    }
    // A rounding may carry into the next binade; recompute the fields from the rounded value.
    let e = (r.log2().floor() as i32).max(emin);
    let (exp_field, man_field) = if e == emin && r < (2.0f64).powi(emin) {
        (0, (r / (2.0f64).powi(emin - f.man_bits as i32)) as u32)
    } else {
        r /= (2.0f64).powi(e);
        (
            (e + f.bias) as u32,
            ((r - 1.0) * (1u32 << f.man_bits) as f64).round() as u32,
        )
    };
    sign | ((exp_field << f.man_bits) | man_field) as u8
}

/// The code of the integer `v` in a 4- or 2-bit integer type: the low bits of its two's
/// complement, so out-of-range values wrap around (`-9` is `7` in `INT4`, `-1` is `15` in
/// `UINT4`), as the ONNX test data expects. Other types give 0.
pub fn encode_int(dtype: DType, v: i64) -> u8 {
    if int_range(dtype).is_none() {
        return 0;
    }
    (v & ((1i64 << code_bits(dtype)) - 1)) as u8
}

/// The largest finite value's code (without sign).
fn max_code(f: Format) -> u8 {
    let all_ones = (1u32 << f.exp_bits) - 1;
    let man_ones = (1u32 << f.man_bits) - 1;
    let (exp, man) = if f.ieee {
        (all_ones - 1, man_ones)
    } else if f.fn_nan {
        (all_ones, man_ones - 1)
    } else {
        (all_ones, man_ones)
    };
    ((exp << f.man_bits) | man) as u8
}

fn encode_e8m0(x: f32, saturate: bool, round: RoundMode) -> u8 {
    let bits = x.to_bits();
    let mut exponent = (bits >> 23) & 0xFF;
    if exponent == 0xFF {
        return 0xFF;
    }
    let fraction = bits & 0x7F_FFFF;
    let round_up = match round {
        RoundMode::Down => false,
        RoundMode::Up => fraction > 0,
        RoundMode::Nearest => {
            let g = bits & 0x40_0000 != 0;
            let r = bits & 0x20_0000 != 0;
            let s = bits & 0x1F_FFFF != 0;
            g && (r || s || exponent > 0)
        }
    };
    if round_up && !(saturate && exponent == 0xFE) {
        exponent += 1;
    }
    exponent as u8
}

/// Unpacks little-endian packed codes of `bits` bits each (low bits first): every code of
/// `bytes`, so a trailing pad element may be included.
pub fn unpack(bytes: &[u8], bits: usize) -> Vec<u8> {
    if bits >= 8 {
        return bytes.to_vec();
    }
    let per = 8 / bits;
    let mask = ((1u16 << bits) - 1) as u8;
    bytes
        .iter()
        .flat_map(|&b| (0..per).map(move |k| (b >> (k * bits)) & mask))
        .collect()
}

/// Packs codes of `bits` bits each, low bits first, padding the last byte with zeros.
pub fn pack(codes: &[u8], bits: usize) -> Vec<u8> {
    if bits >= 8 {
        return codes.to_vec();
    }
    let per = 8 / bits;
    let mask = ((1u16 << bits) - 1) as u8;
    codes
        .chunks(per)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |acc, (k, &v)| acc | ((v & mask) << (k * bits)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finite_code_round_trips() {
        for dtype in [
            DType::F8E4M3FN,
            DType::F8E4M3FNUZ,
            DType::F8E5M2,
            DType::F8E5M2FNUZ,
            DType::F4E2M1,
        ] {
            let codes = if dtype == DType::F4E2M1 { 16 } else { 256 };
            for code in 0..codes {
                let v = decode(dtype, code as u8);
                if v.is_nan() || v.is_infinite() || (v == 0.0 && code != 0) {
                    continue;
                }
                assert_eq!(
                    encode(dtype, v, true, RoundMode::Up),
                    code as u8,
                    "{dtype} {code}"
                );
            }
        }
    }

    #[test]
    fn known_values_and_saturation() {
        assert_eq!(decode(DType::F8E4M3FN, 0x7E), 448.0);
        assert!(decode(DType::F8E4M3FN, 0x7F).is_nan());
        assert_eq!(decode(DType::F8E5M2, 0x7B), 57344.0);
        assert_eq!(decode(DType::F8E5M2, 0x7C), f32::INFINITY);
        assert_eq!(encode(DType::F8E4M3FN, 1e6, true, RoundMode::Up), 0x7E);
        assert!(
            decode(
                DType::F8E4M3FN,
                encode(DType::F8E4M3FN, 1e6, false, RoundMode::Up)
            )
            .is_nan()
        );
        assert_eq!(encode(DType::F8E5M2, 1e6, false, RoundMode::Up), 0x7C);
        assert_eq!(
            decode(
                DType::F8E4M3FN,
                encode(DType::F8E4M3FN, 464.0, false, RoundMode::Up)
            ),
            448.0
        );
        assert_eq!(
            decode(
                DType::F4E2M1,
                encode(DType::F4E2M1, 2.5, true, RoundMode::Up)
            ),
            2.0
        );
        assert_eq!(
            decode(
                DType::F4E2M1,
                encode(DType::F4E2M1, 100.0, false, RoundMode::Up)
            ),
            6.0
        );
        assert_eq!(
            decode(DType::I4, encode(DType::I4, -7.6, true, RoundMode::Up)),
            -7.0
        );
        assert_eq!(decode(DType::U4, 0x1F), 15.0);
        assert_eq!(encode(DType::I4, -9.0, true, RoundMode::Up), 7);
        assert_eq!(encode(DType::U4, -1.5, true, RoundMode::Up), 15);
        assert_eq!(encode(DType::I2, 3.0, true, RoundMode::Up), 3);
        assert_eq!(
            decode(DType::I2, encode(DType::I2, 2.0, true, RoundMode::Up)),
            -2.0
        );
        assert_eq!(encode(DType::U2, f32::NAN, true, RoundMode::Up), 0);
        assert_eq!(decode(DType::F8E8M0, 127), 1.0);
        assert_eq!(encode(DType::F8E8M0, 3.0, true, RoundMode::Up), 129);
        assert_eq!(encode(DType::F8E8M0, 3.0, true, RoundMode::Down), 128);
    }

    #[test]
    fn packing_is_low_bits_first() {
        assert_eq!(pack(&[1, 2, 3], 4), vec![0x21, 0x03]);
        assert_eq!(unpack(&[0x21, 0x03], 4), vec![1, 2, 3, 0]);
        assert_eq!(pack(&[1, 2, 3, 0, 1], 2), vec![0b0011_1001, 0b01]);
    }
}
