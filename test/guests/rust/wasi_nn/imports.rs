//! The `wasi_ephemeral_nn` host functions as the witx spec declares them: every handle, pointer
//! and length an i32 (wasm32), every call answering an errno (0 success).

#[link(wasm_import_module = "wasi_ephemeral_nn")]
extern "C" {
    /// builders: an array of (pointer, length) pairs, one per model file.
    pub fn load(
        builders: i32,
        builders_len: i32,
        encoding: i32,
        target: i32,
        graph_out: i32,
    ) -> i32;
    pub fn load_by_name(name: i32, name_len: i32, graph_out: i32) -> i32;
    pub fn init_execution_context(graph: i32, context_out: i32) -> i32;
    /// tensor: a pointer to { dims: *u32, dims_len: u32, type: u32, data: *u8, data_len: u32 }.
    pub fn set_input(context: i32, index: i32, tensor: i32) -> i32;
    pub fn compute(context: i32) -> i32;
    pub fn get_output(context: i32, index: i32, out: i32, out_max: i32, written_out: i32) -> i32;
}
