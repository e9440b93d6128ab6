/**
 * SSD-style anchors as MediaPipe's BlazeFace models were trained with: one anchor grid per
 * stride, `per_cell` anchors per cell for each layer, layers that share a stride merged into
 * one grid, anchor centres at (cell + offset) / grid size, fixed unit size.
 */
export interface Anchor {
  readonly x: number;
  readonly y: number;
}

export interface AnchorSpec {
  readonly strides: readonly number[];
  readonly offset: number;
  readonly per_cell: number;
}

export function generateAnchors(spec: AnchorSpec, inputWidth: number, inputHeight: number): Anchor[] {
  const anchors: Anchor[] = [];
  let layer = 0;
  while (layer < spec.strides.length) {
    const stride = spec.strides[layer] as number;
    let sameStride = 0;
    while (layer < spec.strides.length && spec.strides[layer] === stride) {
      sameStride++;
      layer++;
    }
    const rows = Math.ceil(inputHeight / stride);
    const columns = Math.ceil(inputWidth / stride);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        for (let n = 0; n < sameStride * spec.per_cell; n++) {
          anchors.push({ x: (x + spec.offset) / columns, y: (y + spec.offset) / rows });
        }
      }
    }
  }
  return anchors;
}
