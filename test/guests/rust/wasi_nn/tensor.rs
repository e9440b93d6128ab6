/// The element type of a tensor, numbered as wasi-nn 0.6 numbers it (and WasmEdge 0.14+,
/// wasmtime's witx): f64 sits between f32 and u8, so u8 is 3. The older witx (wasi-nn < 0.6)
/// had no f64/i64 and numbered u8 2.
#[derive(Debug, Copy, Clone, Hash, Eq, PartialEq, Ord, PartialOrd)]
#[repr(C)]
pub enum TensorType {
    F16 = 0,
    F32,
    F64,
    U8,
    I32,
    I64,
}

impl TensorType {
    pub fn byte_size(&self) -> usize {
        match self {
            Self::U8 => 1,
            Self::F16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::F64 | Self::I64 => 8,
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
