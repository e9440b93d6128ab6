/**
 * A request tensor's data read by its own datatype, whatever that is of the protocol's twelve
 * fixed-size types: JSON elements (flat, or nested in the shape's own form) each checked to be
 * a value of the datatype, or its binary bytes. Its size was checked before (input-tensors.ts),
 * so what is allocated here is what the shape declares and no more.
 */
import { BadRequestError, shown } from '../errors.js';
import {
  allocate,
  type FixedDatatype,
  fromLittleEndian,
  jsonElement,
  notAnElement,
  type ProtocolTensorData,
} from './datatypes.js';

function bad(message: string): BadRequestError {
  return new BadRequestError('bad_tensor', message);
}

export interface TensorDeclaration {
  readonly name: string;
  readonly datatype: FixedDatatype;
  readonly shape: readonly number[];
}

const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * JSON data written into a new tensor of the datatype. Stops at the first element past the
 * count (a longer array is not walked to its end) and at the first that is not of the type.
 */
export function tensorFromJson(
  { name, datatype, shape }: TensorDeclaration,
  data: unknown,
): ProtocolTensorData {
  const count = elementCount(shape);
  const tensor = allocate(datatype, count);
  let at = 0;
  const visit = (value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth >= Math.max(shape.length, 1))
        throw bad(`input '${name}': data is nested deeper than its shape`);
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (at >= count)
      throw bad(`input '${name}': data has more than the ${count} elements its shape ${shown(shape)} holds`);
    const element = jsonElement(datatype, value);
    if (element === undefined)
      throw bad(
        `input '${name}': element ${at} is ${shown(value)}, not a ${datatype} (${notAnElement(datatype)})`,
      );
    tensor[at++] = element as never;
  };
  visit(data, 0);
  if (at !== count)
    throw bad(`input '${name}': data has ${at} elements; its shape ${shown(shape)} holds ${count}`);
  return tensor;
}

/** Binary data (exactly the shape's bytes, checked by the caller) as a tensor of the datatype. */
export function tensorFromBytes({ datatype }: TensorDeclaration, bytes: Uint8Array): ProtocolTensorData {
  return fromLittleEndian(datatype, bytes);
}
