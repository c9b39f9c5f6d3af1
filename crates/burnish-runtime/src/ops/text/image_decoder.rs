//! `ImageDecoder`: encoded image bytes to an `[H, W, C]` uint8 tensor (RGB, BGR or grayscale).
//!
//! JPEG (baseline and progressive) goes through [`super::jpeg`] (libjpeg-exact, as the
//! reference's Pillow decodes), JPEG 2000 through `hayro-jpeg2000`, everything else (BMP, PNG,
//! PNM, TIFF, WebP and the JPEG variants [`super::jpeg`] leaves out) through the `image` crate.
//! Palette, gray and alpha images become RGB as Pillow's `convert("RGB")` makes them (alpha
//! dropped); grayscale output uses Pillow's `convert("L")` weights.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use burnish_model::Buffer;

use super::{jpeg, upload};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

/// Largest decoded image (in pixels) accepted.
const MAX_PIXELS: u64 = 1 << 28;

/// Requested output layout.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    Rgb,
    Bgr,
    Gray,
}

/// Decoded pixels: 1 (gray) or 3 (RGB) interleaved channels.
struct Pixels {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

/// Runs a third-party decoder, turning a panic inside it into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(format!("the {what} decoder failed on this input")))
}

fn check_size(w: u64, h: u64) -> Result<(), String> {
    if w.saturating_mul(h) > MAX_PIXELS {
        return Err(format!("ImageDecoder: a {w}x{h} image is too large"));
    }
    Ok(())
}

fn decode_jpeg2000(bytes: &[u8]) -> Result<Pixels, String> {
    use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
    let err = |e| format!("ImageDecoder: invalid JPEG 2000 data: {e:?}");
    let img = Image::new(bytes, &DecodeSettings::default()).map_err(err)?;
    check_size(img.width() as u64, img.height() as u64)?;
    let (width, height) = (img.width() as usize, img.height() as usize);
    let stored = img.color_space().num_channels() as usize + img.has_alpha() as usize;
    let channels = match img.color_space() {
        ColorSpace::Gray => 1,
        ColorSpace::RGB => 3,
        other => {
            return Err(format!(
                "ImageDecoder: JPEG 2000 colour space {other:?} is not supported"
            ));
        }
    };
    let mut ctx = DecoderContext::default();
    let data = img.decode(&mut ctx).map_err(err)?.data_u8();
    if data.len() != width * height * stored {
        return Err("ImageDecoder: JPEG 2000 decoder returned a wrong amount of data".into());
    }
    let data = data
        .chunks(stored)
        .flat_map(|px| px[..channels].to_vec())
        .collect();
    Ok(Pixels {
        width,
        height,
        channels,
        data,
    })
}

fn decode_generic(bytes: &[u8], format: Option<image::ImageFormat>) -> Result<Pixels, String> {
    let err = |e: image::ImageError| format!("ImageDecoder: cannot decode the image: {e}");
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    match format {
        Some(f) => reader.set_format(f),
        None => reader = reader.with_guessed_format().map_err(|e| e.to_string())?,
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let img = reader.decode().map_err(err)?;
    let (width, height) = (img.width() as usize, img.height() as usize);
    let gray = matches!(
        img.color(),
        image::ColorType::L8
            | image::ColorType::La8
            | image::ColorType::L16
            | image::ColorType::La16
    );
    Ok(if gray {
        Pixels {
            width,
            height,
            channels: 1,
            data: img.to_luma8().into_raw(),
        }
    } else {
        Pixels {
            width,
            height,
            channels: 3,
            data: img.to_rgb8().into_raw(),
        }
    })
}

fn decode(bytes: &[u8]) -> Result<Pixels, String> {
    const JP2: &[u8] = &[0, 0, 0, 12, b'j', b'P', b' ', b' ', 13, 10, 0x87, 10];
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        if let Some(d) = jpeg::decode(bytes)? {
            return Ok(Pixels {
                width: d.width,
                height: d.height,
                channels: d.channels,
                data: d.pixels,
            });
        }
        return guarded("JPEG", || {
            decode_generic(bytes, Some(image::ImageFormat::Jpeg))
        });
    }
    if bytes.starts_with(JP2) || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return guarded("JPEG 2000", || decode_jpeg2000(bytes));
    }
    guarded("image", || decode_generic(bytes, None))
}

/// Pillow's `convert("L")`: `(19595 R + 38470 G + 7471 B + 2^15) >> 16`.
fn luma(px: &[u8]) -> u8 {
    ((px[0] as u32 * 19595 + px[1] as u32 * 38470 + px[2] as u32 * 7471 + 0x8000) >> 16) as u8
}

/// `ImageDecoder(encoded_stream)` with attribute `pixel_format` (`RGB`, `BGR`, `Grayscale`).
pub fn image_decoder(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let format = match ctx.string("pixel_format", "RGB")?.as_str() {
        "RGB" => Format::Rgb,
        "BGR" => Format::Bgr,
        "Grayscale" => Format::Gray,
        other => {
            return Err(format!(
                "ImageDecoder pixel_format `{other}` is not RGB, BGR or Grayscale"
            ));
        }
    };
    op(move |mut ins| {
        let t = ins.take(0)?.host()?;
        let Buffer::U8(bytes) = &t.data else {
            return Err(format!(
                "ImageDecoder input must be a uint8 tensor, found {}",
                t.dtype()
            ));
        };
        if t.shape.len() != 1 {
            return Err(format!(
                "ImageDecoder input must be 1-D, found shape {:?}",
                t.shape
            ));
        }
        let px = decode(bytes)?;
        let out: Vec<u8> = match (format, px.channels) {
            (Format::Gray, 1) | (Format::Rgb, 3) => px.data,
            (Format::Gray, _) => px.data.chunks(3).map(luma).collect(),
            (Format::Bgr, 3) => px.data.chunks(3).flat_map(|p| [p[2], p[1], p[0]]).collect(),
            _ => px.data.iter().flat_map(|&v| [v; 3]).collect(),
        };
        let c = if format == Format::Gray { 1 } else { 3 };
        let shape = vec![px.height, px.width, c];
        if check_numel(&shape)? != out.len() {
            return Err("ImageDecoder: decoded data does not match the image size".into());
        }
        Ok(vec![upload(shape, Buffer::U8(out))?])
    })
}
