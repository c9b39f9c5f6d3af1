//! Minimal NPY/NPZ reading and writing (f32, f64, i64, i32, u8, i8, bool; little-endian,
//! C order), enough to feed the compiled model the same files `burnish run` takes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// Element data of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `<f4` (f64 and f16 arrays are read into this too).
    F32(Vec<f32>),
    /// `<i8` (i32, u8 and i8 arrays are read into this too).
    I64(Vec<i64>),
    /// `|b1`.
    Bool(Vec<bool>),
}

/// One array: shape plus data.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: Data,
}

fn parse_header(header: &str) -> Result<(String, Vec<usize>), String> {
    let field = |key: &str| {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or_else(|| format!("NPY header without `{key}`: {header}"))?;
        Ok::<&str, String>(header[at + key.len() + 2..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr")?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or_default()
        .to_string();
    if field("fortran_order")?.starts_with("True") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape = field("shape")?;
    let inner = shape
        .trim_start_matches('(')
        .split(')')
        .next()
        .unwrap_or_default();
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|e| format!("NPY shape `{inner}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((descr, shape))
}

/// Parses one `.npy` file's bytes.
pub fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not an NPY file".into());
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err("truncated NPY header".into()),
    };
    let header = bytes
        .get(start..start + len)
        .ok_or("truncated NPY header")?;
    let (descr, shape) = parse_header(&String::from_utf8_lossy(header))?;
    let body = &bytes[start + len..];
    let n: usize = shape.iter().product();
    let width = match descr.as_str() {
        "<f4" | "<i4" => 4,
        "<f8" | "<i8" => 8,
        "<f2" => 2,
        "|u1" | "|i1" | "|b1" => 1,
        other => return Err(format!("unsupported NPY dtype `{other}`")),
    };
    if body.len() < n * width {
        return Err(format!("NPY body holds {} bytes, {} needed", body.len(), n * width));
    }
    let chunks = body[..n * width].chunks_exact(width);
    let data = match descr.as_str() {
        "<f4" => Data::F32(chunks.map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()),
        "<f8" => Data::F32(
            chunks
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
        ),
        "<f2" => Data::F32(chunks.map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect()),
        "<i8" => Data::I64(chunks.map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()),
        "<i4" => Data::I64(
            chunks
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
        ),
        "|u1" => Data::I64(chunks.map(|c| i64::from(c[0])).collect()),
        "|i1" => Data::I64(chunks.map(|c| i64::from(c[0] as i8)).collect()),
        _ => Data::Bool(chunks.map(|c| c[0] != 0).collect()),
    };
    Ok(Array { shape, data })
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// Serializes one array as an NPY (version 1) file.
pub fn to_npy(a: &Array) -> Vec<u8> {
    let descr = match a.data {
        Data::F32(_) => "<f4",
        Data::I64(_) => "<i8",
        Data::Bool(_) => "|b1",
    };
    let shape = match a.shape.len() {
        1 => format!("({},)", a.shape[0]),
        _ => format!(
            "({})",
            a.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match &a.data {
        Data::F32(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::I64(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
    }
    out
}

/// Reads every array of an NPZ archive, keyed by name (without `.npy`).
pub fn read(path: &Path) -> Result<BTreeMap<String, Array>, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| err(&e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| err(&e))?;
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| err(&e))?;
        let name = entry
            .name()
            .map_err(|e| err(&e))?
            .trim_end_matches(".npy")
            .to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| err(&e))?;
        let array = parse_npy(&bytes).map_err(|e| err(&format!("`{name}`: {e}")))?;
        out.insert(name, array);
    }
    Ok(out)
}

/// Writes arrays as an NPZ archive (stored, uncompressed), through a temporary file and a
/// rename.
pub fn write(path: &Path, arrays: &BTreeMap<String, Array>) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, a) in arrays {
            zip.start_file(format!("{name}.npy"), opts).map_err(|e| err(&e))?;
            zip.write_all(&to_npy(a)).map_err(|e| err(&e))?;
        }
        zip.finish().map_err(|e| err(&e))?;
    }
    let tmp = path.with_extension("npz.tmp");
    std::fs::write(&tmp, buf.into_inner()).map_err(|e| err(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| err(&e))
}
