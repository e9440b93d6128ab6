import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rgbToTensor, type TensorLayout } from '../src/image/to-tensor.js';

const rgb = Uint8Array.of(0, 128, 255, 10, 20, 30);
const layout = (format: TensorLayout['format'], mean = [0, 0, 0], std = [255, 255, 255]): TensorLayout => ({
  width: 2,
  height: 1,
  format,
  mean: mean as [number, number, number],
  std: std as [number, number, number],
});

describe('tensor layout', () => {
  it('rgb8 passes bytes through', () => {
    const out = rgbToTensor(rgb, layout('rgb8'));
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual([...out], [0, 128, 255, 10, 20, 30]);
  });

  it('bgr8 swaps red and blue', () => {
    assert.deepEqual([...rgbToTensor(rgb, layout('bgr8'))], [255, 128, 0, 30, 20, 10]);
  });

  it('rgb32f defaults to pixel / 255, as WasmEdge load_*_to_rgb32f does', () => {
    const out = rgbToTensor(rgb, layout('rgb32f'));
    assert.ok(out instanceof Float32Array);
    assert.deepEqual([...out], [0, 128 / 255, 1, 10 / 255, 20 / 255, 30 / 255].map(Math.fround));
  });

  it('bgr32f applies a per-channel mean and std given in RGB order, e.g. [-1, 1] scaling', () => {
    const out = rgbToTensor(rgb, layout('bgr32f', [127.5, 100, 0], [127.5, 50, 255]));
    // Pixel 0 is R=0 G=128 B=255: B -> (255 - 0) / 255, G -> (128 - 100) / 50, R -> (0 - 127.5) / 127.5.
    assert.deepEqual([...out.subarray(0, 3)], [1, 0.56, -1].map(Math.fround));
  });
});
