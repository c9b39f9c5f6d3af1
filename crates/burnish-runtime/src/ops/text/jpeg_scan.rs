//! JPEG entropy decoding (Huffman; sequential and progressive scans, JPEG spec annexes F and G)
//! into per-component coefficient blocks.

use super::jpeg::Component;

/// Zig-zag order: the natural (row-major) position of the k-th coefficient.
pub(crate) const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The natural position of zig-zag index `k`; indexes past the end (corrupt runs) land on the
/// last coefficient, as in libjpeg.
fn natural(k: usize) -> usize {
    ZIGZAG.get(k).copied().unwrap_or(63)
}

/// A Huffman table in the canonical form of the JPEG spec (Annex F.2.2.3).
#[derive(Clone, Default)]
pub(crate) struct Huffman {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    /// The table with `counts[i]` codes of length `i + 1` for `values`, in order.
    pub(crate) fn new(counts: &[u8; 16], values: Vec<u8>) -> Huffman {
        let mut h = Huffman {
            maxcode: [-1; 17],
            values,
            ..Default::default()
        };
        let (mut code, mut k) = (0i32, 0i32);
        for len in 1..=16 {
            let n = counts[len - 1] as i32;
            if n > 0 {
                h.valptr[len] = k;
                h.mincode[len] = code;
                code += n;
                k += n;
                h.maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        h
    }
}

/// Reads entropy-coded bits, undoing 0xFF00 stuffing; at a marker it supplies zero bits.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    count: u32,
}

impl Bits<'_> {
    fn bit(&mut self) -> i32 {
        if self.count == 0 {
            let mut byte = 0u8;
            if let Some(&b) = self.data.get(self.pos) {
                if b != 0xFF {
                    byte = b;
                    self.pos += 1;
                } else if self.data.get(self.pos + 1) == Some(&0) {
                    byte = 0xFF;
                    self.pos += 2;
                }
            }
            self.acc = byte as u32;
            self.count = 8;
        }
        self.count -= 1;
        ((self.acc >> self.count) & 1) as i32
    }

    fn receive(&mut self, n: u32) -> i32 {
        (0..n).fold(0, |v, _| (v << 1) | self.bit())
    }

    fn decode(&mut self, h: &Huffman) -> Result<u8, String> {
        let mut code = self.bit();
        for len in 1..=16 {
            if code <= h.maxcode[len] {
                let i = h.valptr[len] + code - h.mincode[len];
                return h
                    .values
                    .get(i as usize)
                    .copied()
                    .ok_or_else(|| "JPEG Huffman code has no symbol".to_string());
            }
            code = (code << 1) | self.bit();
        }
        Err("JPEG stream holds an invalid Huffman code".into())
    }

    /// Drops buffered bits and steps over the next RSTn marker, if one comes before any other
    /// marker.
    fn restart(&mut self) {
        self.count = 0;
        while let [a, b, ..] = self.data[self.pos.min(self.data.len())..] {
            if a == 0xFF && (0xD0..=0xD7).contains(&b) {
                self.pos += 2;
                return;
            }
            if a == 0xFF && b != 0 {
                return;
            }
            self.pos += 1;
        }
    }

    /// Position of the marker that ends the entropy-coded segment.
    fn end(&self) -> usize {
        let mut p = self.pos;
        while let [a, b, ..] = self.data[p.min(self.data.len())..] {
            if a == 0xFF && b != 0 && !(0xD0..=0xD7).contains(&b) {
                return p;
            }
            p += 1;
        }
        self.data.len()
    }
}

/// The signed value of the `n`-bit magnitude category `v` (spec F.2.2.1 EXTEND).
fn extend(v: i32, n: u32) -> i32 {
    if n == 0 {
        0
    } else if v < 1 << (n - 1) {
        v - (1 << n) + 1
    } else {
        v
    }
}

/// One scan's parameters: its components (indexes into the frame's), spectral band `ss..=se`
/// and successive-approximation bits.
pub(crate) struct Scan {
    pub comps: Vec<usize>,
    pub ss: usize,
    pub se: usize,
    pub ah: u32,
    pub al: u32,
    pub progressive: bool,
}

/// Decoder state shared by the blocks of one scan.
struct State<'a, 'd> {
    bits: Bits<'d>,
    scan: &'a Scan,
    dc: &'a [Option<Huffman>],
    ac: &'a [Option<Huffman>],
    eobrun: u32,
}

fn table<'t>(tables: &'t [Option<Huffman>], i: usize, what: &str) -> Result<&'t Huffman, String> {
    tables
        .get(i)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("JPEG scan uses an undefined {what} Huffman table"))
}

impl State<'_, '_> {
    /// Decodes the scan's share of one block.
    fn block(&mut self, c: &mut Component, idx: usize) -> Result<(), String> {
        let (dc_t, ac_t) = (c.dc, c.ac);
        let Some(blk) = c.coefs.get_mut(idx) else {
            return Ok(());
        };
        let (ss, se, al) = (self.scan.ss, self.scan.se, self.scan.al);
        if ss == 0 {
            if self.scan.ah == 0 || !self.scan.progressive {
                let t = self.bits.decode(table(self.dc, dc_t, "DC")?)? as u32;
                if t > 16 {
                    return Err("JPEG DC magnitude category is above 16".into());
                }
                c.pred = c.pred.wrapping_add(extend(self.bits.receive(t), t));
                blk[0] = c.pred.wrapping_shl(al) as i16;
            } else if self.bits.bit() != 0 {
                blk[0] |= (1i32 << al) as i16;
            }
            if self.scan.progressive {
                return Ok(());
            }
        }
        let ac = table(self.ac, ac_t, "AC")?;
        if self.scan.progressive && self.scan.ah != 0 {
            return self.refine_ac(blk, ac);
        }
        if self.eobrun > 0 {
            self.eobrun -= 1;
            return Ok(());
        }
        let mut k = ss.max(1);
        while k <= se {
            let rs = self.bits.decode(ac)?;
            let (r, s) = ((rs >> 4) as u32, (rs & 15) as u32);
            if s == 0 {
                if r == 15 {
                    k += 16;
                    continue;
                }
                if self.scan.progressive {
                    self.eobrun = (1u32 << r) - 1 + self.bits.receive(r) as u32;
                }
                break;
            }
            k += r as usize;
            blk[natural(k)] = extend(self.bits.receive(s), s).wrapping_shl(al) as i16;
            k += 1;
        }
        Ok(())
    }

    /// Refines bit `al` of the nonzero coefficients of band `ss..=se` and places the newly
    /// nonzero ones (spec G.1.2.3).
    fn refine_ac(&mut self, blk: &mut [i16; 64], ac: &Huffman) -> Result<(), String> {
        let (se, al) = (self.scan.se, self.scan.al);
        let (p1, m1) = ((1i32 << al) as i16, (-1i32 << al) as i16);
        let mut k = self.scan.ss;
        let correct = |bits: &mut Bits, c: &mut i16| {
            if bits.bit() != 0 && *c & p1 == 0 {
                *c = c.wrapping_add(if *c >= 0 { p1 } else { m1 });
            }
        };
        if self.eobrun == 0 {
            while k <= se {
                let rs = self.bits.decode(ac)?;
                let (mut r, s) = ((rs >> 4) as i32, rs & 15);
                let mut value = 0i16;
                if s != 0 {
                    value = if self.bits.bit() != 0 { p1 } else { m1 };
                } else if r != 15 {
                    self.eobrun = (1u32 << r) + self.bits.receive(r as u32) as u32;
                    break;
                }
                while k <= se {
                    let z = natural(k);
                    if blk[z] != 0 {
                        correct(&mut self.bits, &mut blk[z]);
                    } else {
                        r -= 1;
                        if r < 0 {
                            break;
                        }
                    }
                    k += 1;
                }
                if value != 0 {
                    blk[natural(k)] = value;
                }
                k += 1;
            }
        }
        if self.eobrun > 0 {
            while k <= se {
                let z = natural(k);
                if blk[z] != 0 {
                    correct(&mut self.bits, &mut blk[z]);
                }
                k += 1;
            }
            self.eobrun -= 1;
        }
        Ok(())
    }
}

/// Decodes one scan starting at `data` into the components' coefficients; returns the number
/// of bytes it used. `mcus` is the frame's MCU grid, `restart` its restart interval.
pub(crate) fn decode_scan(
    data: &[u8],
    comps: &mut [Component],
    scan: &Scan,
    (dc, ac): (&[Option<Huffman>], &[Option<Huffman>]),
    (mx, my): (usize, usize),
    restart: usize,
) -> Result<usize, String> {
    let mut st = State {
        bits: Bits {
            data,
            pos: 0,
            acc: 0,
            count: 0,
        },
        scan,
        dc,
        ac,
        eobrun: 0,
    };
    for &ci in &scan.comps {
        comps[ci].pred = 0;
    }
    let single = scan.comps.len() == 1;
    let (units_x, units_y) = match scan.comps.as_slice() {
        [ci] => (comps[*ci].cw.div_ceil(8), comps[*ci].ch.div_ceil(8)),
        _ => (mx, my),
    };
    for m in 0..units_x * units_y {
        if restart > 0 && m > 0 && m % restart == 0 {
            st.bits.restart();
            st.eobrun = 0;
            for &ci in &scan.comps {
                comps[ci].pred = 0;
            }
        }
        let (ux, uy) = (m % units_x, m / units_x);
        for &ci in &scan.comps {
            let c = &mut comps[ci];
            if single {
                let idx = uy * c.bw + ux;
                st.block(c, idx)?;
                continue;
            }
            for v in 0..c.v {
                for h in 0..c.h {
                    let idx = (uy * c.v + v) * c.bw + ux * c.h + h;
                    st.block(c, idx)?;
                }
            }
        }
    }
    Ok(st.bits.end())
}
