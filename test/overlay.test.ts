/** The shared drawing helper (src/image/overlay.ts) every task's pictures use. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { drawOverlay, overlaySvg } from '../src/image/overlay.js';
import { meanAbsDiff, photo } from './helpers.js';

async function rgb(image: Uint8Array): Promise<Buffer> {
  return sharp(image).removeAlpha().raw().toBuffer();
}

/** Pixels that differ clearly (by more than 40 in a channel): the drawing, not JPEG noise. */
function changedPixels(a: Buffer, b: Buffer): number {
  let changed = 0;
  for (let i = 0; i < a.length; i += 3) {
    if (Math.max(...[0, 1, 2].map((c) => Math.abs((a[i + c] as number) - (b[i + c] as number)))) > 40)
      changed++;
  }
  return changed;
}

describe('drawing on a photo', () => {
  it('escapes label text: a label file cannot break the SVG (or inject markup)', async () => {
    const label = `<script>alert(1)</script> & "quotes" 'too'`;
    const svg = overlaySvg({ boxes: [{ x: 10, y: 40, width: 50, height: 50, label }] }, 200, 200);
    assert.ok(!svg.includes('<script>'));
    assert.match(svg, /&#60;script&#62;alert\(1\)&#60;\/script&#62; &#38; &#34;quotes&#34;/);
    // And sharp draws it: the picture comes back at the photo's size.
    const drawn = await drawOverlay(
      photo('grace_hopper.jpg'),
      { boxes: [{ x: 10, y: 40, width: 50, height: 50, label }] },
      'png',
    );
    const meta = await sharp(drawn).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 517, 606]);
  });

  it('draws each layer (mask, boxes, lines, dots, texts) where it is asked to, and nothing else', async () => {
    const image = photo('grace_hopper.jpg');
    const plain = await rgb(await drawOverlay(image, {}, 'png'));
    assert.ok(meanAbsDiff(plain, await rgb(image)) < 0.01, 'an empty overlay leaves the photo as it is');
    assert.equal(changedPixels(plain, await rgb(image)), 0);
    const red = new Uint8Array([255, 0, 0, 255]);
    const layers = {
      mask: { mask: { rgba: red, width: 1, height: 1 } },
      boxes: { boxes: [{ x: 50, y: 50, width: 200, height: 200 }] },
      lines: { lines: [{ x1: 0, y1: 0, x2: 516, y2: 605 }] },
      dots: { dots: [{ x: 100, y: 100 }] },
      texts: { texts: [{ x: 20, y: 300, text: 'hello' }] },
    };
    for (const [name, overlay] of Object.entries(layers)) {
      const drawn = await rgb(await drawOverlay(image, overlay, 'png'));
      assert.ok(changedPixels(drawn, plain) >= 5, `${name} changed pixels`);
    }
    // A one-pixel opaque red mask stretched over the whole photo: every pixel red.
    const masked = await rgb(await drawOverlay(image, layers.mask, 'png'));
    assert.deepEqual([...masked.subarray(0, 3)], [255, 0, 0]);
    assert.deepEqual([...masked.subarray(masked.length - 3)], [255, 0, 0]);
  });
});
