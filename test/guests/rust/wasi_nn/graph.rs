//! Graphs (loaded models) and their execution contexts, as the 0.6 crate presents them.

use crate::error::{check, Error};
use crate::imports;
use crate::tensor::{Tensor, TensorType};
use std::fmt::{self, Debug, Display, Formatter};

/// How the model bytes are encoded, numbered as in the wasi-nn witx (`graph_encoding`).
/// `Autodetec` is spelled as the published crate spells it.
#[derive(Debug, Copy, Clone, Eq, PartialEq, Hash, Ord, PartialOrd)]
#[repr(C)]
pub enum GraphEncoding {
    Openvino = 0,
    Onnx,
    Tensorflow,
    Pytorch,
    TensorflowLite,
    Autodetec,
}

/// Where the graph should run, numbered as in the wasi-nn witx (`execution_target`).
#[derive(Debug, Copy, Clone, Eq, PartialEq, Hash, Ord, PartialOrd)]
#[repr(C)]
pub enum ExecutionTarget {
    CPU = 0,
    GPU,
    TPU,
    AUTO,
}

/// Collects the encoding and target, then loads a graph from bytes, files or a preloaded name.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    encoding: GraphEncoding,
    target: ExecutionTarget,
}

impl Default for GraphBuilder {
    /// OpenVINO on the CPU, the published crate's default.
    fn default() -> Self {
        Self::new(GraphEncoding::Openvino, ExecutionTarget::CPU)
    }
}

impl GraphBuilder {
    #[must_use]
    pub fn new(encoding: GraphEncoding, target: ExecutionTarget) -> Self {
        Self { encoding, target }
    }

    #[must_use]
    pub fn encoding(mut self, encoding: GraphEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    #[must_use]
    pub fn execution_target(mut self, execution_target: ExecutionTarget) -> Self {
        self.target = execution_target;
        self
    }

    #[must_use]
    pub fn cpu(self) -> Self {
        self.execution_target(ExecutionTarget::CPU)
    }

    #[must_use]
    pub fn gpu(self) -> Self {
        self.execution_target(ExecutionTarget::GPU)
    }

    #[must_use]
    pub fn tpu(self) -> Self {
        self.execution_target(ExecutionTarget::TPU)
    }

    /// Loads a graph from in-memory model parts (one for TensorFlow Lite and ONNX).
    pub fn build_from_bytes<B>(self, bytes_array: impl AsRef<[B]>) -> Result<Graph, Error>
    where
        B: AsRef<[u8]>,
    {
        let parts: Vec<&[u8]> = bytes_array.as_ref().iter().map(AsRef::as_ref).collect();
        let mut handle: i32 = 0;
        // A &[u8] on wasm32 is (pointer, u32 length): `parts` is the witx graph_builder_array.
        check(unsafe {
            imports::load(
                parts.as_ptr() as i32,
                parts.len() as i32,
                self.encoding as i32,
                self.target as i32,
                &mut handle as *mut i32 as i32,
            )
        })?;
        Ok(Graph {
            build_info: self,
            handle,
        })
    }

    /// Reads each file, then loads them as `build_from_bytes` does.
    pub fn build_from_files<P>(self, files: impl AsRef<[P]>) -> Result<Graph, Error>
    where
        P: AsRef<std::path::Path>,
    {
        let mut contents = Vec::with_capacity(files.as_ref().len());
        for file in files.as_ref() {
            contents.push(std::fs::read(file)?);
        }
        self.build_from_bytes(&contents)
    }

    /// Takes a graph the host preloaded under `name` (WasmEdge's `--nn-preload NAME:...`).
    pub fn build_from_cache(self, name: &str) -> Result<Graph, Error> {
        let mut handle: i32 = 0;
        check(unsafe {
            imports::load_by_name(
                name.as_ptr() as i32,
                name.len() as i32,
                &mut handle as *mut i32 as i32,
            )
        })?;
        Ok(Graph {
            build_info: self,
            handle,
        })
    }
}

/// A loaded model; creates the contexts that run it.
pub struct Graph {
    build_info: GraphBuilder,
    handle: i32,
}

impl Graph {
    pub fn encoding(&self) -> GraphEncoding {
        self.build_info.encoding
    }

    pub fn execution_target(&self) -> ExecutionTarget {
        self.build_info.target
    }

    pub fn init_execution_context(&self) -> Result<GraphExecutionContext, Error> {
        let mut context: i32 = 0;
        check(unsafe {
            imports::init_execution_context(self.handle, &mut context as *mut i32 as i32)
        })?;
        Ok(GraphExecutionContext {
            graph: self,
            handle: context,
        })
    }
}

impl Display for Graph {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "Graph#{}", self.handle)
    }
}

impl Debug for Graph {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.handle)
    }
}

/// One set of inputs and outputs for a graph.
pub struct GraphExecutionContext<'a> {
    graph: &'a Graph,
    handle: i32,
}

impl<'a> GraphExecutionContext<'a> {
    pub fn graph(&self) -> &Graph {
        self.graph
    }

    /// Sets input `index` from elements of any plain type (u8, f32, i32...), passed as bytes.
    pub fn set_input<T: Sized>(
        &mut self,
        index: usize,
        tensor_type: TensorType,
        dimensions: &[usize],
        data: impl AsRef<[T]>,
    ) -> Result<(), Error> {
        let elements = data.as_ref();
        let bytes = unsafe {
            std::slice::from_raw_parts(
                elements.as_ptr().cast::<u8>(),
                std::mem::size_of_val(elements),
            )
        };
        let tensor = Tensor {
            dimensions,
            tensor_type,
            data: bytes,
        };
        check(unsafe {
            imports::set_input(self.handle, index as i32, &tensor as *const Tensor as i32)
        })
    }

    pub fn compute(&mut self) -> Result<(), Error> {
        check(unsafe { imports::compute(self.handle) })
    }

    /// Copies output `index` into `out_buffer`; answers the output's size in bytes.
    pub fn get_output<T: Sized>(&self, index: usize, out_buffer: &mut [T]) -> Result<usize, Error> {
        let max = std::mem::size_of_val(out_buffer);
        let mut written: u32 = 0;
        check(unsafe {
            imports::get_output(
                self.handle,
                index as i32,
                out_buffer.as_mut_ptr() as i32,
                max as i32,
                &mut written as *mut u32 as i32,
            )
        })?;
        Ok(written as usize)
    }
}

impl<'a> Display for GraphExecutionContext<'a> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "GraphExecutionContext#{}", self.handle)
    }
}

impl<'a> Debug for GraphExecutionContext<'a> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.handle)
    }
}
