/**
 * The program conformance suite on every in-process surface (handler-surfaces.ts). The
 * handlers read TFLITE_FN_PROGRAM and TFLITE_FN_NN_PRELOAD when first imported: the caller
 * sets those (and the working folder) before calling this, once per test process.
 */

import { everyHandler } from './handler-surfaces.js';
import { describeProgramConformance, type ProgramConformanceOptions } from './program-suite.js';

export async function describeProgramOnEveryHandler(
  options: Omit<ProgramConformanceOptions, 'prefix'>,
  /** Added to each surface's name, to tell two programs' runs apart. */
  what?: string,
): Promise<void> {
  for (const surface of await everyHandler()) {
    describeProgramConformance(what ? `${surface.name}, ${what}` : surface.name, surface.invoke, {
      ...options,
      prefix: surface.prefix,
    });
  }
}
