/**
 * What `wasmedge_image` asks of the host: decode an image and stretch it to exactly width x
 * height (no crop), as bytes, or bytes / 255 for the 32f layouts.
 *
 * The stretch uses Mitchell, as WasmEdge >= 0.15 does (stb_image_resize2's default filter when
 * shrinking): on the shared photos that brings us from 0.47 to 0.19 of a byte on average of
 * its pixels at 224x224, and to its top-1 ImageNet label on every photo at 128x128, where the
 * linear filter before missed two (docs/benchmarks/resize.md, `npm run bench:resize`). The
 * legacy hosts' Boost.GIL bilinear, without antialiasing, is 4 to 7 away from both. Floats stay
 * bytes / 255: WasmEdge 0.15's stbi_loadf raises them to stb's 2.2 gamma, which no model's
 * normalisation expects.
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
  const rgb = await resizeToRgb(bounded, request.width, request.height, 'fill', 'mitchell');
  const tensor = rgbToTensor(rgb, {
    width: request.width,
    height: request.height,
    format: request.layout,
    mean: [0, 0, 0],
    std: [255, 255, 255],
  });
  return new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength);
}
