/**
 * sharp, imported on first use. Loading libvips takes ~70-100 ms; the CLI starts compiling
 * LiteRT's wasm first and loads sharp while V8 works on it. Modules that only declare things
 * (the task table, the descriptor schema, the catalog) import image code, so image code must
 * not load sharp at import time: it awaits this instead. One ESM instance, shared.
 */
import type SharpModule from 'sharp';

let loading: Promise<typeof SharpModule> | undefined;

export function loadSharp(): Promise<typeof SharpModule> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
