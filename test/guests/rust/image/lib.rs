//! A minimal stand-in for the `image` crate (0.23 API), enough for WasmEdge's WASI-NN image
//! examples to build here without crates.io: `io::Reader::open(path)?.decode()?`,
//! `DynamicImage::resize_exact(w, h, imageops::Triangle)`, `to_rgb8().as_raw()`.
//! It decodes uncompressed 24- and 32-bit BMP only (the test photos include one); any other
//! file is an `ImageError`, never a guess.

mod bmp;
pub mod imageops;
pub mod io;

use std::fmt;

/// Why an image could not be decoded.
#[derive(Debug)]
pub struct ImageError(String);

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImageError {}

pub type ImageResult<T> = Result<T, ImageError>;

/// 8-bit RGB pixels, row by row, no padding.
#[derive(Debug, Clone)]
pub struct RgbImage {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl RgbImage {
    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn as_raw(&self) -> &Vec<u8> {
        &self.data
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.data
    }
}

/// A decoded image; this stand-in holds every image as 8-bit RGB.
#[derive(Debug, Clone)]
pub enum DynamicImage {
    ImageRgb8(RgbImage),
}

impl DynamicImage {
    pub fn width(&self) -> u32 {
        self.as_rgb().width
    }

    pub fn height(&self) -> u32 {
        self.as_rgb().height
    }

    /// Stretches to exactly `width` x `height` (the aspect ratio is not kept).
    pub fn resize_exact(
        &self,
        width: u32,
        height: u32,
        filter: imageops::FilterType,
    ) -> DynamicImage {
        DynamicImage::ImageRgb8(imageops::resize(self.as_rgb(), width, height, filter))
    }

    pub fn to_rgb8(&self) -> RgbImage {
        self.as_rgb().clone()
    }

    fn as_rgb(&self) -> &RgbImage {
        match self {
            DynamicImage::ImageRgb8(image) => image,
        }
    }
}
