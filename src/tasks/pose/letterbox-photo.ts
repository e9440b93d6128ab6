/**
 * The whole photo letterboxed into the model's square input: MoveNet was trained on people at
 * their true proportions, so the photo is scaled to fit and the rest padded black rather than
 * stretched (a stretched 500x610 photo makes a person 20% wider than they are).
 */

import { type OpenedImage, sharpErrorToTfliteFnError } from '../../image/decode.js';
import { fitLetterbox, type Letterbox, planLetterbox } from '../detect/letterbox.js';

export async function letterboxPhoto(
  photo: OpenedImage,
  input: { readonly width: number; readonly height: number },
): Promise<{ rgb: Uint8Array; box: Letterbox }> {
  const box = planLetterbox({ width: photo.uprightWidth, height: photo.uprightHeight }, input);
  try {
    const { data, info } = await fitLetterbox(photo.pipeline.clone(), box, input)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== input.width * input.height * 3) {
      throw new Error(`unexpected pixel layout: ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), box };
  } catch (cause) {
    throw sharpErrorToTfliteFnError(cause, photo.format);
  }
}
