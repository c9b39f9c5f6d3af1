//! Baseline (sequential Huffman, 8-bit) JPEG decoding that reproduces libjpeg's default output
//! exactly: the accurate integer IDCT, "fancy" (triangle-filter) chroma upsampling and libjpeg's
//! fixed-point YCbCr to RGB conversion. The ONNX `ImageDecoder` reference decodes with Pillow,
//! which uses libjpeg; other decoders round differently by a level or two. Streams this module
//! does not handle (progressive, arithmetic coding, 12-bit, CMYK) are left to the caller.

use super::upsample::{Plane, upsample};

/// A decoded image: `channels` (1 or 3) interleaved samples per pixel, row-major.
pub(crate) struct Decoded {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub pixels: Vec<u8>,
}

/// Largest image (in pixels) this decoder allocates for.
const MAX_PIXELS: usize = 1 << 28;

/// Zig-zag order: the natural (row-major) position of the k-th coefficient.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// A Huffman table in the canonical form of the JPEG spec (Annex F.2.2.3).
#[derive(Clone, Default)]
struct Huffman {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Huffman {
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

    fn receive(&mut self, n: u8) -> i32 {
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

    /// Drops buffered bits and steps over the next RSTn marker, if one is there.
    fn restart(&mut self) {
        self.count = 0;
        while self.pos + 1 < self.data.len()
            && !(self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]))
        {
            if self.data[self.pos] == 0xFF && self.data[self.pos + 1] != 0 {
                return;
            }
            self.pos += 1;
        }
        if self.pos + 1 < self.data.len() {
            self.pos += 2;
        }
    }

    /// Position of the marker that ends the entropy-coded segment.
    fn end(&self) -> usize {
        let mut p = self.pos;
        while p + 1 < self.data.len() {
            if self.data[p] == 0xFF
                && self.data[p + 1] != 0
                && !(0xD0..=0xD7).contains(&self.data[p + 1])
            {
                return p;
            }
            p += 1;
        }
        self.data.len()
    }
}

fn extend(v: i32, n: u8) -> i32 {
    if n == 0 {
        0
    } else if v < 1 << (n - 1) {
        v - (1 << n) + 1
    } else {
        v
    }
}

/// libjpeg's accurate integer inverse DCT (`jpeg_idct_islow`) of one dequantized block,
/// written into `out` at `stride`, range-limited to 0..=255.
fn idct_islow(coef: &[i32; 64], out: &mut [u8], stride: usize) {
    const CB: i64 = 13;
    const P1: i64 = 2;
    let descale = |x: i64, n: i64| (x + (1 << (n - 1))) >> n;
    let mut ws = [0i64; 64];
    // One 1-D pass; `get(i)` reads element i of the column or row, results via `put`.
    let pass = |get: &dyn Fn(usize) -> i64, put: &mut dyn FnMut(usize, i64), shift: i64| {
        let (z2, z3) = (get(2), get(6));
        let z1 = (z2 + z3) * 4433;
        let tmp2 = z1 - z3 * 15137;
        let tmp3 = z1 + z2 * 6270;
        let (z2, z3) = (get(0), get(4));
        let tmp0 = (z2 + z3) << CB;
        let tmp1 = (z2 - z3) << CB;
        let (t10, t13, t11, t12) = (tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2);
        let (mut o0, mut o1, mut o2, mut o3) = (get(7), get(5), get(3), get(1));
        let (z1, z2, z3, z4) = (o0 + o3, o1 + o2, o0 + o2, o1 + o3);
        let z5 = (z3 + z4) * 9633;
        o0 *= 2446;
        o1 *= 16819;
        o2 *= 25172;
        o3 *= 12299;
        let (z1, z2) = (z1 * -7373, z2 * -20995);
        let (z3, z4) = (z3 * -16069 + z5, z4 * -3196 + z5);
        o0 += z1 + z3;
        o1 += z2 + z4;
        o2 += z2 + z3;
        o3 += z1 + z4;
        put(0, descale(t10 + o3, shift));
        put(7, descale(t10 - o3, shift));
        put(1, descale(t11 + o2, shift));
        put(6, descale(t11 - o2, shift));
        put(2, descale(t12 + o1, shift));
        put(5, descale(t12 - o1, shift));
        put(3, descale(t13 + o0, shift));
        put(4, descale(t13 - o0, shift));
    };
    for c in 0..8 {
        pass(
            &|i| coef[i * 8 + c] as i64,
            &mut |i, v| ws[i * 8 + c] = v as i32 as i64,
            CB - P1,
        );
    }
    for r in 0..8 {
        let row = &mut out[r * stride..r * stride + 8];
        pass(
            &|i| ws[r * 8 + i],
            &mut |i, v| {
                let s = (((v & 1023) ^ 512) - 512) + 128;
                row[i] = s.clamp(0, 255) as u8;
            },
            CB + P1 + 3,
        );
    }
}

/// One image component: sampling factors, quantization table and its decoded samples.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Samples on the MCU-padded grid, `stride` wide.
    plane: Vec<u8>,
    stride: usize,
    dc: usize,
    ac: usize,
    pred: i32,
}

fn be16(d: &[u8], p: usize) -> Result<usize, String> {
    match d.get(p..p + 2) {
        Some(b) => Ok(((b[0] as usize) << 8) | b[1] as usize),
        None => Err("JPEG stream is truncated".into()),
    }
}

/// Decodes a baseline JPEG; `Ok(None)` when the stream uses a feature outside this decoder.
pub(crate) fn decode(data: &[u8]) -> Result<Option<Decoded>, String> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG stream".into());
    }
    let mut qt = [[0i32; 64]; 4];
    let (mut dc, mut ac) = (vec![None; 4], vec![None; 4]);
    let mut comps: Vec<Component> = Vec::new();
    let (mut width, mut height, mut restart) = (0usize, 0usize, 0usize);
    let (mut hmax, mut vmax) = (1usize, 1usize);
    let mut adobe_rgb = false;
    let mut pos = 2;
    loop {
        while data.get(pos) == Some(&0xFF) && data.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if data.get(pos) != Some(&0xFF) {
            return Err(format!("JPEG stream: expected a marker at byte {pos}"));
        }
        let marker = *data.get(pos + 1).ok_or("JPEG stream is truncated")?;
        pos += 2;
        if marker == 0xD9 {
            break;
        }
        if (0xD0..=0xD8).contains(&marker) || marker == 0x01 {
            continue;
        }
        let len = be16(data, pos)?;
        let seg = data
            .get(pos + 2..pos + len.max(2))
            .ok_or("JPEG stream is truncated")?;
        pos += len.max(2);
        match marker {
            0xDB => {
                let mut p = 0;
                while p < seg.len() {
                    let (pq, tq) = ((seg[p] >> 4) as usize, (seg[p] & 15) as usize);
                    let size = if pq == 0 { 64 } else { 128 };
                    let vals = seg
                        .get(p + 1..p + 1 + size)
                        .ok_or("JPEG DQT is truncated")?;
                    let table = qt.get_mut(tq).ok_or("JPEG DQT table id is above 3")?;
                    for (k, &z) in ZIGZAG.iter().enumerate() {
                        table[z] = if pq == 0 {
                            vals[k] as i32
                        } else {
                            be16(vals, 2 * k)? as i32
                        };
                    }
                    p += 1 + size;
                }
            }
            0xC4 => {
                let mut p = 0;
                while p < seg.len() {
                    let (tc, th) = (seg[p] >> 4, (seg[p] & 15) as usize);
                    let counts: [u8; 16] = seg
                        .get(p + 1..p + 17)
                        .and_then(|c| c.try_into().ok())
                        .ok_or("JPEG DHT is truncated")?;
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    let vals = seg.get(p + 17..p + 17 + n).ok_or("JPEG DHT is truncated")?;
                    let table = Some(Huffman::new(&counts, vals.to_vec()));
                    match (tc, th) {
                        (0, 0..=3) => dc[th] = table,
                        (1, 0..=3) => ac[th] = table,
                        _ => return Err("JPEG DHT table class or id is invalid".into()),
                    }
                    p += 17 + n;
                }
            }
            0xC0 | 0xC1 => {
                if seg.len() < 6 || seg[0] != 8 {
                    return Ok(None);
                }
                height = be16(seg, 1)?;
                width = be16(seg, 3)?;
                let n = seg[5] as usize;
                if height == 0 || width == 0 || !(n == 1 || n == 3) || !comps.is_empty() {
                    return Ok(None);
                }
                for c in 0..n {
                    let s = seg
                        .get(6 + 3 * c..9 + 3 * c)
                        .ok_or("JPEG SOF is truncated")?;
                    let (h, v) = ((s[1] >> 4) as usize, (s[1] & 15) as usize);
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || s[2] > 3 {
                        return Err("JPEG SOF has invalid sampling factors or table ids".into());
                    }
                    comps.push(Component {
                        id: s[0],
                        h,
                        v,
                        tq: s[2] as usize,
                        plane: Vec::new(),
                        stride: 0,
                        dc: 0,
                        ac: 0,
                        pred: 0,
                    });
                }
                hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
                vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
                if width.saturating_mul(height) > MAX_PIXELS {
                    return Err(format!("JPEG image {width}x{height} is too large"));
                }
                let (mx, my) = (width.div_ceil(8 * hmax), height.div_ceil(8 * vmax));
                for c in &mut comps {
                    c.stride = mx * c.h * 8;
                    c.plane = vec![0; c.stride * my * c.v * 8];
                }
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Ok(None),
            0xDD => restart = be16(seg, 0)?,
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => adobe_rgb = seg[11] == 0,
            0xDA => {
                if comps.is_empty() {
                    return Err("JPEG scan before the frame header".into());
                }
                let ns = *seg.first().ok_or("JPEG SOS is truncated")? as usize;
                let mut members = Vec::new();
                for k in 0..ns {
                    let s = seg
                        .get(1 + 2 * k..3 + 2 * k)
                        .ok_or("JPEG SOS is truncated")?;
                    let ci = comps
                        .iter()
                        .position(|c| c.id == s[0])
                        .ok_or("JPEG SOS names an unknown component")?;
                    let (d, a) = ((s[1] >> 4) as usize, (s[1] & 15) as usize);
                    if d > 3 || a > 3 {
                        return Err("JPEG SOS table id is above 3".into());
                    }
                    comps[ci].dc = d;
                    comps[ci].ac = a;
                    members.push(ci);
                }
                let tables = (dc.as_slice(), ac.as_slice(), &qt);
                let end = scan(
                    &data[pos..],
                    &mut comps,
                    &members,
                    tables,
                    (width, height, hmax, vmax),
                    restart,
                )?;
                pos += end;
            }
            _ => {}
        }
    }
    if comps.is_empty() {
        return Err("JPEG stream has no frame".into());
    }
    Ok(finish(&comps, (width, height), (hmax, vmax), adobe_rgb))
}

type Tables<'a> = (
    &'a [Option<Huffman>],
    &'a [Option<Huffman>],
    &'a [[i32; 64]; 4],
);

/// Decodes one scan; returns the number of bytes it used.
fn scan(
    data: &[u8],
    comps: &mut [Component],
    members: &[usize],
    (dc, ac, qt): Tables,
    (width, height, hmax, vmax): (usize, usize, usize, usize),
    restart: usize,
) -> Result<usize, String> {
    let mut bits = Bits {
        data,
        pos: 0,
        acc: 0,
        count: 0,
    };
    for &ci in members {
        comps[ci].pred = 0;
    }
    // Blocks of one MCU: (component, block column, block row) relative to the MCU origin.
    let (units, mx, my): (Vec<(usize, usize, usize)>, usize, usize) = if let [ci] = members {
        let c = &comps[*ci];
        let cw = (width * c.h).div_ceil(hmax);
        let ch = (height * c.v).div_ceil(vmax);
        (vec![(*ci, 0, 0)], cw.div_ceil(8), ch.div_ceil(8))
    } else {
        let units = members
            .iter()
            .flat_map(|&ci| {
                let (h, v) = (comps[ci].h, comps[ci].v);
                (0..v).flat_map(move |y| (0..h).map(move |x| (ci, x, y)))
            })
            .collect();
        (units, width.div_ceil(8 * hmax), height.div_ceil(8 * vmax))
    };
    let mut coef = [0i32; 64];
    for m in 0..mx * my {
        if restart > 0 && m > 0 && m % restart == 0 {
            bits.restart();
            for &ci in members {
                comps[ci].pred = 0;
            }
        }
        let (bx, by) = (m % mx, m / mx);
        for &(ci, ux, uy) in &units {
            let c = &mut comps[ci];
            let (dct, act) = (
                dc[c.dc]
                    .as_ref()
                    .ok_or("JPEG scan uses an undefined DC table")?,
                ac[c.ac]
                    .as_ref()
                    .ok_or("JPEG scan uses an undefined AC table")?,
            );
            let q = &qt[c.tq];
            coef.fill(0);
            let t = bits.decode(dct)?;
            if t > 16 {
                return Err("JPEG DC coefficient size is invalid".into());
            }
            let diff = extend(bits.receive(t), t);
            c.pred = c.pred.wrapping_add(diff);
            coef[0] = (c.pred as i16 as i32) * q[0];
            let mut k = 1;
            while k < 64 {
                let rs = bits.decode(act)?;
                let (r, s) = ((rs >> 4) as usize, rs & 15);
                if s == 0 {
                    if r != 15 {
                        break;
                    }
                    k += 16;
                    continue;
                }
                k += r;
                let z = ZIGZAG.get(k).copied().unwrap_or(63);
                coef[z] = (extend(bits.receive(s), s) as i16 as i32) * q[z];
                k += 1;
            }
            let (h, v) = if members.len() == 1 {
                (1, 1)
            } else {
                (c.h, c.v)
            };
            let (x0, y0) = ((bx * h + ux) * 8, (by * v + uy) * 8);
            let off = y0 * c.stride + x0;
            if off + 7 * c.stride + 8 <= c.plane.len() {
                idct_islow(&coef, &mut c.plane[off..], c.stride);
            }
        }
    }
    Ok(bits.end())
}

/// Upsamples every component to full size (libjpeg's fancy upsampling) and converts colour;
/// `None` for sampling ratios libjpeg does not support either (non-integral ones).
fn finish(
    comps: &[Component],
    size: (usize, usize),
    max: (usize, usize),
    adobe_rgb: bool,
) -> Option<Decoded> {
    let ((width, height), (hmax, vmax)) = (size, max);
    let mut full = Vec::with_capacity(comps.len());
    for c in comps {
        if hmax % c.h != 0 || vmax % c.v != 0 {
            return None;
        }
        let plane = Plane {
            data: &c.plane,
            stride: c.stride,
            dw: (width * c.h).div_ceil(hmax),
            dh: (height * c.v).div_ceil(vmax),
        };
        full.push(upsample(&plane, hmax / c.h, vmax / c.v, width, height));
    }
    if let [y] = full.as_slice() {
        return Some(Decoded {
            width,
            height,
            channels: 1,
            pixels: y.clone(),
        });
    }
    let rgb_ids = comps.iter().map(|c| c.id).eq([b'R', b'G', b'B']);
    let mut pixels = Vec::with_capacity(width * height * 3);
    let [p0, p1, p2] = full.as_slice() else {
        return None;
    };
    for ((&a, &b), &c) in p0.iter().zip(p1).zip(p2) {
        if adobe_rgb || rgb_ids {
            pixels.extend([a, b, c]);
        } else {
            pixels.extend(ycc_to_rgb(a, b, c));
        }
    }
    Some(Decoded {
        width,
        height,
        channels: 3,
        pixels,
    })
}

/// libjpeg's fixed-point YCbCr to RGB conversion (16 fraction bits).
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (y as i64, cb as i64 - 128, cr as i64 - 128);
    let half = 1i64 << 15;
    let r = y + ((91881 * cr + half) >> 16);
    let g = y + ((-22554 * cb + half - 46802 * cr) >> 16);
    let b = y + ((116130 * cb + half) >> 16);
    [r, g, b].map(|v| v.clamp(0, 255) as u8)
}
