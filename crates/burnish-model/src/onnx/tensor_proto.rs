//! Decoding ONNX `TensorProto` messages (raw, typed-field and external data) into [`TensorData`].

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use half::{bf16, f16};
use onnx_ir::TensorProto;

use crate::DType;
use crate::error::ModelError;
use crate::tensor::{Buffer, TensorData};

/// Decodes a tensor. `base_dir` resolves external data; errors
/// ([`ModelError::TensorProto`]) name no file or node: the caller adds them.
pub fn decode_tensor(
    proto: &TensorProto,
    base_dir: Option<&Path>,
) -> Result<TensorData, ModelError> {
    decode(proto, base_dir).map_err(|message| ModelError::TensorProto { message })
}

fn decode(proto: &TensorProto, base_dir: Option<&Path>) -> Result<TensorData, String> {
    let dtype = DType::from_onnx(proto.data_type)
        .ok_or_else(|| format!("unsupported tensor data type code {}", proto.data_type))?;
    let mut shape = Vec::with_capacity(proto.dims.len());
    for &d in &proto.dims {
        if d < 0 {
            return Err(format!("negative dimension {d} in {:?}", proto.dims));
        }
        shape.push(d as usize);
    }
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("dimensions {:?} overflow", proto.dims))?;

    let external = proto.data_location.value() == 1 || !proto.external_data.is_empty();
    let buffer = if external {
        let bits = count
            .checked_mul(dtype.bits())
            .ok_or_else(|| format!("dimensions {:?} overflow", proto.dims))?;
        let bytes = read_external(proto, base_dir, bits.div_ceil(8))?;
        Buffer::from_le_bytes(dtype, &bytes).map_err(|e| e.to_string())?
    } else if !proto.raw_data.is_empty() {
        Buffer::from_le_bytes(dtype, &proto.raw_data).map_err(|e| e.to_string())?
    } else {
        typed_fields(proto, dtype)?
    };
    let buffer = match buffer {
        Buffer::Narrow(d, mut codes)
            if codes.len() > count && codes.len() - count < 8 / d.bits() =>
        {
            codes.truncate(count);
            Buffer::Narrow(d, codes)
        }
        other => other,
    };
    if buffer.len() != count {
        return Err(format!(
            "tensor `{}` of shape {shape:?} holds {} elements, expected {count}",
            proto.name,
            buffer.len()
        ));
    }
    Ok(TensorData {
        shape,
        data: buffer,
    })
}

fn typed_fields(proto: &TensorProto, dtype: DType) -> Result<Buffer, String> {
    let i32s = &proto.int32_data;
    Ok(match dtype {
        DType::F32 => Buffer::F32(proto.float_data.clone()),
        DType::F64 => Buffer::F64(proto.double_data.clone()),
        DType::I64 => Buffer::I64(proto.int64_data.clone()),
        DType::I32 => Buffer::I32(i32s.clone()),
        DType::I16 => Buffer::I16(i32s.iter().map(|&v| v as i16).collect()),
        DType::I8 => Buffer::I8(i32s.iter().map(|&v| v as i8).collect()),
        DType::U16 => Buffer::U16(i32s.iter().map(|&v| v as u16).collect()),
        DType::U8 => Buffer::U8(i32s.iter().map(|&v| v as u8).collect()),
        DType::Bool => Buffer::Bool(i32s.iter().map(|&v| v != 0).collect()),
        DType::F16 => Buffer::F16(i32s.iter().map(|&v| f16::from_bits(v as u16)).collect()),
        DType::BF16 => Buffer::BF16(i32s.iter().map(|&v| bf16::from_bits(v as u16)).collect()),
        DType::U32 => Buffer::U32(proto.uint64_data.iter().map(|&v| v as u32).collect()),
        DType::U64 => Buffer::U64(proto.uint64_data.clone()),
        DType::String => Buffer::String(
            proto
                .string_data
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        ),
        narrow => {
            let bytes: Vec<u8> = i32s.iter().map(|&v| v as u8).collect();
            Buffer::from_le_bytes(narrow, &bytes).map_err(|e| e.to_string())?
        }
    })
}

fn read_external(
    proto: &TensorProto,
    base_dir: Option<&Path>,
    expected: usize,
) -> Result<Vec<u8>, String> {
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for entry in &proto.external_data {
        match entry.key.as_str() {
            "location" => location = Some(entry.value.clone()),
            "offset" => offset = entry.value.parse().map_err(|_| "bad external offset")?,
            "length" => length = Some(entry.value.parse::<u64>().map_err(|_| "bad length")?),
            _ => {}
        }
    }
    let location = location.ok_or("external data without a `location`")?;
    let rel = Path::new(&location);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(format!(
            "external data location `{location}` must stay inside the model's folder"
        ));
    }
    let dir = base_dir.ok_or("external data needs the model's folder (model given as bytes)")?;
    let path = dir.join(rel);
    let len = length.unwrap_or(expected as u64);
    let fail = |e: &dyn std::fmt::Display| format!("external data `{}`: {e}", path.display());
    let mut file = std::fs::File::open(&path).map_err(|e| fail(&e))?;
    let size = file.metadata().map_err(|e| fail(&e))?;
    if !size.is_file() {
        return Err(fail(&"not a regular file"));
    }
    if len != expected as u64 {
        return Err(fail(&format!(
            "length {len} does not match the tensor's {expected} bytes"
        )));
    }
    if offset.checked_add(len).is_none_or(|end| end > size.len()) {
        return Err(fail(&format!(
            "offset {offset} + length {len} runs past the end of the file ({} bytes)",
            size.len()
        )));
    }
    file.seek(SeekFrom::Start(offset)).map_err(|e| fail(&e))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes).map_err(|e| fail(&e))?;
    Ok(bytes)
}
