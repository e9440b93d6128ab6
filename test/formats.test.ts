import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { openImage } from '../src/image/decode.js';
import { resizeToRgb } from '../src/image/to-tensor.js';
import { classify } from '../src/index.js';
import { encodeBmp, meanAbsDiff, photo } from './helpers.js';

/** What the model sees: the 224x224 RGB input of an image, for comparing decode paths. */
async function modelInput(bytes: Uint8Array): Promise<Uint8Array> {
  return resizeToRgb(await openImage(bytes), 224, 224, 'cover');
}

describe('image formats', async () => {
  const jpeg = photo('grace_hopper.jpg');
  const reference = await modelInput(jpeg);
  const raw = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });

  const generated: Record<string, () => Promise<Buffer>> = {
    png: () => sharp(jpeg).png().toBuffer(),
    webp: () => sharp(jpeg).webp({ quality: 90 }).toBuffer(),
    avif: () => sharp(jpeg).avif({ quality: 70 }).toBuffer(),
    tiff: () => sharp(jpeg).tiff().toBuffer(),
    gif: () => sharp(jpeg).gif().toBuffer(),
    bmp: async () => encodeBmp(raw.data, raw.info.width, raw.info.height, { bitsPerPixel: 24 }),
  };

  for (const [format, make] of Object.entries(generated)) {
    it(`reads ${format.toUpperCase()} and sees the uniform`, async () => {
      const bytes = await make();
      const result = await classify(bytes);
      assert.equal(result.image.format, format);
      assert.deepEqual([result.image.width, result.image.height], [517, 606]);
      assert.equal(result.label, 'military uniform');
      // Lossy re-encoding moves pixels a little; a wrong channel order or scaling moves them a lot.
      const tolerance = format === 'gif' ? 12 : 6;
      assert.ok(
        meanAbsDiff(await modelInput(bytes), reference) < tolerance,
        'model input matches the JPEG path',
      );
    });
  }

  it('takes the first frame of an animated GIF', async () => {
    const frame = (name: string) => sharp(photo(name)).resize(300, 350, { fit: 'fill' }).png().toBuffer();
    const gif = await sharp([await frame('grace_hopper.jpg'), await frame('hot_dog.jpg')], {
      join: { animated: true },
    })
      .gif()
      .toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const result = await classify(gif);
    assert.equal(result.label, 'military uniform');
  });

  it('applies EXIF orientation before resizing', async () => {
    // Pixels stored turned a quarter to the left, with the EXIF tag that turns them back.
    const stored = await sharp(jpeg).rotate(270).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const untagged = await sharp(stored).jpeg({ quality: 95 }).toBuffer();
    assert.ok(meanAbsDiff(await modelInput(tagged), reference) < 6, 'upright after orientation');
    assert.ok(meanAbsDiff(await modelInput(untagged), reference) > 20, 'the test photo really is turned');
    assert.equal((await classify(tagged)).label, 'military uniform');
  });

  it('turns greyscale into three equal channels', async () => {
    const grey = await sharp(jpeg).greyscale().toColourspace('b-w').jpeg().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    const input = await modelInput(grey);
    assert.equal(input.length, 224 * 224 * 3);
    for (let i = 0; i < input.length; i += 3) {
      assert.ok(input[i] === input[i + 1] && input[i + 1] === input[i + 2], `pixel ${i / 3} is grey`);
    }
    assert.equal((await classify(grey)).label, 'military uniform');
  });

  it('converts CMYK to RGB', async () => {
    const cmyk = await sharp(jpeg).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    // sRGB -> CMYK -> sRGB goes through two ICC profiles and darkens shadows a little (9 of
    // 255 on average, measured); CMYK bytes misread as RGB would be off by far more.
    assert.ok(meanAbsDiff(await modelInput(cmyk), reference) < 15);
    assert.equal((await classify(cmyk)).label, 'military uniform');
  });

  it('reduces 16-bit PNG to 8-bit', async () => {
    const png16 = await sharp(jpeg).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(png16).metadata()).depth, 'ushort');
    assert.ok(meanAbsDiff(await modelInput(png16), reference) < 2);
    assert.equal((await classify(png16)).label, 'military uniform');
  });

  it('drops alpha, showing transparent pixels as white', async () => {
    const transparent = await sharp({
      create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const input = await modelInput(transparent);
    assert.equal(input.length, 224 * 224 * 3);
    assert.ok(
      input.every((v) => v === 255),
      'transparent black is shown as white, not black',
    );

    const withAlpha = await sharp(jpeg).ensureAlpha(1).png().toBuffer();
    assert.equal((await sharp(withAlpha).metadata()).channels, 4);
    assert.ok(meanAbsDiff(await modelInput(withAlpha), reference) < 2);
    assert.equal((await classify(withAlpha)).label, 'military uniform');
  });

  it('reads the shared BMP photos (sharp cannot)', async () => {
    // Measured labels: each photo's subject, with a clear margin.
    assert.equal((await classify(photo('cat.bmp'))).label, 'Egyptian cat');
    assert.equal((await classify(photo('squat.bmp'))).label, 'dumbbell');
    assert.equal((await classify(photo('bird.bmp'))).label, 'chickadee');
  });
});
