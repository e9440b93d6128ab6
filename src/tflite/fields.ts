/**
 * Field ids of the TFLite schema tables read by position (schema.fbs: a table's field `id`
 * sits at vtable entry 4 + 2 * id; a union takes two ids, its type and then its value).
 */

/** table Model { version, operator_codes, subgraphs, description, buffers, metadata_buffer, metadata, signature_defs } */
export const MODEL_FIELD = {
  version: 0,
  operatorCodes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadataBuffer: 5,
  metadata: 6,
  signatureDefs: 7,
} as const;

/** table SubGraph { tensors, inputs, outputs, operators, name } */
export const SUBGRAPH_FIELD = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
