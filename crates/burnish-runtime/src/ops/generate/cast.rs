//! `Cast` and `CastLike` between every element type: the backend's types convert on the
//! backend; the narrow types (float8, float4, 4- and 2-bit integers) and strings convert on the
//! host.

use std::sync::Arc;

use burn_backend::Scalar;
use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burnish_model::narrow::{self, RoundMode};
use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use crate::ops::{BuildCtx, Op, op};
use crate::value::{B, BOOL, Value, to_burn_dtype};

/// How a cast to a narrow float type treats out-of-range values and, for `FLOAT8E8M0`,
/// values between two powers of two.
#[derive(Clone, Copy, Debug)]
pub struct CastMode {
    /// Clamp out-of-range values to the largest finite value (else infinity or NaN).
    pub saturate: bool,
    /// `FLOAT8E8M0` rounding.
    pub round: RoundMode,
}

impl Default for CastMode {
    fn default() -> Self {
        CastMode {
            saturate: true,
            round: RoundMode::Up,
        }
    }
}

/// Converts a value to `to` (saturating, `FLOAT8E8M0` rounding up: ONNX's defaults).
pub fn cast_value(v: Value, to: DType) -> Result<Value, String> {
    cast_value_with(v, to, CastMode::default())
}

/// Converts a value to `to` with the given narrow-type conversion mode.
pub fn cast_value_with(v: Value, to: DType, mode: CastMode) -> Result<Value, String> {
    if !v.is_tensor() {
        return Err(format!("Cast expects a tensor, found {}", v.kind()));
    }
    if v.dtype() == to {
        return Ok(v);
    }
    if let Value::Host(t) = &v {
        return host_cast(t, to, mode);
    }
    if to.is_narrow() || to == DType::String {
        return host_cast(&v.host()?, to, mode);
    }
    let target = to_burn_dtype(to).ok_or_else(|| format!("cannot cast to {to}"))?;
    Ok(match (v, to) {
        (Value::Float(t), d) if d.is_float() => Value::Float(B::float_cast(t, target.into())),
        (Value::Float(t), d) if d.is_int() => Value::Int(B::float_into_int(t, target.into())),
        (Value::Float(t), DType::Bool) => {
            Value::Bool(B::float_not_equal_elem(t, Scalar::from(0.0), BOOL))
        }
        (Value::Int(t), d) if d.is_float() => Value::Float(B::int_into_float(t, target.into())),
        (Value::Int(t), d) if d.is_int() => Value::Int(B::int_cast(t, target.into())),
        (Value::Int(t), DType::Bool) => {
            Value::Bool(B::int_not_equal_elem(t, Scalar::from(0i64), BOOL))
        }
        (Value::Bool(t), d) if d.is_float() => Value::Float(B::bool_into_float(t, target.into())),
        (Value::Bool(t), d) if d.is_int() => Value::Int(B::bool_into_int(t, target.into())),
        (_, other) => return Err(format!("cannot cast to {other}")),
    })
}

/// Casts a host tensor (or a tensor downloaded for a narrow or string target).
fn host_cast(t: &TensorData, to: DType, mode: CastMode) -> Result<Value, String> {
    let host = |data: Buffer| -> Result<Value, String> {
        let out = TensorData::new(t.shape.clone(), data).map_err(|e| e.to_string())?;
        Ok(Value::Host(Arc::new(out)))
    };
    if to == DType::String {
        return host(Buffer::String(to_strings(&t.data)));
    }
    if to.is_narrow() {
        let codes = match &t.data {
            Buffer::String(s) => parse_all(s)?
                .iter()
                .map(|&x| narrow_code(to, x, mode))
                .collect(),
            b if b.dtype().is_int() || b.dtype() == DType::Bool && is_int_narrow(to) => b
                .to_i64_vec()
                .ok_or("expected a numeric tensor")?
                .into_iter()
                .map(|v| narrow::encode_int(to, v))
                .collect(),
            b => b
                .to_f64_vec()
                .ok_or("expected a numeric tensor")?
                .into_iter()
                .map(|v| narrow_code(to, v, mode))
                .collect(),
        };
        return host(Buffer::Narrow(to, codes));
    }
    let data = match &t.data {
        Buffer::String(s) => from_f64(&parse_all(s)?, to)?,
        Buffer::Narrow(d, codes) => {
            Buffer::F32(codes.iter().map(|&c| narrow::decode(*d, c)).collect())
        }
        other => return Err(format!("cannot cast {} to {to} on the host", other.dtype())),
    };
    let v = Value::upload(&TensorData::new(t.shape.clone(), data).map_err(|e| e.to_string())?)?;
    cast_value_with(v, to, mode)
}

fn is_int_narrow(d: DType) -> bool {
    matches!(d, DType::I4 | DType::U4 | DType::I2 | DType::U2)
}

/// The code of `x` (converted to f32 first, as the reference does) in a narrow type.
fn narrow_code(to: DType, x: f64, mode: CastMode) -> u8 {
    narrow::encode(to, x as f32, mode.saturate, mode.round)
}

/// Parses every string as a number (`NaN`, `INF`, `+INF`, `-INF` and the usual decimal and
/// scientific forms, case-insensitive).
fn parse_all(s: &[String]) -> Result<Vec<f64>, String> {
    s.iter()
        .map(|x| {
            let t = x.trim();
            match t.to_ascii_lowercase().as_str() {
                "nan" | "+nan" | "-nan" => Ok(f64::NAN),
                "inf" | "+inf" | "infinity" | "+infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                _ => t
                    .parse::<f64>()
                    .map_err(|_| format!("cannot cast the string `{x}` to a number")),
            }
        })
        .collect()
}

/// A buffer of `to` (a backend type) from parsed strings.
fn from_f64(v: &[f64], to: DType) -> Result<Buffer, String> {
    Ok(match to {
        DType::F32 => Buffer::F32(v.iter().map(|&x| x as f32).collect()),
        DType::F64 => Buffer::F64(v.to_vec()),
        DType::F16 => Buffer::F16(v.iter().map(|&x| f16::from_f64(x)).collect()),
        DType::BF16 => Buffer::BF16(v.iter().map(|&x| bf16::from_f64(x)).collect()),
        DType::Bool => Buffer::Bool(v.iter().map(|&x| x != 0.0).collect()),
        d if d.is_int() => Buffer::I64(v.iter().map(|&x| x as i64).collect()),
        other => return Err(format!("cannot cast strings to {other}")),
    })
}

/// Every element as numpy's `astype(str)` writes it.
fn to_strings(b: &Buffer) -> Vec<String> {
    match b {
        Buffer::String(s) => s.clone(),
        Buffer::F32(v) => v
            .iter()
            .map(|&x| float_str(x as f64, format!("{x:e}")))
            .collect(),
        Buffer::F16(v) => v
            .iter()
            .map(|&x| float_str(x.to_f64(), format!("{x:e}")))
            .collect(),
        Buffer::BF16(v) => v
            .iter()
            .map(|&x| float_str(x.to_f64(), format!("{x:e}")))
            .collect(),
        Buffer::F64(v) => v.iter().map(|&x| float_str(x, format!("{x:e}"))).collect(),
        Buffer::Narrow(d, c) if !is_int_narrow(*d) => c
            .iter()
            .map(|&c| {
                let x = narrow::decode(*d, c);
                float_str(x as f64, format!("{x:e}"))
            })
            .collect(),
        Buffer::Bool(v) => v
            .iter()
            .map(|&x| if x { "True" } else { "False" }.to_string())
            .collect(),
        other => other
            .to_i64_vec()
            .unwrap_or_default()
            .iter()
            .map(i64::to_string)
            .collect(),
    }
}

/// numpy's `str` of a float: the shortest digits that round-trip (`sci`, Rust's `{:e}` of the
/// value in its own type), positional when `1e-4 <= |x| < 1e16` (with a trailing `.0` for
/// integral values), else scientific with a signed, at least two-digit exponent.
fn float_str(x: f64, sci: String) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let a = x.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let negative = mantissa.starts_with('-');
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (i, f) = digits.split_at(point as usize);
            format!("{i}.{f}")
        };
        return if negative { format!("-{body}") } else { body };
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// `Cast(to, saturate, round_mode)`.
pub fn cast(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let code = ctx.int("to", 0)?;
    let to = DType::from_onnx(code as i32)
        .ok_or_else(|| format!("unsupported tensor data type code {code} as Cast target"))?;
    let mode = mode(ctx)?;
    op(move |mut ins| Ok(vec![cast_value_with(ins.take(0)?, to, mode)?]))
}

/// `CastLike(input, target_type, saturate, round_mode)`.
pub fn cast_like(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let mode = mode(ctx)?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let to = ins.take(1)?.dtype();
        Ok(vec![cast_value_with(x, to, mode)?])
    })
}

/// The `saturate` and `round_mode` attributes.
fn mode(ctx: &BuildCtx) -> Result<CastMode, String> {
    let round = ctx.string("round_mode", "up")?;
    Ok(CastMode {
        saturate: ctx.int("saturate", 1)? != 0,
        round: RoundMode::parse(&round)
            .ok_or_else(|| format!("round_mode `{round}` is not one of up, down, nearest"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_float_strings() {
        let s = |x: f32| float_str(x as f64, format!("{x:e}"));
        assert_eq!(s(0.47892547), "0.47892547");
        assert_eq!(s(1.0), "1.0");
        assert_eq!(s(-0.0), "-0.0");
        assert_eq!(s(1e20), "1e+20");
        assert_eq!(s(1.5e-5), "1.5e-05");
        assert_eq!(s(123456.5), "123456.5");
        assert_eq!(s(f32::NEG_INFINITY), "-inf");
    }

    #[test]
    fn bad_strings_and_modes_are_errors() {
        assert!(parse_all(&["1.5".into(), "x".into()]).is_err());
        assert_eq!(
            parse_all(&["-INF".into()]).unwrap(),
            vec![f64::NEG_INFINITY]
        );
        let t = TensorData::new(vec![1], Buffer::String(vec!["abc".into()])).unwrap();
        assert!(host_cast(&t, DType::F32, CastMode::default()).is_err());
    }

    #[test]
    fn int_narrow_wraps_and_decodes() {
        let t = TensorData::new(vec![3], Buffer::I64(vec![-9, 15, 3])).unwrap();
        let v = host_cast(&t, DType::I4, CastMode::default()).unwrap();
        let Value::Host(h) = &v else {
            panic!("expected a host tensor")
        };
        assert_eq!(h.data, Buffer::Narrow(DType::I4, vec![7, 15, 3]));
        let back = cast_value(v, DType::I8).unwrap();
        assert_eq!(back.to_i64_vec().unwrap(), vec![7, -1, 3]);
    }
}
