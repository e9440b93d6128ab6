/** What detect answers (public API: the JSON shape the README documents). */
import type { TaskResultBase } from '../task.js';
import type { Point } from './boxes.js';

export interface DetectTaskOptions {
  /** Search overlapping tiles of large photos too (default true). */
  readonly tiling?: boolean | undefined;
}

export interface Face {
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly score: number;
  /** BlazeFace order: right eye, left eye, nose tip, mouth, right ear tragion, left ear tragion. */
  readonly landmarks: readonly Point[];
}

export interface Detections extends TaskResultBase {
  readonly faces: readonly Face[];
  readonly tiling: { readonly passes: number; readonly tile: number; readonly overlap: number };
}
