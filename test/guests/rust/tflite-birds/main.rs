//! What WasmEdge's WASI-NN example `tflite-birds_v1-image` does, written against the APIs of
//! the `wasi-nn` 0.6 and `image` 0.23 crates (our stand-ins in ../wasi_nn and ../image):
//! `prog.wasm MODEL IMAGE` reads both files from a granted folder, stretches the image to
//! 224x224 RGB, classifies it with the AIY birds model and prints the example's lines, ending
//! with its top 5. `imagenet_classes.rs` (the 965 labels as `AIY_BIRDS_V1`) is written next
//! to this file at build time from aiy_birds_V1_labelmap.txt, as the example embeds them.
use image::io::Reader;
use std::env;
use std::error::Error;
use std::fs;
use wasi_nn::{ExecutionTarget, GraphBuilder, GraphEncoding, TensorType};
mod imagenet_classes;

const SIDE: u32 = 224;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = env::args().collect();
    if args.len() < 3 {
        return Err(format!("usage: {} MODEL.tflite IMAGE", args[0]).into());
    }
    let weights = fs::read(&args[1])?;
    println!("Read graph weights, size in bytes: {}", weights.len());

    let graph = GraphBuilder::new(GraphEncoding::TensorflowLite, ExecutionTarget::CPU)
        .build_from_bytes(&[&weights])?;
    let mut context = graph.init_execution_context()?;
    println!("Loaded graph into wasi-nn with ID: {}", graph);

    let pixels = rgb_224(&args[2])?;
    println!("Read input tensor, size in bytes: {}", pixels.len());
    context.set_input(
        0,
        TensorType::U8,
        &[1, SIDE as usize, SIDE as usize, 3],
        &pixels,
    )?;
    context.compute()?;

    let mut scores = vec![0u8; imagenet_classes::AIY_BIRDS_V1.len()];
    context.get_output(0, &mut scores)?;
    for (rank, (class, score)) in best_first(&scores).into_iter().take(5).enumerate() {
        // `{:.4}` on an integer prints the integer: the example's own format, kept as is.
        println!(
            "   {}.) [{}]({:.4}){}",
            rank + 1,
            class,
            score,
            imagenet_classes::AIY_BIRDS_V1[class]
        );
    }
    Ok(())
}

/// Classes by score, highest first; ties keep the lower class first (a stable sort).
fn best_first(scores: &[u8]) -> Vec<(usize, u8)> {
    let mut ranked: Vec<(usize, u8)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1));
    ranked
}

/// The image stretched to 224x224 with the triangle filter, as packed RGB bytes.
fn rgb_224(path: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let decoded = Reader::open(path)?.decode()?;
    Ok(decoded
        .resize_exact(SIDE, SIDE, image::imageops::Triangle)
        .to_rgb8()
        .as_raw()
        .clone())
}
