/**
 * Bounds on the decoding work one image may cause, beside the byte and pixel limits
 * (ImageLimits): a small file must not buy seconds of CPU.
 */

/**
 * Scans x pixels a JPEG may ask for. A progressive decoder walks every block once per scan;
 * 2^31 is 33 passes over a 64 MP photo, three times what libjpeg's and mozjpeg's progressive
 * scripts write (~10 scans): about 1 s of CPU for the worst file it lets through (bench/
 * input-cost.ts). A 228 KB file with 883 scans of a 64 MP frame asked for 56 G and took 38 s.
 */
export const JPEG_SCAN_PIXEL_BUDGET = 2 ** 31;

/**
 * sharp's per-pipeline timeout, a backstop for whatever the checks before decoding miss.
 * libvips checks it between output tiles, so it cannot stop a single long step (one libjpeg
 * progressive pass runs to its end): the checks above are the real bound.
 */
export const DECODE_TIMEOUT_SECONDS = 10;
