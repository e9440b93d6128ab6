/**
 * A whole quantized RESIZE_BILINEAR computed with the one TypeScript statement of LiteRT's
 * arithmetic (src/tflite/resize-bilinear.ts), pixel by pixel, for tests to compare with
 * LiteRT's own output.
 */
import { axisSampling, bilinearSample, type ResizeMode } from '../src/tflite/resize-bilinear.js';

/** Stored values [1, h, w, c] (as numbers: int8 signed) to [1, outH, outW, c]. */
export function resizeStored(
  values: ArrayLike<number>,
  from: readonly number[],
  to: readonly number[],
  mode: ResizeMode,
): Int32Array {
  const [, height = 0, width = 0, channels = 0] = from;
  const [, outHeight = 0, outWidth = 0] = to;
  const rows = axisSampling(height, outHeight, mode);
  const columns = axisSampling(width, outWidth, mode);
  const out = new Int32Array(outHeight * outWidth * channels);
  const at = (row: number, column: number, c: number) =>
    values[(row * width + column) * channels + c] as number;
  for (let y = 0; y < outHeight; y++) {
    const [top, bottom, rowWeight] = [rows.low[y], rows.high[y], rows.weight[y]] as number[];
    for (let x = 0; x < outWidth; x++) {
      const [left, right, columnWeight] = [columns.low[x], columns.high[x], columns.weight[x]] as number[];
      for (let c = 0; c < channels; c++) {
        out[(y * outWidth + x) * channels + c] = bilinearSample(
          at(top as number, left as number, c),
          at(top as number, right as number, c),
          at(bottom as number, left as number, c),
          at(bottom as number, right as number, c),
          columnWeight as number,
          rowWeight as number,
        );
      }
    }
  }
  return out;
}
