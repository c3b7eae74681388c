import { describe, expect, it } from 'vitest';
import { depthPreview, depthPreviewSliced } from '../../src/stack/depth-preview.js';
import { inSlices } from '../../src/stack/slices.js';

describe('inSlices', () => {
  it('covers the range once, in order, and lets the event loop run between slices', async () => {
    const seen: string[] = [];
    const covered: number[] = [];
    setImmediate(() => seen.push('event loop'));
    await inSlices(
      10,
      (start, end) => {
        seen.push(`${start}-${end}`);
        for (let i = start; i < end; i++) covered.push(i);
      },
      4,
    );
    expect(covered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).toEqual(['0-4', 'event loop', '4-8', '8-10']);
  });
});

describe('depthPreviewSliced', () => {
  it('gives the same picture as the one-pass preview', async () => {
    const width = 700;
    const height = 500;
    const depth = Float32Array.from({ length: width * height }, (_, i) => (i % 997) / 100);
    const confidence = Uint8Array.from({ length: width * height }, (_, i) => (i * 31) % 256);
    const whole = depthPreview(depth, confidence, width, height, 10);
    const sliced = await depthPreviewSliced(depth, confidence, width, height, 10);
    expect(Buffer.from(sliced.data).equals(Buffer.from(whole.data))).toBe(true);
  });
});
