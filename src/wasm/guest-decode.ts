/**
 * What `wasmedge_image` asks of the host: decode an image and stretch it to exactly width x
 * height with a bilinear filter (no crop), as bytes, or bytes / 255 for the 32f layouts.
 * openImage applies the limits every input gets; sharp's timeout is shortened to the time the
 * run has left. Runs in an image-decoder thread (image-decoder.ts), or on the owner
 * thread where that thread's files were not deployed.
 */
import { openImage } from '../image/decode.js';
import { resizeToRgb, rgbToTensor } from '../image/to-tensor.js';
import { DECODE_TIMEOUT_SECONDS } from '../image/work-limits.js';
import type { HostRequest } from './host-calls.js';

export type DecodeRequest = Extract<HostRequest, { op: 'decode' }>;

export async function decodeForGuest(request: DecodeRequest, deadline: number): Promise<Uint8Array> {
  const opened = await openImage(request.image);
  // The run's remaining time, within the backstop every decode has.
  const seconds = Math.min(DECODE_TIMEOUT_SECONDS, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));
  const bounded = { ...opened, pipeline: opened.pipeline.timeout({ seconds }) };
  const rgb = await resizeToRgb(bounded, request.width, request.height, 'fill', 'linear');
  const tensor = rgbToTensor(rgb, {
    width: request.width,
    height: request.height,
    format: request.layout,
    mean: [0, 0, 0],
    std: [255, 255, 255],
  });
  return new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength);
}
