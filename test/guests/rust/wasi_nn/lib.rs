//! A stand-in for the `wasi-nn` crate (0.6 API), so programs written for WasmEdge's WASI-NN
//! plug-in build here without crates.io: the same public paths (`wasi_nn::GraphBuilder`,
//! `GraphEncoding`, `ExecutionTarget`, `Graph`, `GraphExecutionContext`, `TensorType`,
//! `Error`; like the published crate, `BackendError` is reachable only inside
//! `Error::BackendError`), the same signatures and enum values, over the same
//! `wasi_ephemeral_nn` host imports. Only what the published crate offers; nothing more.

mod error;
mod graph;
mod imports;
mod tensor;

pub use error::Error;
pub use graph::{ExecutionTarget, Graph, GraphBuilder, GraphEncoding, GraphExecutionContext};
pub use tensor::TensorType;
