/**
 * Cuts a TFLite graph short: named tensors become the model's outputs, and the operators that
 * only lead past them are dropped.
 *
 * For models whose tail LiteRT.js cannot run (SSD's custom TFLite_Detection_PostProcess with
 * dynamic output shapes, DeepLab's INT64 ArgMax): the task runs the graph up to that tail and
 * does the rest in TypeScript.
 *
 * The file is edited, not rebuilt: its bytes are copied, new data is appended at the end (a
 * uoffset may only point forward, and the end is after everything), and three things change:
 * - the main subgraph's `outputs` field points to a new vector of the named tensors;
 * - its `operators` vector is shortened in place to the operators needed (which must be a
 *   prefix in execution order: TFLite runs operators in vector order, so only a suffix can
 *   go by shrinking the count);
 * - the Model's signature_defs are dropped (through a copy of its vtable, since vtables may be
 *   shared between tables): LiteRT.js runs a model through its signatures, and the old ones
 *   name the old outputs. With none, it makes a default signature from the subgraph.
 * Everything else (tensors, weights, metadata) stays where it was; tensors nothing uses any
 * more cost nothing at run time.
 */

import { ModelLoadError } from '../errors.js';
import { FlatFile, vtableEntry } from './flatbuffer.js';
import { readTfliteModel, withModelErrors } from './read.js';
import {
  builtinOperatorName,
  MODEL_FIELD,
  type Model,
  type Operator,
  SUBGRAPH_FIELD,
  type SubGraph,
} from './schema.js';

interface CutPlan {
  /** Tensor indices of the new outputs, in the order asked for. */
  readonly outputs: readonly number[];
  /** How many operators stay (the first `keep` in execution order). */
  readonly keep: number;
}

/**
 * A copy of `bytes` whose main subgraph stops at the tensors named in `outputs` (in that
 * order). Refuses (ModelLoadError naming `label`) a name the graph does not have or has twice,
 * a tensor nothing computes (a constant), and a cut that would have to remove operators from
 * the middle of the graph.
 */
export function cutGraph(bytes: Uint8Array, outputs: readonly string[], label: string): Uint8Array {
  const model = readTfliteModel(bytes, label);
  return withModelErrors(label, () => {
    const subgraph = model.subgraphs[0];
    if (!subgraph) throw new ModelLoadError(`${label} has no subgraph to cut`);
    const plan = planCut(model, subgraph, outputs, label);
    return writeCut(bytes, plan, label);
  });
}

function planCut(model: Model, subgraph: SubGraph, names: readonly string[], label: string): CutPlan {
  if (names.length === 0) throw new ModelLoadError(`a cut of ${label} needs at least one output tensor`);
  const outputs = names.map((name) => tensorIndexByName(subgraph, name, label));
  if (new Set(outputs).size !== outputs.length) {
    throw new ModelLoadError(`a cut of ${label} names the same output tensor twice: ${names.join(', ')}`);
  }
  const operators = subgraph.operators;
  const producer = new Map<number, number>();
  operators.forEach((operator, index) => {
    for (const output of operator.outputs) producer.set(output, index);
  });
  const graphInputs = new Set(subgraph.inputs);
  const needed = new Set<number>();
  const pending = [...outputs];
  for (const [i, tensor] of outputs.entries()) {
    if (!producer.has(tensor) && !graphInputs.has(tensor)) {
      throw new ModelLoadError(
        `${label} cannot stop at '${names[i]}': no operator computes it (it is a constant)`,
      );
    }
  }
  while (pending.length > 0) {
    const op = producer.get(pending.pop() as number);
    if (op === undefined || needed.has(op)) continue;
    needed.add(op);
    for (const input of operators[op]?.inputs ?? []) if (input >= 0) pending.push(input);
  }
  const keep = needed.size === 0 ? 0 : Math.max(...needed) + 1;
  for (let index = 0; index < keep; index++) {
    if (!needed.has(index)) {
      throw new ModelLoadError(
        `${label} cannot stop at ${names.join(', ')}: operator ${index} (${operatorName(model, operators[index])}) ` +
          'runs before them but is not needed for them, and only the operators after the cut can be dropped',
      );
    }
  }
  return { outputs, keep };
}

function operatorName(model: Model, operator: Operator | undefined): string {
  const code = operator && model.operatorCodes[operator.opcodeIndex];
  return code?.customCode ?? builtinOperatorName(code?.builtinCode ?? -1);
}

function tensorIndexByName(subgraph: SubGraph, name: string, label: string): number {
  const matches: number[] = [];
  subgraph.tensors.forEach((tensor, index) => {
    if (tensor.name === name) matches.push(index);
  });
  if (matches.length === 0) throw new ModelLoadError(`${label} has no tensor named '${name}'`);
  if (matches.length > 1) {
    throw new ModelLoadError(`${label} has ${matches.length} tensors named '${name}'; a cut needs one`);
  }
  return matches[0] as number;
}

/** Appends at 4-byte alignment: uoffset vectors and vtables must be aligned for verifiers. */
function align(position: number, to: number): number {
  return Math.ceil(position / to) * to;
}

function writeCut(bytes: Uint8Array, plan: CutPlan, label: string): Uint8Array {
  const source = new FlatFile(bytes);
  const model = source.root();
  const [subgraph] = source.tables(model, MODEL_FIELD.subgraphs);
  const outputsField = subgraph === undefined ? undefined : source.field(subgraph, SUBGRAPH_FIELD.outputs);
  const operatorsField =
    subgraph === undefined ? undefined : source.field(subgraph, SUBGRAPH_FIELD.operators);
  if (outputsField === undefined || operatorsField === undefined) {
    // A field can only be repointed where the table already has a slot for it.
    throw new ModelLoadError(`${label}'s main subgraph has no outputs or operators field to cut`);
  }
  const operators = source.vectorAt(operatorsField, 4);
  const vtable = source.vtableOf(model);
  const vtableSize = source.u16(vtable);

  const outputsAt = align(bytes.length, 4);
  const vtableAt = align(outputsAt + 4 + 4 * plan.outputs.length, 4);
  const result = new Uint8Array(vtableAt + vtableSize);
  result.set(bytes);
  const view = new DataView(result.buffer);

  view.setUint32(outputsAt, plan.outputs.length, true);
  for (const [i, tensor] of plan.outputs.entries()) view.setInt32(outputsAt + 4 + 4 * i, tensor, true);
  view.setUint32(outputsField, outputsAt - outputsField, true);

  // The operators vector's count sits just before its first element.
  view.setUint32(operators.start - 4, plan.keep, true);

  result.set(bytes.subarray(vtable, vtable + vtableSize), vtableAt);
  const signatureEntry = vtableEntry(MODEL_FIELD.signatureDefs);
  if (signatureEntry + 2 <= vtableSize) view.setUint16(vtableAt + signatureEntry, 0, true);
  // soffset from table to vtable: negative now that the vtable sits after the table.
  view.setInt32(model, model - vtableAt, true);
  return result;
}
