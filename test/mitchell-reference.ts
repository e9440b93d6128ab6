/**
 * A stretch to WxH as stb_image_resize2's easy API does it when shrinking (WasmEdge >= 0.15's
 * wasmedge_image): each axis on its own, Mitchell-Netravali (B = C = 1/3) widened by the
 * shrink factor, sample positions at pixel centres, weights normalised to 1, edges clamped,
 * rounded to the nearest byte at the end. Written from that definition; on the pattern of
 * test/guest-decode.test.ts it gave the same bytes as stb_image_resize2 v2.12 itself (built
 * by bench/resize-fidelity.ts) at 40x40 and 64x31.
 */

function mitchell(distance: number): number {
  const x = Math.abs(distance);
  if (x < 1) return (7 / 6) * x ** 3 - 2 * x ** 2 + 8 / 9;
  if (x < 2) return -(7 / 18) * x ** 3 + 2 * x ** 2 - (10 / 3) * x + 16 / 9;
  return 0;
}

/** For each output position along one axis: the input positions it reads and their weights. */
function taps(inputs: number, outputs: number): (readonly [number, number])[][] {
  if (outputs > inputs) throw new Error('this reference only shrinks');
  const scale = outputs / inputs;
  const reach = 2 / scale;
  return Array.from({ length: outputs }, (_, i) => {
    const centre = (i + 0.5) / scale - 0.5;
    const weights: [number, number][] = [];
    for (let j = Math.floor(centre - reach); j <= Math.ceil(centre + reach); j++) {
      const weight = mitchell((j - centre) * scale);
      if (weight !== 0) weights.push([Math.min(inputs - 1, Math.max(0, j)), weight]);
    }
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    return weights.map(([j, weight]) => [j, weight / total] as const);
  });
}

/** Interleaved RGB bytes of width x height to outWidth x outHeight. */
export function mitchellShrink(
  rgb: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const columns = taps(width, outWidth);
  const rows = taps(height, outHeight);
  const across = new Float64Array(outWidth * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < outWidth; x++)
      for (let c = 0; c < 3; c++)
        across[(y * outWidth + x) * 3 + c] = (columns[x] ?? []).reduce(
          (sum, [j, weight]) => sum + weight * (rgb[(y * width + j) * 3 + c] as number),
          0,
        );
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++)
    for (let x = 0; x < outWidth; x++)
      for (let c = 0; c < 3; c++) {
        const value = (rows[y] ?? []).reduce(
          (sum, [j, weight]) => sum + weight * (across[(j * outWidth + x) * 3 + c] as number),
          0,
        );
        out[(y * outWidth + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(value)));
      }
  return out;
}
