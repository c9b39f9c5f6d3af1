//! JPEG decoding (8-bit Huffman, sequential or progressive, grayscale or three components)
//! that reproduces libjpeg's default output exactly: the accurate integer IDCT, "fancy"
//! chroma upsampling and the fixed-point YCbCr to RGB conversion ([`super::jpeg_dsp`]). The
//! ONNX `ImageDecoder` reference decodes with Pillow, which uses libjpeg; other decoders round
//! differently by a level or two. Streams outside that set (arithmetic coding, lossless,
//! 12-bit, CMYK, very large images) are left to the caller.

use super::jpeg_dsp::{Plane, idct_islow, upsample, ycc_to_rgb};
use super::jpeg_scan::{Huffman, Scan, ZIGZAG, decode_scan};

/// A decoded image: `channels` (1 or 3) interleaved samples per pixel, row-major.
pub(crate) struct Decoded {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub pixels: Vec<u8>,
}

/// Largest image (in pixels) decoded here (its coefficients take 2 bytes per sample).
const MAX_PIXELS: usize = 1 << 26;

/// One image component: sampling factors, tables and coefficient blocks.
pub(crate) struct Component {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    tq: usize,
    /// The quantization table, latched when the component's first scan starts.
    q: Option<[u16; 64]>,
    /// Coefficient blocks (natural order) on the MCU-padded grid, `bw` blocks per row.
    pub coefs: Vec<[i16; 64]>,
    pub bw: usize,
    /// The component's size in samples.
    pub cw: usize,
    pub ch: usize,
    pub dc: usize,
    pub ac: usize,
    pub pred: i32,
}

fn be16(d: &[u8], p: usize) -> Result<usize, String> {
    match d.get(p..p + 2) {
        Some(b) => Ok(((b[0] as usize) << 8) | b[1] as usize),
        None => Err("JPEG stream is truncated".into()),
    }
}

/// The frame being decoded.
#[derive(Default)]
struct Frame {
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    progressive: bool,
    comps: Vec<Component>,
}

impl Frame {
    /// Parses a start-of-frame segment; `None` for frames this decoder leaves to others.
    fn parse(seg: &[u8], progressive: bool) -> Result<Option<Frame>, String> {
        if seg.len() < 6 || seg[0] != 8 {
            return Ok(None);
        }
        let (height, width, n) = (be16(seg, 1)?, be16(seg, 3)?, seg[5] as usize);
        if height == 0 || width == 0 || !(n == 1 || n == 3) || width * height > MAX_PIXELS {
            return Ok(None);
        }
        let mut comps = Vec::new();
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
                q: None,
                coefs: Vec::new(),
                bw: 0,
                cw: 0,
                ch: 0,
                dc: 0,
                ac: 0,
                pred: 0,
            });
        }
        let hmax = comps.iter().map(|c| c.h).max().unwrap_or(1);
        let vmax = comps.iter().map(|c| c.v).max().unwrap_or(1);
        let (mx, my) = (width.div_ceil(8 * hmax), height.div_ceil(8 * vmax));
        for c in &mut comps {
            c.bw = mx * c.h;
            c.coefs = vec![[0; 64]; c.bw * my * c.v];
            c.cw = (width * c.h).div_ceil(hmax);
            c.ch = (height * c.v).div_ceil(vmax);
        }
        Ok(Some(Frame {
            width,
            height,
            hmax,
            vmax,
            progressive,
            comps,
        }))
    }

    fn mcus(&self) -> (usize, usize) {
        (
            self.width.div_ceil(8 * self.hmax),
            self.height.div_ceil(8 * self.vmax),
        )
    }

    /// Parses a start-of-scan segment.
    fn scan(&self, seg: &[u8]) -> Result<Scan, String> {
        let ns = *seg.first().ok_or("JPEG SOS is truncated")? as usize;
        let mut comps = Vec::new();
        for k in 0..ns {
            let s = seg
                .get(1 + 2 * k..3 + 2 * k)
                .ok_or("JPEG SOS is truncated")?;
            let ci = self
                .comps
                .iter()
                .position(|c| c.id == s[0])
                .ok_or("JPEG SOS names an unknown component")?;
            comps.push((ci, (s[1] >> 4) as usize, (s[1] & 15) as usize));
        }
        let p = seg
            .get(1 + 2 * ns..4 + 2 * ns)
            .ok_or("JPEG SOS is truncated")?;
        let (ss, se, ah, al) = (
            p[0] as usize,
            p[1] as usize,
            (p[2] >> 4) as u32,
            (p[2] & 15) as u32,
        );
        if self.progressive
            && (se > 63 || ss > se || (ss == 0) != (se == 0) || (ss > 0 && ns != 1) || al > 13)
        {
            return Err("JPEG progressive scan parameters are invalid".into());
        }
        if comps.is_empty() || comps.iter().any(|&(_, d, a)| d > 3 || a > 3) {
            return Err("JPEG SOS has no components or a table id above 3".into());
        }
        let (ss, se, ah, al) = if self.progressive {
            (ss, se, ah, al)
        } else {
            (0, 63, 0, 0)
        };
        Ok(Scan {
            comps: comps.iter().map(|c| c.0).collect(),
            ss,
            se,
            ah,
            al,
            progressive: self.progressive,
        })
    }
}

/// Decodes a JPEG; `Ok(None)` when the stream uses a feature outside this decoder.
pub(crate) fn decode(data: &[u8]) -> Result<Option<Decoded>, String> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG stream".into());
    }
    let mut qt = [[0u16; 64]; 4];
    let (mut dc, mut ac) = (vec![None; 4], vec![None; 4]);
    let mut frame: Option<Frame> = None;
    let (mut restart, mut adobe_rgb) = (0usize, false);
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
        let len = be16(data, pos)?.max(2);
        let seg = data
            .get(pos + 2..pos + len)
            .ok_or("JPEG stream is truncated")?;
        pos += len;
        match marker {
            0xDB => {
                let mut p = 0;
                while p < seg.len() {
                    let (pq, tq) = (seg[p] >> 4, (seg[p] & 15) as usize);
                    let size = if pq == 0 { 64 } else { 128 };
                    let vals = seg
                        .get(p + 1..p + 1 + size)
                        .ok_or("JPEG DQT is truncated")?;
                    let table = qt.get_mut(tq).ok_or("JPEG DQT table id is above 3")?;
                    for (k, &z) in ZIGZAG.iter().enumerate() {
                        table[z] = if pq == 0 {
                            vals[k] as u16
                        } else {
                            be16(vals, 2 * k)? as u16
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
            0xC0..=0xC2 if frame.is_none() => match Frame::parse(seg, marker == 0xC2)? {
                Some(f) => frame = Some(f),
                None => return Ok(None),
            },
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Ok(None),
            0xDD => restart = be16(seg, 0)?,
            0xEE if seg.starts_with(b"Adobe") && seg.len() >= 12 => adobe_rgb = seg[11] == 0,
            0xDA => {
                let f = frame.as_mut().ok_or("JPEG scan before the frame header")?;
                let scan = f.scan(seg)?;
                for (k, &ci) in scan.comps.iter().enumerate() {
                    let c = &mut f.comps[ci];
                    c.q.get_or_insert(qt[c.tq]);
                    (c.dc, c.ac) = (
                        (seg[2 + 2 * k] >> 4) as usize,
                        (seg[2 + 2 * k] & 15) as usize,
                    );
                }
                let mcus = f.mcus();
                pos += decode_scan(&data[pos..], &mut f.comps, &scan, (&dc, &ac), mcus, restart)?;
            }
            _ => {}
        }
    }
    let f = frame.ok_or("JPEG stream has no frame")?;
    Ok(finish(&f, &qt, adobe_rgb))
}

/// Reconstructs the samples (IDCT, libjpeg's upsampling) and converts colour; `None` for
/// sampling ratios libjpeg does not support either (non-integral ones).
fn finish(f: &Frame, qt: &[[u16; 64]; 4], adobe_rgb: bool) -> Option<Decoded> {
    let (width, height) = (f.width, f.height);
    let mut full = Vec::with_capacity(f.comps.len());
    for c in &f.comps {
        if !f.hmax.is_multiple_of(c.h) || !f.vmax.is_multiple_of(c.v) {
            return None;
        }
        let q = c.q.unwrap_or(qt[c.tq]);
        let stride = c.bw * 8;
        let mut plane = vec![0u8; c.coefs.len() * 64];
        for (i, blk) in c.coefs.iter().enumerate() {
            let off = (i / c.bw) * 8 * stride + (i % c.bw) * 8;
            idct_islow(blk, &q, &mut plane[off..], stride);
        }
        let p = Plane {
            data: &plane,
            stride,
            dw: c.cw,
            dh: c.ch,
        };
        full.push(upsample(&p, f.hmax / c.h, f.vmax / c.v, width, height));
    }
    let pixels = match full.as_slice() {
        [y] => y.clone(),
        [a, b, c] => {
            let rgb = adobe_rgb || f.comps.iter().map(|c| c.id).eq([b'R', b'G', b'B']);
            let mut px = Vec::with_capacity(width * height * 3);
            for ((&p0, &p1), &p2) in a.iter().zip(b).zip(c) {
                px.extend(if rgb {
                    [p0, p1, p2]
                } else {
                    ycc_to_rgb(p0, p1, p2)
                });
            }
            px
        }
        _ => return None,
    };
    let channels = full.len();
    Some(Decoded {
        width,
        height,
        channels,
        pixels,
    })
}
