/**
 * Build step: validates the built-in model descriptors once and stores the result beside the
 * compiled descriptor module, so processes start without loading zod and yaml (see
 * src/model/descriptor.ts). Keyed by the sha256 of each YAML text.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDescriptorText, snapshotFile } from '../src/model/descriptor.js';
import { builtinDescriptorDir } from '../src/store/paths.js';

const snapshot: Record<string, unknown> = {};
const dir = builtinDescriptorDir();
for (const name of readdirSync(dir).filter((file) => /\.ya?ml$/i.test(file))) {
  const text = readFileSync(join(dir, name), 'utf8');
  snapshot[createHash('sha256').update(text).digest('hex')] = parseDescriptorText(text, join(dir, name));
}
writeFileSync(snapshotFile(), `${JSON.stringify(snapshot, null, 2)}\n`);
console.log(`validated ${Object.keys(snapshot).length} built-in descriptors -> ${snapshotFile()}`);
