//! An image classifier over the `wasi-nn` 0.6 API (our stand-in crate) for what the birds
//! example does not reach: ONNX models, TensorFlow Lite by autodetection, and graphs the host
//! preloaded by name (`--nn-preload`). It prints the example's top-5 lines.
//!
//! `nn-classify HOW MODEL IMAGE SIDE LABELS`: HOW is `tflite`, `onnx` or `autodetect` (MODEL is
//! a file) or `preload` (MODEL is the preloaded name); the image is stretched to SIDE x SIDE
//! RGB bytes; LABELS has one line per output score.
use image::io::Reader;
use std::env;
use std::error::Error;
use std::fs;
use wasi_nn::{ExecutionTarget, Graph, GraphBuilder, GraphEncoding, TensorType};

fn load(how: &str, model: &str) -> Result<Graph, Box<dyn Error>> {
    let encoding = match how {
        "tflite" | "preload" => GraphEncoding::TensorflowLite,
        "onnx" => GraphEncoding::Onnx,
        "autodetect" => GraphEncoding::Autodetec,
        other => return Err(format!("unknown way to load a model: {}", other).into()),
    };
    let builder = GraphBuilder::new(encoding, ExecutionTarget::CPU);
    Ok(if how == "preload" {
        builder.build_from_cache(model)?
    } else {
        builder.build_from_files([model])?
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = env::args().collect();
    if args.len() != 6 {
        return Err(
            "usage: nn-classify tflite|onnx|autodetect|preload MODEL IMAGE SIDE LABELS".into(),
        );
    }
    let side: u32 = args[4].parse()?;
    let labels = fs::read_to_string(&args[5])?;
    let labels: Vec<&str> = labels.lines().collect();

    let graph = load(&args[1], &args[2])?;
    let mut context = graph.init_execution_context()?;
    let pixels = Reader::open(&args[3])?
        .decode()?
        .resize_exact(side, side, image::imageops::Triangle)
        .to_rgb8();
    context.set_input(
        0,
        TensorType::U8,
        &[1, side as usize, side as usize, 3],
        pixels.as_raw(),
    )?;
    context.compute()?;

    let mut scores = vec![0u8; labels.len()];
    let written = context.get_output(0, &mut scores)?;
    if written != labels.len() {
        return Err(format!("{} scores for {} labels", written, labels.len()).into());
    }
    let mut ranked: Vec<(usize, u8)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1));
    for (rank, (class, score)) in ranked.into_iter().take(5).enumerate() {
        println!("   {}.) [{}]({}){}", rank + 1, class, score, labels[class]);
    }
    Ok(())
}
