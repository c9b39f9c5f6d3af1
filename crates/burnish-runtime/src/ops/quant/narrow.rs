//! `QuantizeLinear` / `DequantizeLinear` on the host for the narrow types (4- and 2-bit
//! integers, float8, float4) and for `QuantizeLinear`'s `precision` attribute, following the
//! ONNX reference: integer targets round half to even, add the zero point and clamp; float8
//! targets convert `x / scale` (saturating unless `saturate = 0`) and ignore the zero point;
//! float4 converts `x / scale + zero_point`. The int8/uint8/int16 fast paths stay in `qdq.rs`.

use std::sync::Arc;

use burnish_model::narrow::{self, RoundMode};
use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use super::host::{check_scales, f32_value, floats, int_value, ints};
use super::qdq::{Runs, runs};
use crate::value::Value;

/// `QuantizeLinear` attributes the host path needs.
#[derive(Clone, Copy, Debug)]
pub(super) struct QuantAttrs {
    /// `axis`.
    pub axis: i64,
    /// `block_size` (0: per tensor or per axis).
    pub block: i64,
    /// `saturate` (float8 targets).
    pub saturate: bool,
    /// `precision`: the type `x / scale` is computed in (`None`: float32).
    pub precision: Option<DType>,
}

/// Calls `f(element, parameter)` for every element of the runs.
fn each(r: &Runs, mut f: impl FnMut(usize, usize)) {
    for (range, p0, step) in &r.runs {
        for (t, e) in range.clone().enumerate() {
            f(e, p0 + t * step);
        }
    }
}

/// The values of a zero point: decoded narrow codes, or integers.
fn zero_points(z: &Value) -> Result<Vec<f32>, String> {
    match z {
        Value::Host(t) => match &t.data {
            Buffer::Narrow(d, c) => Ok(c.iter().map(|&c| narrow::decode(*d, c)).collect()),
            other => Err(format!(
                "zero point of type {} is not supported",
                other.dtype()
            )),
        },
        other => Ok(ints(other)?.into_iter().map(|v| v as f32).collect()),
    }
}

/// Integer code range of a quantized integer type.
fn int_range(d: DType) -> Option<(i64, i64)> {
    Some(match d {
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        DType::U16 => (0, 65_535),
        DType::I16 => (-32_768, 32_767),
        DType::U4 => (0, 15),
        DType::I4 => (-8, 7),
        DType::U2 => (0, 3),
        DType::I2 => (-2, 1),
        _ => return None,
    })
}

/// `x / s` in `precision`.
fn scaled(x: f32, s: f32, precision: Option<DType>) -> f64 {
    match precision {
        Some(DType::F16) => {
            let (x, s) = (f16::from_f32(x).to_f32(), f16::from_f32(s).to_f32());
            f16::from_f32(x / s).to_f64()
        }
        Some(DType::BF16) => {
            let (x, s) = (bf16::from_f32(x).to_f32(), bf16::from_f32(s).to_f32());
            bf16::from_f32(x / s).to_f64()
        }
        Some(DType::F64) => x as f64 / s as f64,
        _ => (x / s) as f64,
    }
}

/// A host tensor of narrow codes.
fn narrow_value(dtype: DType, codes: Vec<u8>, shape: Vec<usize>) -> Result<Value, String> {
    let t = TensorData::new(shape, Buffer::Narrow(dtype, codes)).map_err(|e| e.to_string())?;
    Ok(Value::Host(Arc::new(t)))
}

/// `QuantizeLinear` to `dtype` on the host.
pub(super) fn quantize(
    x: &Value,
    scale: &Value,
    zp: Option<&Value>,
    dtype: DType,
    a: QuantAttrs,
) -> Result<Value, String> {
    if let Some(p) = a.precision
        && !matches!(p, DType::F32 | DType::F16 | DType::BF16 | DType::F64)
    {
        return Err(format!("precision {p} is not a float type"));
    }
    let scales = floats(scale, "y_scale")?;
    check_scales(&scales, "y_scale")?;
    let zps = match zp {
        Some(z) => zero_points(z)?,
        None => vec![0.0; scales.len()],
    };
    if zps.len() != scales.len() {
        return Err("`y_scale` and `y_zero_point` differ in size".into());
    }
    let shape = x.shape();
    let r = runs(&shape, &scale.shape(), a.axis, a.block)?;
    let xs = floats(x, "x")?;
    if let Some((lo, hi)) = int_range(dtype) {
        let mut q = vec![0i64; xs.len()];
        each(&r, |e, p| {
            let v = scaled(xs[e], scales[p], a.precision).round_ties_even();
            let v = if v.is_nan() { 0 } else { v as i64 };
            q[e] = v.saturating_add(zps[p] as i64).clamp(lo, hi);
        });
        return Ok(match dtype {
            DType::U8 => int_value(q.iter().map(|&v| v as u8).collect::<Vec<_>>(), shape),
            DType::I8 => int_value(q.iter().map(|&v| v as i8).collect::<Vec<_>>(), shape),
            DType::U16 => int_value(q.iter().map(|&v| v as u16).collect::<Vec<_>>(), shape),
            DType::I16 => int_value(q.iter().map(|&v| v as i16).collect::<Vec<_>>(), shape),
            _ => {
                let codes = q.iter().map(|&v| narrow::encode_int(dtype, v)).collect();
                narrow_value(dtype, codes, shape)?
            }
        });
    }
    let with_zp = match dtype {
        DType::F8E4M3FN | DType::F8E4M3FNUZ | DType::F8E5M2 | DType::F8E5M2FNUZ => false,
        DType::F4E2M1 => true,
        other => return Err(format!("quantization to {other} is not supported")),
    };
    let mut codes = vec![0u8; xs.len()];
    each(&r, |e, p| {
        let mut v = scaled(xs[e], scales[p], a.precision) as f32;
        if with_zp {
            v += zps[p];
        }
        codes[e] = narrow::encode(dtype, v, a.saturate, RoundMode::Up);
    });
    narrow_value(dtype, codes, shape)
}

/// `DequantizeLinear` of a host tensor of narrow codes: f32 `(x - zero_point) * scale`
/// (float8 and float4 codes ignore the zero point, which must be 0 for float8), cast to
/// `target`.
pub(super) fn dequantize(
    x: &TensorData,
    scale: &Value,
    zp: Option<&Value>,
    axis: i64,
    block: i64,
    target: DType,
) -> Result<Value, String> {
    let Buffer::Narrow(dtype, codes) = &x.data else {
        return Err(format!("cannot dequantize a {} tensor", x.dtype()));
    };
    let scales = floats(scale, "x_scale")?;
    let is_int = int_range(*dtype).is_some();
    let zps = match zp {
        Some(z) if is_int && z.dtype() != *dtype => {
            return Err(format!(
                "`x_zero_point` is {}, expected {dtype} like `x`",
                z.dtype()
            ));
        }
        Some(z) if is_int => zero_points(z)?,
        Some(z) => {
            let v = zero_points(z)?;
            if *dtype != DType::F4E2M1 && v.iter().any(|&v| v != 0.0) {
                return Err(format!("`x_zero_point` of a {dtype} input must be 0"));
            }
            vec![0.0; v.len()]
        }
        None => vec![0.0; scales.len()],
    };
    if zps.len() != scales.len() {
        return Err("`x_scale` and `x_zero_point` differ in size".into());
    }
    let r = runs(&x.shape, &scale.shape(), axis, block)?;
    let mut out = vec![0f32; codes.len()];
    each(&r, |e, p| {
        out[e] = (narrow::decode(*dtype, codes[e]) - zps[p]) * scales[p];
    });
    let y = f32_value(out, x.shape.clone());
    if target == DType::F32 {
        Ok(y)
    } else {
        crate::ops::generate::cast_value(y, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(dtype: DType, codes: Vec<u8>) -> TensorData {
        TensorData::new(vec![codes.len()], Buffer::Narrow(dtype, codes)).unwrap()
    }

    fn attrs() -> QuantAttrs {
        QuantAttrs {
            axis: 1,
            block: 0,
            saturate: true,
            precision: None,
        }
    }

    #[test]
    fn int4_round_trip_and_clamp() {
        let x = f32_value(vec![-30.0, 2.5, 3.5, 40.0], vec![4]);
        let s = f32_value(vec![2.0], vec![]);
        let z = Value::Host(Arc::new(host(DType::I4, vec![1])));
        let q = quantize(&x, &s, Some(&z), DType::I4, attrs()).unwrap();
        let Value::Host(t) = &q else {
            panic!("expected a host tensor")
        };
        assert_eq!(t.to_f64_vec().unwrap(), vec![-8.0, 2.0, 3.0, 7.0]);
        let y = dequantize(t, &s, Some(&z), 1, 0, DType::F32).unwrap();
        assert_eq!(y.to_f64_vec().unwrap(), vec![-18.0, 2.0, 4.0, 12.0]);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let x = f32_value(vec![1.0, 2.0], vec![2]);
        let zero = f32_value(vec![0.0], vec![]);
        assert!(quantize(&x, &zero, None, DType::I4, attrs()).is_err());
        let s = f32_value(vec![1.0, 2.0, 3.0], vec![3]);
        assert!(quantize(&x, &s, None, DType::F8E4M3FN, attrs()).is_err());
        let one = f32_value(vec![1.0], vec![]);
        let bad = QuantAttrs {
            precision: Some(DType::I8),
            ..attrs()
        };
        assert!(quantize(&x, &one, None, DType::U8, bad).is_err());
        let f8 = host(DType::F8E4M3FN, vec![0x38, 0x40]);
        let nonzero = Value::Host(Arc::new(host(DType::F8E4M3FN, vec![0x38])));
        assert!(dequantize(&f8, &one, Some(&nonzero), 1, 0, DType::F32).is_err());
        let u8zp = f32_value(vec![0.0], vec![]);
        assert!(
            dequantize(
                &host(DType::I4, vec![1]),
                &one,
                Some(&u8zp),
                1,
                0,
                DType::F32
            )
            .is_err()
        );
        assert!(quantize(&x, &one, None, DType::F8E8M0, attrs()).is_err());
    }
}
