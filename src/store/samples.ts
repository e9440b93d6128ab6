/**
 * Sample photos fetched at set-up, for the README's first command and the demo. Photos are
 * never committed: like models, they come from their public upstream or a mirror, by hash.
 */
import type { PinnedFile } from './fetch.js';

export const SAMPLE_PHOTOS: readonly PinnedFile[] = [
  {
    // The photo of Admiral Grace Hopper used by the WasmEdge TensorFlow examples.
    name: 'grace_hopper.jpg',
    sha256: 'e1f57e98cf38076c0f9a058d74ffddf90f20453e436033784606b63c8ed2e49a',
    url: 'https://raw.githubusercontent.com/second-state/wasm-learning/master/cli/tflite/grace_hopper.jpg',
  },
];
