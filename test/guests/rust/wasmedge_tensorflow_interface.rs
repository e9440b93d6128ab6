//! A small stand-in for the `wasmedge_tensorflow_interface` crate (0.2 API), so programs
//! written for WasmEdge build here without crates.io: the same types and functions, over the
//! same host imports (`wasmedge_tensorflowlite`, `wasmedge_image`).

mod ffi {
    #[link(wasm_import_module = "wasmedge_tensorflowlite")]
    extern "C" {
        pub fn wasmedge_tensorflowlite_create_session(model: *const u8, len: u32) -> u64;
        pub fn wasmedge_tensorflowlite_delete_session(session: u64);
        pub fn wasmedge_tensorflowlite_run_session(session: u64) -> u32;
        pub fn wasmedge_tensorflowlite_get_output_tensor(session: u64, name: *const u8, name_len: u32) -> u64;
        pub fn wasmedge_tensorflowlite_get_tensor_len(tensor: u64) -> u32;
        pub fn wasmedge_tensorflowlite_get_tensor_data(tensor: u64, dst: *mut u8);
        pub fn wasmedge_tensorflowlite_append_input(session: u64, name: *const u8, name_len: u32, data: *const u8, data_len: u32);
    }
    #[link(wasm_import_module = "wasmedge_image")]
    extern "C" {
        pub fn wasmedge_image_load_jpg_to_rgb8(img: *const u8, len: u32, w: u32, h: u32, dst: *mut u8) -> u32;
        pub fn wasmedge_image_load_png_to_rgb8(img: *const u8, len: u32, w: u32, h: u32, dst: *mut u8) -> u32;
    }
}

pub enum ModelType {
    TensorFlow,
    TensorFlowLite,
}

pub struct Session {
    handle: u64,
}

impl Session {
    pub fn new(model: &[u8], model_type: ModelType) -> Session {
        let handle = match model_type {
            ModelType::TensorFlowLite => unsafe { ffi::wasmedge_tensorflowlite_create_session(model.as_ptr(), model.len() as u32) },
            ModelType::TensorFlow => 0,
        };
        Session { handle }
    }

    pub fn add_input<T: Copy>(&mut self, name: &str, data: &[T], _shape: &[i64]) -> &mut Session {
        let bytes = data.len() * std::mem::size_of::<T>();
        unsafe {
            ffi::wasmedge_tensorflowlite_append_input(self.handle, name.as_ptr(), name.len() as u32, data.as_ptr() as *const u8, bytes as u32);
        }
        self
    }

    pub fn run(&mut self) -> &mut Session {
        unsafe { ffi::wasmedge_tensorflowlite_run_session(self.handle) };
        self
    }

    pub fn get_output<T: Copy + Default>(&self, name: &str) -> Vec<T> {
        unsafe {
            let tensor = ffi::wasmedge_tensorflowlite_get_output_tensor(self.handle, name.as_ptr(), name.len() as u32);
            let len = ffi::wasmedge_tensorflowlite_get_tensor_len(tensor) as usize;
            let mut out = vec![T::default(); len / std::mem::size_of::<T>()];
            if len > 0 {
                ffi::wasmedge_tensorflowlite_get_tensor_data(tensor, out.as_mut_ptr() as *mut u8);
            }
            out
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        unsafe { ffi::wasmedge_tensorflowlite_delete_session(self.handle) };
    }
}

pub fn load_jpg_image_to_rgb8(img: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0u8; (width * height * 3) as usize];
    unsafe { ffi::wasmedge_image_load_jpg_to_rgb8(img.as_ptr(), img.len() as u32, width, height, out.as_mut_ptr()) };
    out
}

pub fn load_png_image_to_rgb8(img: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0u8; (width * height * 3) as usize];
    unsafe { ffi::wasmedge_image_load_png_to_rgb8(img.as_ptr(), img.len() as u32, width, height, out.as_mut_ptr()) };
    out
}
