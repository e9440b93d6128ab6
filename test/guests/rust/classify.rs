//! The WasmEdge classic, as the published `classify` example does it: embed a MobileNet and
//! its labels, read an image on stdin, print one sentence. Built by the tests with Debian's
//! rustc for wasm32-wasi; the model and labels paths come from the environment at build time.
use std::io::{self, Read};
use wasmedge_tensorflow_interface as tf;

fn main() {
    let model_data: &[u8] = include_bytes!(env!("TFLITE_FN_GUEST_MODEL"));
    let labels = include_str!(env!("TFLITE_FN_GUEST_LABELS"));

    let mut buf = Vec::new();
    io::stdin().read_to_end(&mut buf).unwrap();
    let flat_img = tf::load_jpg_image_to_rgb8(&buf, 224, 224);

    let mut session = tf::Session::new(model_data, tf::ModelType::TensorFlowLite);
    session.add_input("input", &flat_img, &[1, 224, 224, 3]).run();
    let res_vec: Vec<u8> = session.get_output("MobilenetV2/Predictions/Softmax");

    let mut i = 0;
    let mut max_index: i32 = -1;
    let mut max_value: u8 = 0;
    while i < res_vec.len() {
        let cur = res_vec[i];
        if cur > max_value {
            max_value = cur;
            max_index = i as i32;
        }
        i += 1;
    }

    let mut confidence = "could be";
    if max_value > 200 {
        confidence = "is very likely";
    } else if max_value > 125 {
        confidence = "is likely";
    } else if max_value > 50 {
        confidence = "could be";
    }

    let mut label_lines = labels.lines();
    for _i in 0..max_index {
        label_lines.next();
    }
    let class_name = label_lines.next().unwrap().to_string();
    if max_value > 50 {
        println!("It {} a <a href='https://www.google.com/search?q={}'>{}</a> in the picture", confidence, class_name, class_name);
    } else {
        println!("It is not clear what is in the picture; the closest match is a <a href='https://www.google.com/search?q={}'>{}</a>", class_name, class_name);
    }
}
