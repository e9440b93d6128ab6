import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { letterbox, planLetterbox, toRegion } from '../src/tasks/detect/letterbox.js';
import { planTiles } from '../src/tasks/detect/tiling.js';

/** The bounding box of the non-black pixels of an RGB image. */
function litExtent(pixels: Buffer, width: number, height: number) {
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((pixels[(y * width + x) * 3] as number) > 127) {
        left = Math.min(left, x);
        top = Math.min(top, y);
        right = Math.max(right, x + 1);
        bottom = Math.max(bottom, y + 1);
      }
    }
  }
  return { left, top, right, bottom };
}

describe('letterbox geometry', () => {
  const input = { width: 128, height: 128 };

  for (const [width, height] of [
    [2048, 200],
    [200, 2048],
    [517, 606],
    [2048, 1],
    [3, 1000],
    [300, 300],
  ] as const) {
    it(`${width}x${height}: the region's edges land where the plan says, and map back to its edges`, async () => {
      // A white photo: after letterboxing, the lit pixels are exactly the scaled region.
      const rgb = Buffer.alloc(width * height * 3, 255);
      const region = { left: 0, top: 0, width, height };
      const { pixels, box } = await letterbox(rgb, { width, height }, region, input);
      assert.equal(pixels.length, 128 * 128 * 3);
      const lit = litExtent(pixels, 128, 128);
      assert.deepEqual(lit, {
        left: box.left,
        top: box.top,
        right: box.left + box.innerWidth,
        bottom: box.top + box.innerHeight,
      });
      const topLeft = toRegion({ x: lit.left, y: lit.top }, box);
      const bottomRight = toRegion({ x: lit.right, y: lit.bottom }, box);
      for (const [got, want] of [
        [topLeft.x, 0],
        [topLeft.y, 0],
        [bottomRight.x, width],
        [bottomRight.y, height],
      ] as const) {
        assert.ok(Math.abs(got - want) < 1e-9, `${got} vs ${want}`);
      }
    });
  }

  it('uses the scales of the actual whole-pixel resize, per axis', () => {
    const box = planLetterbox({ width: 2048, height: 200 }, input);
    assert.deepEqual([box.innerWidth, box.innerHeight], [128, 13]);
    assert.equal(box.scaleX, 128 / 2048);
    assert.equal(box.scaleY, 13 / 200); // not 0.0625: a box at the bottom would be 8 px off
  });
});

describe('tiling plans', () => {
  it('a long strip is searched with square tiles as tall as the strip, end to end', () => {
    const plan = planTiles(2048, 300, 192, true);
    assert.equal(plan.tile, 300);
    const tiles = plan.regions.slice(1);
    assert.ok(tiles.length >= 7 && tiles.length <= 12, `${tiles.length} tiles`);
    for (const tile of tiles) assert.deepEqual([tile.width, tile.height, tile.top], [300, 300, 0]);
    assert.equal((tiles.at(-1) as { left: number }).left + 300, 2048);
  });

  it('strips narrower than the model input, and near-square small photos, are looked at whole only', () => {
    assert.equal(planTiles(2048, 100, 192, true).regions.length, 1);
    assert.equal(planTiles(300, 350, 192, true).regions.length, 1);
    assert.equal(planTiles(2048, 300, 192, false).regions.length, 1);
  });
});
