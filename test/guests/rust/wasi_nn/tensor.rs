/// The element type of a tensor, numbered as in the wasi-nn witx (`tensor_type`).
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Ord, PartialOrd)]
#[repr(C)]
pub enum TensorType {
    F16 = 0,
    F32,
    U8,
    I32,
}

impl TensorType {
    pub fn byte_size(&self) -> usize {
        match self {
            Self::F16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::U8 => 1,
        }
    }
}

/// The tensor record `set_input` reads from guest memory. On wasm32 a slice is a
/// (pointer, u32 length) pair and the enum is a u32, which is the witx layout exactly.
#[repr(C)]
pub(crate) struct Tensor<'t> {
    pub dimensions: &'t [usize],
    pub tensor_type: TensorType,
    pub data: &'t [u8],
}
