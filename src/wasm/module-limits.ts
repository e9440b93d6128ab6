/**
 * Puts the host's limits into a program before it is compiled. WebAssembly grows memory and
 * tables without asking the host, and instantiating a module allocates whatever its sections
 * declare, so the limits have to be in the module itself: memory.grow and table.grow past them
 * then fail inside the guest (malloc returns NULL, table.grow returns -1) instead of taking
 * the host's memory. This matters beyond memory use: tables and element segments live on the
 * guest worker's JS heap, and one allocation far past a worker's heap limit makes V8 abort the
 * whole process, not just the worker.
 *
 * The module is untrusted: every count and size is read with bounds checks, and anything this
 * reader does not understand is refused rather than passed through.
 */
import { ModuleReader, ModuleRefused, type Section, uleb } from './wasm-reader.js';

export { ModuleRefused };

const PAGE = 64 * 1024;
/**
 * Entries across all tables and all element segments. Real programs have one table of a few
 * hundred to a few ten thousand functions; V8 spends ~30 bytes of worker heap per entry
 * (the table and its dispatch arrays), so this stays near 8 MB of the worker's 64 MB heap.
 */
export const MAX_TABLE_ENTRIES = 1 << 18;
/** Each table costs heap before it holds anything; programs declare one, rarely a few. */
export const MAX_TABLES = 64;

const SECTION = { IMPORT: 2, TABLE: 4, MEMORY: 5, ELEMENT: 9 } as const;
const EXTERNAL = { FUNCTION: 0, TABLE: 1, MEMORY: 2, GLOBAL: 3, TAG: 4 } as const;
const REFERENCE_TYPES = new Set([0x70, 0x6f]); // funcref, externref

interface Limits {
  readonly flags: number;
  readonly initial: number;
  readonly maximum?: number;
}

function readLimits(reader: ModuleReader): Limits {
  const flags = reader.byte();
  // 0/1: no maximum / a maximum; 2/3: the same, shared (threads). 64-bit forms are refused.
  if (flags > 3) throw new ModuleRefused(`limits with flags ${flags} are not supported`);
  const initial = reader.u32();
  return flags & 1 ? { flags, initial, maximum: reader.u32() } : { flags, initial };
}

function refuseImportedStorage(reader: ModuleReader): void {
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    reader.name();
    reader.name();
    const kind = reader.byte();
    if (kind === EXTERNAL.FUNCTION || kind === EXTERNAL.TAG) {
      if (kind === EXTERNAL.TAG) reader.byte();
      reader.u32();
    } else if (kind === EXTERNAL.GLOBAL) {
      reader.valueType();
      reader.byte();
    } else if (kind === EXTERNAL.TABLE || kind === EXTERNAL.MEMORY) {
      // The sandbox provides neither, so such a program could never link; saying so here
      // also means every table and memory a program has is one this file capped.
      throw new ModuleRefused(
        `the program imports a ${kind === EXTERNAL.TABLE ? 'table' : 'memory'}; the sandbox provides none`,
      );
    } else throw new ModuleRefused(`an import of unknown kind ${kind}`);
  }
}

function capMemories(reader: ModuleReader, maxPages: number): number[] {
  const count = reader.u32();
  const body = uleb(count);
  for (let i = 0; i < count; i++) {
    const { flags, initial, maximum } = readLimits(reader);
    if (initial > maxPages)
      throw new ModuleRefused(
        `the program starts with ${initial * PAGE} bytes of memory; the cap is ${maxPages * PAGE}`,
      );
    body.push(flags | 1, ...uleb(initial), ...uleb(Math.min(maximum ?? maxPages, maxPages)));
  }
  return body;
}

/** Shares MAX_TABLE_ENTRIES: each table keeps its initial size plus an equal part of the rest. */
function capTables(reader: ModuleReader): number[] {
  const count = reader.u32();
  if (count > MAX_TABLES)
    throw new ModuleRefused(`the program declares ${count} tables; the cap is ${MAX_TABLES}`);
  const tables: { type: number; limits: Limits }[] = [];
  for (let i = 0; i < count; i++) {
    const type = reader.byte();
    if (!REFERENCE_TYPES.has(type))
      throw new ModuleRefused(`a table of unsupported type 0x${type.toString(16)}`);
    tables.push({ type, limits: readLimits(reader) });
  }
  const initial = tables.reduce((sum, table) => sum + table.limits.initial, 0);
  if (initial > MAX_TABLE_ENTRIES)
    throw new ModuleRefused(
      `the program's tables start with ${initial} entries; the cap is ${MAX_TABLE_ENTRIES}`,
    );
  const share = count === 0 ? 0 : Math.floor((MAX_TABLE_ENTRIES - initial) / count);
  const body = uleb(count);
  for (const { type, limits } of tables) {
    const maximum = Math.min(limits.maximum ?? Number.POSITIVE_INFINITY, limits.initial + share);
    body.push(type, limits.flags | 1, ...uleb(limits.initial), ...uleb(maximum));
  }
  return body;
}

/** Element segments become arrays on the worker's heap when the program is instantiated. */
function checkElements(reader: ModuleReader): void {
  const count = reader.u32();
  let entries = 0;
  for (let i = 0; i < count; i++) {
    const flags = reader.u32();
    if (flags > 7) throw new ModuleRefused(`an element segment with flags ${flags}`);
    const active = (flags & 1) === 0;
    const explicitTable = (flags & 2) !== 0;
    const expressions = (flags & 4) !== 0;
    if (active && explicitTable) reader.u32();
    if (active) reader.constantExpression();
    if (!active || explicitTable) reader.byte(); // element kind, or reference type
    const length = reader.u32();
    entries += length;
    if (entries > MAX_TABLE_ENTRIES)
      throw new ModuleRefused(`the program's element segments hold over ${MAX_TABLE_ENTRIES} entries`);
    for (let j = 0; j < length; j++) {
      if (expressions) reader.constantExpression();
      else reader.u32();
    }
  }
}

/** The module with its memory and tables capped, or a ModuleRefused saying what is wrong. */
export function limitModule(module: Uint8Array, memoryBytes: number): Uint8Array {
  const maxPages = Math.max(1, Math.floor(memoryBytes / PAGE));
  const reader = new ModuleReader(module);
  const replaced: (Section & { body: number[] })[] = [];
  for (const section of reader.sections()) {
    const sub = reader.within(section.start, section.end);
    if (section.id === SECTION.IMPORT) refuseImportedStorage(sub);
    else if (section.id === SECTION.TABLE) replaced.push({ ...section, body: capTables(sub) });
    else if (section.id === SECTION.MEMORY) replaced.push({ ...section, body: capMemories(sub, maxPages) });
    else if (section.id === SECTION.ELEMENT) checkElements(sub);
  }
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const section of replaced) {
    parts.push(module.subarray(at, section.headerStart));
    parts.push(Uint8Array.from([section.id, ...uleb(section.body.length), ...section.body]));
    at = section.end;
  }
  parts.push(module.subarray(at));
  return Buffer.concat(parts);
}
