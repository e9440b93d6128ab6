/**
 * A structural check of a .tflite file before LiteRT sees it.
 *
 * LiteRT.js does not verify the FlatBuffer: a model cut short by a broken download compiles and
 * runs, and quietly reads zeros where its weights should be (seen with a MobileNet missing its
 * last kilobyte: every score 0). Some malformed files also abort the wasm instance, taking every
 * other model in the process with it. So we walk every table and vector the model is made of
 * (subgraphs, tensors, operators, weight buffers, metadata, signatures) and refuse a file
 * whose pointers leave it.
 *
 * Field ids are from TensorFlow Lite's schema.fbs (e.g. Model.buffers is field 4; Buffer.data,
 * .offset and .size are fields 0, 1 and 2; Tensor.name is field 3).
 */
import { readTfliteModel } from '../convert/tflite-schema.js';
import { ModelLoadError } from '../errors.js';

const MODEL = {
  operatorCodes: 1,
  subgraphs: 2,
  description: 3,
  buffers: 4,
  metadataBuffer: 5,
  metadata: 6,
  signatureDefs: 7,
};
const BUFFER = { data: 0, offset: 1, size: 2 };

class Reader {
  readonly #view: DataView;
  readonly length: number;

  constructor(bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }

  #need(position: number, size: number): void {
    if (!Number.isInteger(position) || position < 0 || position + size > this.length) {
      throw new RangeError(
        `reads ${size} bytes at ${position}, past the end of the ${this.length}-byte file`,
      );
    }
  }

  u16(position: number): number {
    this.#need(position, 2);
    return this.#view.getUint16(position, true);
  }

  u32(position: number): number {
    this.#need(position, 4);
    return this.#view.getUint32(position, true);
  }

  u64(position: number): number {
    this.#need(position, 8);
    return Number(this.#view.getBigUint64(position, true));
  }

  /** Follows a uoffset stored at `position`. */
  deref(position: number): number {
    const target = position + this.u32(position);
    this.#need(target, 4);
    return target;
  }

  /** Position of field `id` of the table at `table`, or undefined when absent. */
  field(table: number, id: number): number | undefined {
    const vtable = table - (this.u32(table) | 0);
    const vtableSize = this.u16(vtable);
    const entry = 4 + 2 * id;
    if (entry >= vtableSize) return undefined;
    const offset = this.u16(vtable + entry);
    return offset === 0 ? undefined : table + offset;
  }

  /** Start and length of the vector a field points at. */
  vector(fieldPosition: number, elementSize: number): { start: number; count: number } {
    const at = this.deref(fieldPosition);
    const count = this.u32(at);
    this.#need(at + 4, count * elementSize);
    return { start: at + 4, count };
  }
}

/** Walks every table and vector of the schema parts a model always has. */
function walkModel(r: Reader): void {
  const tables = (table: number, id: number, visit: (child: number) => void) => {
    const field = r.field(table, id);
    if (field === undefined) return;
    const { start, count } = r.vector(field, 4);
    for (let i = 0; i < count; i++) visit(r.deref(start + 4 * i));
  };
  const vector = (table: number, id: number, elementSize: number) => {
    const field = r.field(table, id);
    if (field !== undefined) r.vector(field, elementSize);
  };
  const child = (table: number, id: number, visit: (child: number) => void) => {
    const field = r.field(table, id);
    if (field !== undefined) visit(r.deref(field));
  };

  const model = r.deref(0);
  tables(model, MODEL.operatorCodes, (code) => vector(code, 1, 1)); // custom_code string
  tables(model, MODEL.subgraphs, (subgraph) => {
    tables(subgraph, 0, (tensor) => {
      vector(tensor, 0, 4); // shape
      vector(tensor, 3, 1); // name
      child(tensor, 4, (quantization) => {
        vector(quantization, 0, 4); // min
        vector(quantization, 1, 4); // max
        vector(quantization, 2, 4); // scale
        vector(quantization, 3, 8); // zero_point
      });
      vector(tensor, 7, 4); // shape_signature
    });
    vector(subgraph, 1, 4); // inputs
    vector(subgraph, 2, 4); // outputs
    tables(subgraph, 3, (operator) => {
      vector(operator, 1, 4); // inputs
      vector(operator, 2, 4); // outputs
      vector(operator, 5, 1); // custom_options
    });
    vector(subgraph, 4, 1); // name
  });
  vector(model, MODEL.description, 1);
  tables(model, MODEL.buffers, (buffer) => {
    vector(buffer, BUFFER.data, 1);
    const offsetField = r.field(buffer, BUFFER.offset);
    const sizeField = r.field(buffer, BUFFER.size);
    if (offsetField !== undefined && sizeField !== undefined) {
      const offset = r.u64(offsetField);
      const size = r.u64(sizeField);
      if (offset > 1 && offset + size > r.length) {
        throw new RangeError(
          `a weight buffer ends at ${offset + size}, past the end of the ${r.length}-byte file`,
        );
      }
    }
  });
  vector(model, MODEL.metadataBuffer, 4);
  tables(model, MODEL.metadata, (metadata) => vector(metadata, 0, 1));
  tables(model, MODEL.signatureDefs, (signature) => {
    tables(signature, 0, (map) => vector(map, 0, 1));
    tables(signature, 1, (map) => vector(map, 0, 1));
    vector(signature, 2, 1);
  });
}

/**
 * Refuses a model LiteRT must not see: not a .tflite file, pointers that leave the file, or
 * numbers that do not hold together (shapes, buffer sizes, indices: the converter's reader
 * checks those, see validateModel in src/convert/tflite-schema.ts, and so one check serves both
 * engines).
 */
export function assertTfliteIntegrity(bytes: Uint8Array, label: string): void {
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
    throw new ModelLoadError(`${label} is not a TensorFlow Lite model (no TFL3 FlatBuffer header)`);
  }
  try {
    walkModel(new Reader(bytes));
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new ModelLoadError(`${label} is truncated or corrupt: ${cause.message}`, { cause });
  }
  readTfliteModel(bytes, label);
}
