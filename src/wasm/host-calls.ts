/** What a guest's host functions ask of the process that owns LiteRT and sharp. */
import type { WireTensorInfo } from '../engine/ort-guest-model.js';

export type ModelFormat = 'tflite' | 'onnx';

export type PixelLayout = 'rgb8' | 'bgr8' | 'rgb32f' | 'bgr32f';

export type HostRequest =
  /**
   * By sha256 first: the owner compiles each distinct model once, so a program that embeds its
   * model sends the bytes only when the owner has not seen them (reply `unknown: true`).
   */
  | {
      readonly op: 'compile';
      readonly sha256: string;
      readonly model?: Uint8Array;
      /** The bytes' format: TensorFlow Lite unless said (WASI-NN also loads ONNX). */
      readonly format?: ModelFormat;
    }
  | {
      readonly op: 'run';
      readonly handle: number;
      readonly inputs: readonly Uint8Array[];
      /** Each input's shape, open dimensions filled in (WASI-NN); the model's own when absent. */
      readonly shapes?: readonly (readonly number[])[];
    }
  | {
      readonly op: 'decode';
      readonly image: Uint8Array;
      readonly width: number;
      readonly height: number;
      readonly layout: PixelLayout;
    };

export type HostReply =
  | {
      readonly ok: true;
      readonly handle: number;
      readonly inputs: readonly WireTensorInfo[];
      readonly outputs: readonly WireTensorInfo[];
    }
  | { readonly ok: true; readonly outputs: readonly Uint8Array[] }
  | { readonly ok: true; readonly pixels: Uint8Array }
  | { readonly ok: false; readonly error: string; readonly unknown?: boolean };

/** Sizes the host accepts from a guest, checked in the worker before anything is copied. */
export interface HostLimits {
  /**
   * The largest image decoded, and the largest tensor a program sizes itself (WASI-NN open
   * dimensions): the same limit as every other input (TFLITE_FN_MAX_BYTES).
   */
  readonly maxInputBytes: number;
  /** The largest model compiled: the same limit as model files (TFLITE_FN_MAX_MODEL_BYTES). */
  readonly maxModelBytes: number;
}

/** Called synchronously by host functions (the guest waits while the owner works). */
export type HostCall = (request: HostRequest) => HostReply;
