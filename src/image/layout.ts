/** Names for how an image becomes a model input; no image code, so descriptors load without sharp. */

/**
 * `fill` stretches the whole image to the input size (what the WasmEdge examples do);
 * `cover` scales the short side to fit and crops the centre (how ImageNet models are trained
 * and evaluated: 0.876 vs 0.822 top-1 for MobileNetV2 on our sample, so it is the default).
 */
export type ResizeMode = 'fill' | 'cover';
export const RESIZE_MODES: readonly ResizeMode[] = ['fill', 'cover'];

export type PixelFormat = 'rgb8' | 'bgr8' | 'rgb32f' | 'bgr32f';
