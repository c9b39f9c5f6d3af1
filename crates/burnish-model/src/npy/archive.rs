//! Reading `.npy` files and `.npz` archives from disk, streamed: no declared size (zip header,
//! NPY shape) is trusted before the bytes are there, and nothing larger than the memory budget
//! is read.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::{MAGIC, read_npy, tensor_file_err};
use crate::error::ModelError;
use crate::limits::check_bytes;
use crate::tensor::TensorData;

/// Trailing bytes after an NPZ member's array data that are read (to reach the end of the
/// member, where its checksum is verified) before the member counts as malformed.
const MAX_TRAILING: u64 = 1 << 16;

/// Reads every array of an `.npz` archive (or a single `.npy` file, keyed by its file stem).
/// Errors name the file and, inside an archive, the member.
pub fn read_tensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, TensorData>, ModelError> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    if meta.is_dir() {
        return Err(tensor_file_err(
            path,
            None,
            "is a directory, not an NPY or NPZ file",
        ));
    }
    let file = File::open(path).map_err(|e| ModelError::io(path, e))?;
    read_tensors_from(BufReader::new(file), path)
}

/// Reads every array of an `.npz` archive or `.npy` file held by `reader`; `path` names it in
/// errors (and keys a lone `.npy` array by its stem). The same checks as [`read_tensors`]: no
/// declared size is trusted before its bytes are read.
pub fn read_tensors_from<R: Read + Seek>(
    mut reader: R,
    path: &Path,
) -> Result<BTreeMap<String, TensorData>, ModelError> {
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut reader, &mut magic).map_err(|e| ModelError::io(path, e))?;
    if n == MAGIC.len() && magic == MAGIC {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut stream = MAGIC.chain(reader);
        let (t, _) =
            read_npy(&mut stream).map_err(|e| tensor_file_err(path, None, e.to_string()))?;
        return Ok(BTreeMap::from([(stem, t)]));
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| ModelError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| {
        let what = if n == 0 {
            "an empty file"
        } else {
            "not an NPY array or an NPZ archive"
        };
        tensor_file_err(path, None, format!("{what} ({e})"))
    })?;
    let mut out = BTreeMap::new();
    let mut total = 0usize;
    for i in 0..archive.len() {
        let mut member = archive
            .by_index(i)
            .map_err(|e| tensor_file_err(path, None, format!("member #{i}: {e}")))?;
        let name = member
            .name()
            .map_err(|e| tensor_file_err(path, None, format!("member #{i}: {e}")))?
            .into_owned();
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        let err = |m: String| tensor_file_err(path, Some(&key), m);
        if out.contains_key(&key) {
            return Err(err("the archive holds this array twice".into()));
        }
        let declared = member.size();
        let (t, read) = read_npy(&mut member).map_err(|e| err(e.to_string()))?;
        let mut rest = Vec::new();
        (&mut member)
            .take(MAX_TRAILING + 1)
            .read_to_end(&mut rest)
            .map_err(|e| err(e.to_string()))?;
        if rest.len() as u64 > MAX_TRAILING {
            return Err(err(format!(
                "the member holds more than {MAX_TRAILING} bytes after its array data"
            )));
        }
        let actual = read + rest.len() as u64;
        if actual != declared {
            return Err(err(format!(
                "the zip header declares {declared} bytes but the member holds {actual}"
            )));
        }
        total = check_bytes(total.checked_add(t.byte_size()), "the arrays of this file")
            .map_err(|e| tensor_file_err(path, None, e.to_string()))?;
        out.insert(key, t);
    }
    Ok(out)
}

/// Reads into `buf` until it is full or the stream ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
