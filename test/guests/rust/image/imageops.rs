//! Resampling, as `image::imageops` names it. Only the triangle (linear) filter: a tent whose
//! width grows with the reduction, so a downscale averages every source pixel it covers
//! (antialiased), in two separable passes (rows of the output height first, then columns).

use crate::RgbImage;

#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum FilterType {
    Triangle,
}

pub use FilterType::Triangle;

/// For each output position: the first source index and the normalized weights from there.
fn weights(source: usize, target: usize) -> Vec<(usize, Vec<f32>)> {
    let ratio = source as f32 / target as f32;
    let spread = ratio.max(1.0);
    (0..target)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let first = ((centre - spread).floor().max(0.0) as usize).min(source - 1);
            let end = ((centre + spread).ceil() as usize).clamp(first + 1, source);
            let tent: Vec<f32> = (first..end)
                .map(|i| (1.0 - ((i as f32 + 0.5 - centre) / spread).abs()).max(0.0))
                .collect();
            let sum: f32 = tent.iter().sum();
            let normalized = if sum > 0.0 {
                tent.iter().map(|w| w / sum).collect()
            } else {
                tent
            };
            (first, normalized)
        })
        .collect()
}

pub fn resize(image: &RgbImage, width: u32, height: u32, _filter: FilterType) -> RgbImage {
    let (in_w, in_h) = (image.width as usize, image.height as usize);
    let (out_w, out_h) = (width as usize, height as usize);
    if out_w == 0 || out_h == 0 || in_w == 0 || in_h == 0 {
        return RgbImage {
            width,
            height,
            data: Vec::new(),
        };
    }
    let rows = weights(in_h, out_h);
    let mut tall = vec![0f32; in_w * out_h * 3];
    for (y, (first, ws)) in rows.iter().enumerate() {
        for (k, w) in ws.iter().enumerate() {
            let source = &image.data[(first + k) * in_w * 3..(first + k + 1) * in_w * 3];
            let target = &mut tall[y * in_w * 3..(y + 1) * in_w * 3];
            for (t, s) in target.iter_mut().zip(source) {
                *t += w * *s as f32;
            }
        }
    }
    let columns = weights(in_w, out_w);
    let mut data = vec![0u8; out_w * out_h * 3];
    for y in 0..out_h {
        for (x, (first, ws)) in columns.iter().enumerate() {
            for c in 0..3 {
                let value: f32 = ws
                    .iter()
                    .enumerate()
                    .map(|(k, w)| w * tall[(y * in_w + first + k) * 3 + c])
                    .sum();
                data[(y * out_w + x) * 3 + c] = value.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbImage {
        width,
        height,
        data,
    }
}
