/**
 * What `wasmedge_image` hands a program: the photo stretched to WxH as WasmEdge >= 0.15 does
 * (stb_image_resize2's default filter: Mitchell when shrinking, Catmull-Rom when enlarging),
 * and floats that are bytes/255
 * (not stbi_loadf's 2.2 gamma). Measured on the shared photos in docs/benchmarks/resize.md;
 * here against a reference written from stb's definition (test/mitchell-reference.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import { decodeForGuest } from '../src/wasm/guest-decode.js';
import { mitchellShrink } from './mitchell-reference.js';

const WIDTH = 97;
const HEIGHT = 83;

/** Stripes, a chirp and a ramp: detail at many frequencies, where filters differ most. */
function pattern(): Uint8Array {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      const at = (y * WIDTH + x) * 3;
      rgb[at] = ((x >> 1) + (y >> 2)) % 2 ? 230 : 20;
      rgb[at + 1] = Math.round(127 + 120 * Math.sin((x * x) / 50));
      rgb[at + 2] = (x * 7 + y * 3) % 256;
    }
  return rgb;
}

function meanAndMax(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

describe('wasmedge_image pixels (decodeForGuest)', async () => {
  const rgb = pattern();
  const png = new Uint8Array(
    await sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .png()
      .toBuffer(),
  );
  const deadline = () => Date.now() + 30_000;

  for (const [width, height] of [
    [40, 40],
    [64, 31],
  ] as const) {
    it(`shrinks ${WIDTH}x${HEIGHT} to ${width}x${height} as stb_image_resize2's Mitchell does, within half a byte on average`, async () => {
      const reference = mitchellShrink(rgb, WIDTH, HEIGHT, width, height);
      const ours = await decodeForGuest(
        { op: 'decode', image: png, width, height, layout: 'rgb8' },
        deadline(),
      );
      const { mean, max } = meanAndMax(ours, reference);
      assert.ok(mean <= 0.5 && max <= 4, `mean ${mean.toFixed(2)}, max ${max} from the Mitchell reference`);
      // The bound tells filters apart: a bilinear stretch (the kernel before) is not within it.
      const linear = await resizeToRgb(await openImage(png), width, height, 'fill', 'linear');
      assert.ok(meanAndMax(linear, reference).mean > 1, 'a linear stretch must fall outside the bound');
    });
  }

  it("enlarges as stb_image_resize2 does (Catmull-Rom, pixel centres aligned): one bright pixel's spread", async () => {
    // 8x8 black with one white pixel at (3, 3), enlarged 4x. stb_image_resize2 v2.12 itself
    // gives this row 14 (and, by symmetry, column 14): the pixel's centre falls between
    // outputs 13 and 14. libvips's own enlarge peaks at 14 alone (58 143 221 255 221 143 58).
    const side = 8;
    const dot = new Uint8Array(side * side * 3);
    dot.fill(255, (3 * side + 3) * 3, (3 * side + 3) * 3 + 3);
    const image = new Uint8Array(
      await sharp(dot, { raw: { width: side, height: side, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const out = await decodeForGuest(
      { op: 'decode', image, width: 32, height: 32, layout: 'rgb8' },
      deadline(),
    );
    const row = Array.from({ length: 32 }, (_, x) => out[(14 * 32 + x) * 3] as number);
    const column = Array.from({ length: 32 }, (_, y) => out[(y * 32 + 14) * 3] as number);
    const expected = [...Array(10).fill(0), 22, 96, 179, 237, 237, 179, 96, 22, ...Array(14).fill(0)];
    assert.deepEqual(row, expected);
    assert.deepEqual(column, expected);
  });

  it('shrinks one axis and enlarges the other as stb_image_resize2 does (Mitchell across, Catmull-Rom down)', async () => {
    // 16x4 black with two white pixels at (6, 1) and (7, 1), to 8x16. stb_image_resize2 v2.12
    // itself gives this column 3 and row 5; libvips alone gave 0 0 0 29 71 110 127 110 71 29...
    const [width, height] = [16, 4];
    const pair = new Uint8Array(width * height * 3);
    pair.fill(255, (width + 6) * 3, (width + 8) * 3);
    const image = new Uint8Array(
      await sharp(pair, { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const out = await decodeForGuest(
      { op: 'decode', image, width: 8, height: 16, layout: 'rgb8' },
      deadline(),
    );
    const column = Array.from({ length: 16 }, (_, y) => out[(y * 8 + 3) * 3] as number);
    const row = Array.from({ length: 8 }, (_, x) => out[(5 * 8 + x) * 3] as number);
    assert.deepEqual(column, [0, 0, 18, 78, 145, 192, 192, 145, 78, 18, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(row, [0, 0, 29, 192, 29, 0, 0, 0]);
  });

  it('rgb32f is rgb8 / 255 exactly, with no gamma applied', async () => {
    const request = { op: 'decode', image: png, width: 40, height: 40 } as const;
    const bytes = await decodeForGuest({ ...request, layout: 'rgb8' }, deadline());
    const floatBytes = await decodeForGuest({ ...request, layout: 'rgb32f' }, deadline());
    const floats = new Float32Array(floatBytes.buffer, floatBytes.byteOffset, floatBytes.byteLength / 4);
    assert.deepEqual(
      floats,
      Float32Array.from(bytes, (value) => value / 255),
    );
  });
});
