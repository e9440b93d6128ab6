//! Uncompressed Windows bitmaps: 24-bit BGR or 32-bit BGRA (BI_RGB, or BI_BITFIELDS with the
//! usual masks), bottom-up or top-down rows, each padded to 4 bytes.

use crate::{ImageError, ImageResult, RgbImage};

/// Refuse before allocating: a header can claim any size.
const MAX_PIXELS: u64 = 64 * 1024 * 1024;

fn u16_at(bytes: &[u8], at: usize) -> ImageResult<u16> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| ImageError("truncated BMP header".to_string()))
}

fn u32_at(bytes: &[u8], at: usize) -> ImageResult<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| ImageError("truncated BMP header".to_string()))
}

pub(crate) fn decode(bytes: &[u8]) -> ImageResult<RgbImage> {
    let pixels_at = u32_at(bytes, 10)? as usize;
    let width = u32_at(bytes, 18)? as i32;
    let height = u32_at(bytes, 22)? as i32;
    let bits = u16_at(bytes, 28)?;
    let compression = u32_at(bytes, 30)?;
    if bits != 24 && bits != 32 {
        return Err(ImageError(format!(
            "{}-bit BMP is not supported (24 or 32 only)",
            bits
        )));
    }
    // 0 = BI_RGB; 3 = BI_BITFIELDS, taken as the BGRA order every writer uses for 32 bits.
    if compression != 0 && !(compression == 3 && bits == 32) {
        return Err(ImageError(format!(
            "compressed BMP (method {}) is not supported",
            compression
        )));
    }
    if width <= 0 || height == 0 || height == i32::MIN {
        return Err(ImageError("BMP with no pixels".to_string()));
    }
    let (width, top_down) = (width as u64, height < 0);
    let height = height.unsigned_abs() as u64;
    if width * height > MAX_PIXELS {
        return Err(ImageError(format!(
            "BMP of {}x{} is larger than this decoder takes",
            width, height
        )));
    }
    let channels = (bits / 8) as u64;
    let stride = (width * channels + 3) / 4 * 4;
    if (pixels_at as u64) + stride * height > bytes.len() as u64 {
        return Err(ImageError(
            "truncated BMP: fewer pixels than the header says".to_string(),
        ));
    }
    let (width, height, channels, stride) = (
        width as usize,
        height as usize,
        channels as usize,
        stride as usize,
    );
    let mut data = Vec::with_capacity(width * height * 3);
    for row in 0..height {
        let stored = if top_down { row } else { height - 1 - row };
        let start = pixels_at + stored * stride;
        for pixel in bytes[start..start + width * channels].chunks_exact(channels) {
            data.extend_from_slice(&[pixel[2], pixel[1], pixel[0]]);
        }
    }
    Ok(RgbImage {
        width: width as u32,
        height: height as u32,
        data,
    })
}
