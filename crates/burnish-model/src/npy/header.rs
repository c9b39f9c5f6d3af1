//! The NPY header: a Python dict literal, read as strictly as numpy's `_read_array_header`
//! (exactly the keys `descr`, `fortran_order` and `shape`; `shape` a tuple of non-negative
//! ints; `fortran_order` a bool; `descr` a plain dtype string), by a small literal parser
//! rather than by searching the text.

use crate::DType;
use crate::error::NpyError;

/// Largest header numpy reads by default (`max_header_size`).
pub const MAX_HEADER_BYTES: usize = 10_000;

/// What an NPY header declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Element type.
    pub dtype: DType,
    /// Elements stored most significant byte first.
    pub big_endian: bool,
    /// Elements stored in column-major order.
    pub fortran_order: bool,
    /// Array shape.
    pub shape: Vec<usize>,
}

impl Header {
    /// Bytes of the array data, checked against overflow and the memory budget.
    pub fn data_bytes(&self) -> Result<usize, NpyError> {
        crate::limits::check_tensor(&self.shape, self.dtype.size()).map_err(NpyError::Size)
    }
}

/// The fixed prefix of an NPY file: its version's header length and where the header starts.
/// `prefix` must hold at least the first 12 bytes (or the whole file when shorter).
pub fn header_span(prefix: &[u8]) -> Result<(usize, usize), String> {
    if prefix.len() < 6 || &prefix[..6] != super::MAGIC {
        return Err("not an NPY array (bad magic)".into());
    }
    if prefix.len() < 10 {
        return Err("truncated NPY header".into());
    }
    let (len, start) = match (prefix[6], prefix[7]) {
        (1, 0) => (u16::from_le_bytes([prefix[8], prefix[9]]) as usize, 10),
        (2 | 3, 0) => {
            let b = prefix.get(8..12).ok_or("truncated NPY header")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        (major, minor) => return Err(format!("unsupported NPY version {major}.{minor}")),
    };
    if len > MAX_HEADER_BYTES {
        return Err(format!(
            "NPY header of {len} bytes is longer than numpy reads ({MAX_HEADER_BYTES})"
        ));
    }
    Ok((len, start))
}

/// Parses the header text (version 3 headers are UTF-8, older ones Latin-1).
pub fn parse_header(raw: &[u8], utf8: bool) -> Result<Header, NpyError> {
    header_fields(raw, utf8).map_err(NpyError::Header)
}

fn header_fields(raw: &[u8], utf8: bool) -> Result<Header, String> {
    let text: String = if utf8 {
        std::str::from_utf8(raw)
            .map_err(|_| "NPY header is not UTF-8 text")?
            .to_string()
    } else {
        raw.iter().map(|&b| b as char).collect()
    };
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let lit = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err("NPY header has text after its dict".into());
    }
    let Lit::Dict(entries) = lit else {
        return Err("NPY header is not a dict".into());
    };
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    for (k, v) in entries {
        let Lit::Str(k) = k else {
            return Err("NPY header has a key that is not a string".into());
        };
        let slot = match k.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => return Err(format!("NPY header has an unexpected key `{other}`")),
        };
        if slot.replace(v).is_some() {
            return Err(format!("NPY header has the key `{k}` twice"));
        }
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err("NPY header must have the keys `descr`, `fortran_order` and `shape`".into());
    };
    let Lit::Bool(fortran_order) = fortran else {
        return Err("NPY header `fortran_order` is not True or False".into());
    };
    let Lit::Tuple(dims) = shape else {
        return Err("NPY header `shape` is not a tuple".into());
    };
    let shape = dims
        .iter()
        .map(|d| match d {
            Lit::Int(n) if *n >= 0 => usize::try_from(*n).map_err(|_| format!("dim {n} overflows")),
            _ => Err("NPY header `shape` must hold non-negative integers".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (dtype, big_endian) = match descr {
        Lit::Str(s) => parse_descr(&s)?,
        Lit::List => return Err("structured NPY arrays are not supported".into()),
        _ => return Err("NPY header `descr` is not a dtype string".into()),
    };
    Ok(Header {
        dtype,
        big_endian,
        fortran_order,
        shape,
    })
}

/// `'<f4'` and friends: byte order (`<`, `>`, `|`, `=` or none) and a type code.
fn parse_descr(descr: &str) -> Result<(DType, bool), String> {
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &descr[1..]),
        Some(_) => ('=', descr),
        None => return Err("NPY header `descr` is empty".into()),
    };
    let dtype = match code {
        "f2" => DType::F16,
        "f4" => DType::F32,
        "f8" => DType::F64,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "b1" | "?" => DType::Bool,
        _ => return Err(format!("unsupported NPY dtype `{descr}`")),
    };
    let big_endian = order == '>' || (order == '=' && cfg!(target_endian = "big"));
    Ok((dtype, big_endian && dtype.size() > 1))
}

/// A Python literal of the kinds an NPY header may hold.
#[derive(Debug)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    Other,
    Tuple(Vec<Lit>),
    List,
    Dict(Vec<(Lit, Lit)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn bad(&self) -> String {
        format!("NPY header is not a Python literal (at byte {})", self.i)
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.depth += 1;
        if self.depth > 32 {
            return Err("NPY header nests too deeply".into());
        }
        let v = match self.peek().ok_or_else(|| self.bad())? {
            b'{' => self.dict(),
            b'(' => self.seq(b')', true),
            b'[' => self.seq(b']', false),
            b'\'' | b'"' => self.string().map(Lit::Str),
            b'-' | b'+' | b'0'..=b'9' | b'.' => self.number(),
            c if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.bad()),
        };
        self.depth -= 1;
        v
    }

    fn dict(&mut self) -> Result<Lit, String> {
        self.i += 1;
        let mut entries = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Lit::Dict(entries));
            }
            let k = self.value()?;
            if self.peek() != Some(b':') {
                return Err(self.bad());
            }
            self.i += 1;
            let v = self.value()?;
            entries.push((k, v));
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.bad()),
            }
        }
    }

    /// A tuple (`(a,)`, `()`, or a parenthesized value `(a)`) or a list.
    fn seq(&mut self, close: u8, tuple: bool) -> Result<Lit, String> {
        self.i += 1;
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                break;
            }
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    comma = true;
                }
                Some(c) if c == close => {}
                _ => return Err(self.bad()),
            }
        }
        Ok(match (tuple, items.len(), comma) {
            (true, 1, false) => items.pop().unwrap_or(Lit::Other),
            (true, ..) => Lit::Tuple(items),
            (false, ..) => Lit::List,
        })
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.i];
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or_else(|| self.bad())?;
                    self.i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                }
                c if c == quote => return String::from_utf8(out).map_err(|_| self.bad()),
                b'\n' => return Err(self.bad()),
                c => out.push(c),
            }
        }
        Err(self.bad())
    }

    fn number(&mut self) -> Result<Lit, String> {
        let start = self.i;
        if matches!(self.s[self.i], b'-' | b'+') {
            self.i += 1;
        }
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.bad())?;
        // numpy strips the `L` of Python 2 longs from version 1 and 2 headers.
        let int_text = text.strip_suffix('L').unwrap_or(text);
        if let Ok(n) = int_text.parse::<i128>() {
            return Ok(Lit::Int(n));
        }
        text.parse::<f64>()
            .map(|_| Lit::Other)
            .map_err(|_| self.bad())
    }

    fn word(&mut self) -> Result<Lit, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        match &self.s[start..self.i] {
            b"True" => Ok(Lit::Bool(true)),
            b"False" => Ok(Lit::Bool(false)),
            b"None" => Ok(Lit::Other),
            _ => Err(self.bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Header, NpyError> {
        parse_header(text.as_bytes(), false)
    }

    #[test]
    fn numpy_headers_parse() {
        let h = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  \n").unwrap();
        assert_eq!(
            (h.dtype, h.shape, h.fortran_order),
            (DType::F32, vec![2, 3], false)
        );
        let h = parse("{\"descr\": \"|b1\", \"fortran_order\": True, \"shape\": (7,)}").unwrap();
        assert_eq!(
            (h.dtype, h.shape, h.fortran_order),
            (DType::Bool, vec![7], true)
        );
        assert_eq!(
            parse("{'descr':'>i8','fortran_order':False,'shape':()}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
        assert!(
            parse("{'descr':'>i8','fortran_order':False,'shape':()}")
                .unwrap()
                .big_endian
        );
        assert_eq!(
            parse("{'descr':'<i8','fortran_order':False,'shape':(3L, 4L)}")
                .unwrap()
                .shape,
            vec![3, 4]
        );
    }

    #[test]
    fn headers_numpy_rejects_are_errors() {
        for bad in [
            "{'descr': '', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'foo': 1}",
            "{'descr': '<f4', 'fortran_order': 'maybe', 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ((2, 1), 8), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 1], }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }",
            "{'descr': '<f4', 'fortran_order': False, }",
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
            "[1, 2]",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
            "",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "(".repeat(100_000);
        assert!(parse(&text).is_err());
    }
}
