//! NumPy `.npy` arrays and `.npz` archives: the tensor file format of the CLI.
//!
//! NPZ keys are the exact ONNX input/output names. Writing goes to a temporary file in the
//! destination folder and is renamed into place, so a failed run never leaves a partial file.

use std::io::{Read, Write};
use std::path::Path;

use crate::DType;
use crate::error::{ModelError, NpyError};
use crate::tensor::{Buffer, TensorData};

mod archive;
mod header;

pub use archive::{read_tensors, read_tensors_from};
pub use header::{Header, MAX_HEADER_BYTES, parse_header};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses one `.npy` payload held in memory; errors name no file. Bytes after the array data
/// are ignored, as numpy does.
pub fn parse_npy(bytes: &[u8]) -> Result<TensorData, NpyError> {
    let (header_len, start) =
        header::header_span(&bytes[..bytes.len().min(12)]).map_err(NpyError::Header)?;
    let raw = bytes
        .get(start..start + header_len)
        .ok_or_else(|| NpyError::Header("truncated NPY header".into()))?;
    let header = parse_header(raw, bytes[6] == 3)?;
    let need = header.data_bytes()?;
    let payload = &bytes[start + header_len..];
    if payload.len() < need {
        return Err(truncated(payload.len(), &header, need));
    }
    decode(&header, &payload[..need])
}

/// Reads one NPY array from a stream, never trusting a declared size: the header is read
/// first (bounded), then exactly the bytes its shape needs (checked against the memory
/// budget). Returns the array and the number of bytes read.
pub fn read_npy(reader: &mut impl Read) -> Result<(TensorData, u64), NpyError> {
    let mut prefix = Vec::with_capacity(12);
    reader.take(12).read_to_end(&mut prefix)?;
    let (header_len, start) = header::header_span(&prefix).map_err(NpyError::Header)?;
    let mut raw = prefix.split_off(start.min(prefix.len()));
    let missing = (header_len as u64).saturating_sub(raw.len() as u64);
    reader.take(missing).read_to_end(&mut raw)?;
    if raw.len() < header_len {
        return Err(NpyError::Header("truncated NPY header".into()));
    }
    let payload_head = raw.split_off(header_len);
    let header = parse_header(&raw, prefix[6] == 3)?;
    let need = header.data_bytes()?;
    let mut payload = Vec::with_capacity(need);
    payload.extend_from_slice(&payload_head[..payload_head.len().min(need)]);
    let missing = (need - payload.len()) as u64;
    reader.take(missing).read_to_end(&mut payload)?;
    if payload.len() < need {
        return Err(truncated(payload.len(), &header, need));
    }
    let read = (start + header_len + need) as u64;
    Ok((decode(&header, &payload)?, read))
}

fn truncated(have: usize, header: &Header, need: usize) -> NpyError {
    NpyError::Truncated {
        have,
        shape: header.shape.clone(),
        dtype: header.dtype,
        need,
    }
}

/// Little-endian, row-major elements of `header`'s type from exactly its data bytes.
fn decode(header: &Header, payload: &[u8]) -> Result<TensorData, NpyError> {
    let size = header.dtype.size();
    let swapped;
    let mut bytes = payload;
    if header.big_endian {
        swapped = payload
            .chunks_exact(size)
            .flat_map(|c| c.iter().rev().copied())
            .collect::<Vec<u8>>();
        bytes = &swapped;
    }
    let reordered;
    if header.fortran_order && header.shape.len() > 1 {
        reordered = fortran_to_c(bytes, &header.shape, size);
        bytes = &reordered;
    }
    let data = Buffer::from_le_bytes(header.dtype, bytes)?;
    Ok(TensorData::new(header.shape.clone(), data)?)
}

/// Column-major bytes of `shape` (elements of `size` bytes) in row-major order.
fn fortran_to_c(bytes: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let rank = shape.len();
    let mut strides = vec![1usize; rank];
    for k in 1..rank {
        strides[k] = strides[k - 1] * shape[k - 1];
    }
    let mut index = vec![0usize; rank];
    let count = bytes.len() / size.max(1);
    for _ in 0..count {
        let offset: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.extend_from_slice(&bytes[offset * size..(offset + 1) * size]);
        for k in (0..rank).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// Serializes a tensor as an NPY (version 1) payload.
pub fn to_npy(t: &TensorData) -> Result<Vec<u8>, NpyError> {
    let code = match t.dtype() {
        DType::F32 => "<f4",
        DType::F16 => "<f2",
        DType::F64 => "<f8",
        DType::I8 => "|i1",
        DType::I16 => "<i2",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::U8 => "|u1",
        DType::U16 => "<u2",
        DType::U32 => "<u4",
        DType::U64 => "<u8",
        DType::Bool => "|b1",
        dtype => return Err(NpyError::Unwritable { dtype }),
    };
    let shape = match t.shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", t.shape[0]),
        _ => format!(
            "({})",
            t.shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{code}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(header.len() + 10 + t.byte_size());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(t.data.to_le_bytes().ok_or(NpyError::Unwritable {
        dtype: DType::String,
    })?);
    Ok(out)
}

pub(crate) fn tensor_file_err(
    path: &Path,
    entry: Option<&str>,
    message: impl Into<String>,
) -> ModelError {
    ModelError::TensorFile {
        path: path.display().to_string(),
        entry: entry.map(str::to_string),
        message: message.into(),
    }
}

/// Writes tensors as an uncompressed `.npz` archive, atomically (temp file, then rename).
pub fn write_npz<'a>(
    path: impl AsRef<Path>,
    tensors: impl IntoIterator<Item = (&'a str, &'a TensorData)>,
) -> Result<(), ModelError> {
    let path = path.as_ref();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        for (name, t) in tensors {
            let npy = to_npy(t).map_err(|e| tensor_file_err(path, Some(name), e.to_string()))?;
            zip.start_file(format!("{name}.npy"), opts)
                .map_err(|e| tensor_file_err(path, Some(name), e.to_string()))?;
            zip.write_all(&npy).map_err(|e| ModelError::io(path, e))?;
        }
        zip.finish()
            .map_err(|e| tensor_file_err(path, None, e.to_string()))?;
    }
    write_atomic(path, buf.get_ref())
}

/// Writes `bytes` to `path` through a temporary sibling file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ModelError::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_keeps_shape_dtype_and_values() {
        let t = TensorData::new(vec![2, 3], Buffer::I64(vec![1, -2, 3, 4, 5, i64::MAX])).unwrap();
        let back = parse_npy(&to_npy(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let s = TensorData::from_f32(vec![], vec![1.5]);
        assert_eq!(parse_npy(&to_npy(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn truncated_npy_is_an_error() {
        let t = TensorData::from_f32(vec![4], vec![1.0, 2.0, 3.0, 4.0]);
        let bytes = to_npy(&t).unwrap();
        for cut in [3, 9, 40, bytes.len() - 1] {
            assert!(parse_npy(&bytes[..cut]).is_err(), "cut at {cut} accepted");
        }
        assert_eq!(
            parse_npy(&bytes[..bytes.len() - 1])
                .unwrap_err()
                .to_string(),
            "truncated NPY data: 15 bytes for shape [4] of float, need 16"
        );
        let strings = TensorData::new(vec![1], Buffer::String(vec!["a".into()])).unwrap();
        assert_eq!(
            to_npy(&strings).unwrap_err().to_string(),
            "string tensors cannot be written to NPY"
        );
    }
}
