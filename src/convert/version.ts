/**
 * Bumped on every change to the converter that alters its ONNX output, so models cached under
 * the old version are converted (and verified) again. Its own module: reading a stored report
 * must not load the whole converter.
 */
export const CONVERTER_VERSION = 11;
