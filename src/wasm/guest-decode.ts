/**
 * What `wasmedge_image` asks of the host: decode an image and stretch it to exactly width x
 * height (no crop), as bytes, or bytes / 255 for the 32f layouts.
 *
 * The stretch follows WasmEdge >= 0.15 (stb_image_resize2's default filter): Mitchell on an
 * axis that shrinks (libvips's), Catmull-Rom on stb's pixel grid on an axis that grows
 * (catmull-rom.ts). On the shared photos that puts us 0.2 to 0.6 of a byte on average from
 * its pixels with its top-1 ImageNet label on every photo (docs/benchmarks/resize.md, `npm run
 * bench:resize`); the linear filter before was 0.5 to 0.9 away and missed two labels at 128.
 * The legacy hosts' Boost.GIL bilinear, without antialiasing, is 4 to 7 away from both.
 * Floats stay bytes / 255: WasmEdge 0.15's stbi_loadf raises them to stb's 2.2 gamma, which
 * no model's normalisation expects.
 *
 * openImage applies the limits every input gets; sharp's timeout is shortened to the time the
 * run has left. Runs in an image-decoder thread (image-decoder.ts), or on the owner
 * thread where that thread's files were not deployed.
 */
import { enlargeCatmullRom } from '../image/catmull-rom.js';
import { type OpenedImage, openImage } from '../image/decode.js';
import { resizeToRgb, rgbToTensor } from '../image/to-tensor.js';
import { DECODE_TIMEOUT_SECONDS } from '../image/work-limits.js';
import type { HostRequest } from './host-calls.js';

export type DecodeRequest = Extract<HostRequest, { op: 'decode' }>;

export async function decodeForGuest(request: DecodeRequest, deadline: number): Promise<Uint8Array> {
  const opened = await openImage(request.image);
  // The run's remaining time, within the backstop every decode has.
  const seconds = Math.min(DECODE_TIMEOUT_SECONDS, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));
  const bounded = { ...opened, pipeline: opened.pipeline.timeout({ seconds }) };
  const rgb = await stretch(bounded, request.width, request.height);
  const tensor = rgbToTensor(rgb, {
    width: request.width,
    height: request.height,
    format: request.layout,
    mean: [0, 0, 0],
    std: [255, 255, 255],
  });
  return new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength);
}

/**
 * The axes that shrink first, with libvips's Mitchell (an axis kept at its size is not
 * resampled), then the axes that grow, with stb's Catmull-Rom: stb_image_resize2 picks its
 * filter per axis in the same way.
 */
async function stretch(image: OpenedImage, width: number, height: number): Promise<Uint8Array> {
  const shrunkWidth = Math.min(width, image.uprightWidth);
  const shrunkHeight = Math.min(height, image.uprightHeight);
  const shrunk = await resizeToRgb(image, shrunkWidth, shrunkHeight, 'fill', 'mitchell');
  if (shrunkWidth === width && shrunkHeight === height) return shrunk;
  return enlargeCatmullRom(shrunk, shrunkWidth, shrunkHeight, width, height);
}
