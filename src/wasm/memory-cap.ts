/**
 * Caps a program's linear memory by rewriting the maximum in its memory section, before it is
 * compiled. WebAssembly grows memory without asking the host, so the limit has to be in the
 * module itself: memory.grow past it then fails inside the guest (malloc returns NULL) instead
 * of taking the host's memory.
 */
const MEMORY_SECTION = 5;
const PAGE = 64 * 1024;

function readLeb(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let next = offset;
  for (;;) {
    const byte = bytes[next++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next };
    shift += 7;
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
  return out;
}

export function capMemory(module: Uint8Array, maxBytes: number): Uint8Array {
  const maxPages = Math.max(1, Math.floor(maxBytes / PAGE));
  if (
    module.length < 8 ||
    module[0] !== 0 ||
    module[1] !== 0x61 ||
    module[2] !== 0x73 ||
    module[3] !== 0x6d
  ) {
    throw new Error('not a WebAssembly module');
  }
  let offset = 8;
  while (offset < module.length) {
    const id = module[offset] as number;
    const size = readLeb(module, offset + 1);
    const start = size.next;
    const end = start + size.value;
    if (id === MEMORY_SECTION) {
      const count = readLeb(module, start);
      const body: number[] = [...leb(count.value)];
      let at = count.next;
      for (let i = 0; i < count.value; i++) {
        const flags = module[at++] as number;
        const initial = readLeb(module, at);
        at = initial.next;
        let maximum = maxPages;
        if (flags & 1) {
          const declared = readLeb(module, at);
          at = declared.next;
          maximum = Math.min(declared.value, maxPages);
        }
        if (initial.value > maxPages)
          throw new Error(
            `the program starts with ${initial.value * PAGE} bytes of memory; the cap is ${maxPages * PAGE}`,
          );
        body.push(flags | 1, ...leb(initial.value), ...leb(maximum));
      }
      const section = [MEMORY_SECTION, ...leb(body.length), ...body];
      const patched = new Uint8Array(module.length - (end - offset) + section.length);
      patched.set(module.subarray(0, offset), 0);
      patched.set(section, offset);
      patched.set(module.subarray(end), offset + section.length);
      return patched;
    }
    offset = end;
  }
  return module; // no memory of its own (imported or none): nothing to cap here
}
