/** What both engine adapters check and say the same way. */
import { ModelLoadError, TfliteFnError } from '../errors.js';

/** The first line of an engine's error: native and wasm engines append long traces. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** A run must be on a live model and give one array per model input. */
export function assertRunnable(
  label: string,
  disposed: boolean,
  expectedInputs: number,
  givenInputs: number,
): void {
  if (disposed) throw new ModelLoadError(`${label} was disposed`);
  if (givenInputs !== expectedInputs) {
    throw new TfliteFnError(
      500,
      'engine_error',
      `${label} takes ${expectedInputs} inputs, got ${givenInputs}`,
    );
  }
}
