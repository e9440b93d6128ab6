//! `image::io::Reader`: open a file, decode it.

use crate::{bmp, DynamicImage, ImageError, ImageResult};
use std::path::Path;

/// The bytes of an image file, not yet decoded.
pub struct Reader {
    bytes: Vec<u8>,
}

impl Reader {
    pub fn open<P: AsRef<Path>>(path: P) -> std::io::Result<Reader> {
        Ok(Reader {
            bytes: std::fs::read(path)?,
        })
    }

    /// Decodes by the file's signature, not its name.
    pub fn decode(self) -> ImageResult<DynamicImage> {
        if self.bytes.starts_with(b"BM") {
            return bmp::decode(&self.bytes).map(DynamicImage::ImageRgb8);
        }
        Err(ImageError(
            "unsupported image format: this stand-in decodes BMP only".to_string(),
        ))
    }
}
