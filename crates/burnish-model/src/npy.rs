//! NumPy `.npy` arrays and `.npz` archives: the tensor file format of the CLI.
//!
//! NPZ keys are the exact ONNX input/output names. Writing goes to a temporary file in the
//! destination folder and is renamed into place, so a failed run never leaves a partial file.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use crate::DType;
use crate::error::ModelError;
use crate::tensor::{Buffer, TensorData};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses one `.npy` payload; errors are plain messages.
pub fn parse_npy(bytes: &[u8]) -> Result<TensorData, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not an NPY array (bad magic)".into());
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated NPY header".into());
            }
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
            (len, 12)
        }
        v => return Err(format!("unsupported NPY version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated NPY header")?;
    let header = std::str::from_utf8(header).map_err(|_| "NPY header is not text")?;
    let descr = dict_value(header, "descr").ok_or("NPY header has no `descr`")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = dict_value(header, "fortran_order").ok_or("NPY header has no `fortran_order`")?;
    if fortran.trim() == "True" {
        return Err("Fortran-ordered arrays are not supported (use np.ascontiguousarray)".into());
    }
    let shape_text = dict_value(header, "shape").ok_or("NPY header has no `shape`")?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad NPY shape `{shape_text}`"))
        })
        .collect::<Result<_, _>>()?;
    let (order, code) = descr.split_at(1);
    if order == ">" && code != "i1" && code != "u1" && code != "b1" {
        return Err(format!("big-endian arrays are not supported (`{descr}`)"));
    }
    let dtype = match code {
        "f4" => DType::F32,
        "f2" => DType::F16,
        "f8" => DType::F64,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "b1" => DType::Bool,
        other => return Err(format!("unsupported NPY dtype `{other}`")),
    };
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("NPY shape overflows")?;
    let payload = &bytes[start + header_len..];
    let need = count * dtype.size();
    if payload.len() < need {
        return Err(format!(
            "truncated NPY data: {} bytes for shape {shape:?} of {dtype}, need {need}",
            payload.len()
        ));
    }
    let data = Buffer::from_le_bytes(dtype, &payload[..need])?;
    Ok(TensorData { shape, data })
}

/// Finds `'key': value` in the NPY header dict; returns the raw value text.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(&rest[..end])
}

/// Serializes a tensor as an NPY (version 1) payload.
pub fn to_npy(t: &TensorData) -> Result<Vec<u8>, String> {
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
        other => return Err(format!("{other} tensors cannot be written to NPY")),
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
    out.extend(
        t.data
            .to_le_bytes()
            .ok_or("string tensors cannot be written to NPY")?,
    );
    Ok(out)
}

fn tensor_file_err(path: &Path, entry: Option<&str>, message: impl Into<String>) -> ModelError {
    ModelError::TensorFile {
        path: path.display().to_string(),
        entry: entry.map(str::to_string),
        message: message.into(),
    }
}

/// Reads every array of an `.npz` archive (or a single `.npy` file, keyed by its file stem).
pub fn read_tensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, TensorData>, ModelError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    if bytes.starts_with(MAGIC) {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let t = parse_npy(&bytes).map_err(|m| tensor_file_err(path, None, m))?;
        return Ok(BTreeMap::from([(stem, t)]));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| tensor_file_err(path, None, format!("not an NPZ archive: {e}")))?;
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| tensor_file_err(path, None, e.to_string()))?;
        let name = file
            .name()
            .map_err(|e| tensor_file_err(path, None, e.to_string()))?
            .into_owned();
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let mut data = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut data)
            .map_err(|e| tensor_file_err(path, Some(&key), e.to_string()))?;
        let t = parse_npy(&data).map_err(|m| tensor_file_err(path, Some(&key), m))?;
        out.insert(key, t);
    }
    Ok(out)
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
            let npy = to_npy(t).map_err(|m| tensor_file_err(path, Some(name), m))?;
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
    }
}
