/**
 * Enlarges interleaved RGB bytes as stb_image_resize2 does when upsampling (its default
 * filter, which WasmEdge >= 0.15's wasmedge_image uses): Catmull-Rom, output pixel centres
 * mapped onto input pixel centres, edges clamped, one axis then the other in floats, rounded
 * to the nearest byte. libvips enlarges with its pixel grid half an output pixel away, which
 * put the shared photos enlarged to 1024x1024 2.5 of a byte on average from WasmEdge's
 * (docs/benchmarks/resize.md).
 *
 * Only for enlarging (every output axis at least its input): each output then reads 4 input
 * pixels per axis, so the work is bounded by the output's size, which the caller caps.
 */

/** Catmull-Rom (B = 0, C = 1/2) at a distance in input pixels. */
function catmullRom(distance: number): number {
  const x = Math.abs(distance);
  if (x < 1) return 1.5 * x ** 3 - 2.5 * x ** 2 + 1;
  if (x < 2) return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2;
  return 0;
}

const TAPS = 4;

/** For each output position: the 4 input positions it reads (clamped) and their weights. */
function axisTaps(inputs: number, outputs: number): { index: Int32Array; weight: Float32Array } {
  const index = new Int32Array(outputs * TAPS);
  const weight = new Float32Array(outputs * TAPS);
  for (let i = 0; i < outputs; i++) {
    const centre = ((i + 0.5) * inputs) / outputs - 0.5;
    const first = Math.floor(centre) - 1;
    for (let t = 0; t < TAPS; t++) {
      index[i * TAPS + t] = Math.min(inputs - 1, Math.max(0, first + t));
      weight[i * TAPS + t] = catmullRom(first + t - centre);
    }
  }
  return { index, weight };
}

export function enlargeCatmullRom(
  rgb: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (outWidth < width || outHeight < height) throw new RangeError('enlargeCatmullRom only enlarges');
  const columns = axisTaps(width, outWidth);
  const rows = axisTaps(height, outHeight);
  // The four taps are unrolled: this runs once per output value, up to 2048x2048x3 times.
  const across = new Float32Array(outWidth * height * 3);
  const { index: ci, weight: cw } = columns;
  for (let y = 0; y < height; y++) {
    const line = y * width * 3;
    let to = y * outWidth * 3;
    for (let t = 0; t < outWidth * TAPS; t += TAPS, to += 3) {
      const [w0, w1, w2, w3] = [
        cw[t] as number,
        cw[t + 1] as number,
        cw[t + 2] as number,
        cw[t + 3] as number,
      ];
      const i0 = line + (ci[t] as number) * 3;
      const i1 = line + (ci[t + 1] as number) * 3;
      const i2 = line + (ci[t + 2] as number) * 3;
      const i3 = line + (ci[t + 3] as number) * 3;
      for (let c = 0; c < 3; c++)
        across[to + c] =
          w0 * (rgb[i0 + c] as number) +
          w1 * (rgb[i1 + c] as number) +
          w2 * (rgb[i2 + c] as number) +
          w3 * (rgb[i3 + c] as number);
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  const stride = outWidth * 3;
  const rw = rows.weight;
  for (let y = 0; y < outHeight; y++) {
    const t = y * TAPS;
    const [w0, w1, w2, w3] = [rw[t] as number, rw[t + 1] as number, rw[t + 2] as number, rw[t + 3] as number];
    const [r0, r1, r2, r3] = [0, 1, 2, 3].map((k) => (rows.index[t + k] as number) * stride) as [
      number,
      number,
      number,
      number,
    ];
    const to = y * stride;
    for (let i = 0; i < stride; i++) {
      const value =
        w0 * (across[r0 + i] as number) +
        w1 * (across[r1 + i] as number) +
        w2 * (across[r2 + i] as number) +
        w3 * (across[r3 + i] as number);
      out[to + i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
    }
  }
  return out;
}
