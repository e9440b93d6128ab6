/**
 * The `wasmedge_image` host module: decode a JPEG or PNG and stretch it to exactly width x
 * height with WasmEdge 0.15's filter (no aspect kept, no crop; see guest-decode.ts), as
 * interleaved RGB/BGR bytes or byte/255 floats. Decoding runs in an image-decoder thread.
 *
 * - 0.2: `wasmedge_image_load_{jpg,png}_to_{rgb8,bgr8,rgb32f,bgr32f}(img, len, w, h, dst)`
 *   → 0 or 1; the destination's size is implied, so it is checked when written.
 * - 0.3: `load_jpg` / `load_png` / `load_image(img, len, w, h, type, out, out_max)` → errno,
 *   type 0 RGB8, 1 BGR8, 2 RGB32F, 3 BGR32F; `out_max` must hold the whole image.
 */
import type { GuestMemory } from './guest-memory.js';
import type { HostCall, HostLimits, PixelLayout } from './host-calls.js';
import { errnoOf, HostFailure } from './host-failure.js';

/**
 * The only failure value wasmedge_image has, in both ABIs: WasmEdge's ErrNo is { Success = 0,
 * Fail = 1 } (plugins/wasmedge_image/image_env.h), and every failure, a bad pointer included,
 * returns Fail (image_func.cpp, MEM_SPAN_CHECK). The 0.3 crate's WasmedgeImageErrno::name()
 * reaches unreachable_unchecked for anything else, so no other value may reach a guest.
 */
const FAIL = 1;

/** Runs an image host function: 0, or FAIL with the reason on the guest's stderr. */
const status = (what: string, complain: (message: string) => void, body: () => void): number =>
  errnoOf(what, complain, body) === 0 ? 0 : FAIL;

const LAYOUTS: readonly PixelLayout[] = ['rgb8', 'bgr8', 'rgb32f', 'bgr32f'];
/**
 * Output size: 2048x2048 is larger than any model input, and keeps the largest answer (as
 * floats) at 48 MB, which the host builds before the guest receives it.
 */
const MAX_OUTPUT_PIXELS = 2048 * 2048;

const outputBytes = (width: number, height: number, layout: PixelLayout) =>
  width * height * 3 * (layout.endsWith('32f') ? 4 : 1);

export function createImageHost(
  call: HostCall,
  memory: () => GuestMemory,
  complain: (message: string) => void,
  limits: HostLimits,
) {
  /** Every size is checked, and the destination bounds-checked, before the host does any work. */
  const decode = (
    imgPtr: number,
    imgLen: number,
    width: number,
    height: number,
    layout: PixelLayout,
    dstPtr: number,
  ) => {
    if (width <= 0 || height <= 0 || width * height > MAX_OUTPUT_PIXELS)
      throw new HostFailure(FAIL, `bad size ${width}x${height} (at most ${MAX_OUTPUT_PIXELS} pixels)`);
    if (imgLen > limits.maxInputBytes)
      throw new HostFailure(FAIL, `the image is ${imgLen} bytes; the limit is ${limits.maxInputBytes}`);
    memory().view(dstPtr, outputBytes(width, height, layout));
    const reply = call({ op: 'decode', image: memory().read(imgPtr, imgLen), width, height, layout });
    if (!reply.ok) throw new HostFailure(FAIL, reply.error);
    if (!('pixels' in reply)) throw new HostFailure(FAIL, 'unexpected reply');
    return reply.pixels;
  };

  const module: Record<string, (...args: number[]) => number> = {};
  for (const format of ['jpg', 'png']) {
    for (const layout of LAYOUTS) {
      const what = `load_${format}_to_${layout}`;
      module[`wasmedge_image_${what}`] = (imgPtr = 0, imgLen = 0, width = 0, height = 0, dstPtr = 0) =>
        status(what, complain, () =>
          memory().write(dstPtr, decode(imgPtr, imgLen, width, height, layout, dstPtr)),
        );
    }
  }
  for (const what of ['load_jpg', 'load_png', 'load_image']) {
    module[what] = (imgPtr = 0, imgLen = 0, width = 0, height = 0, type = 0, outPtr = 0, outMax = 0) =>
      status(what, complain, () => {
        const layout = LAYOUTS[type];
        if (!layout) throw new HostFailure(FAIL, `unknown data type ${type} (0-3)`);
        const needed = outputBytes(width, height, layout);
        if (outMax < needed)
          throw new HostFailure(FAIL, `the buffer holds ${outMax} bytes; the image needs ${needed}`);
        memory().view(outPtr, outMax); // bounds-check the whole buffer before decoding
        memory().write(outPtr, decode(imgPtr, imgLen, width, height, layout, outPtr));
      });
  }
  return module;
}
