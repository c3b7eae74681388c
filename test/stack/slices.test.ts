import { describe, expect, it } from 'vitest';
import { depthPreview } from '../../src/stack/depth-preview.js';
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

describe('depthPreview', () => {
  it('colours depth by viridis, dims low confidence, and reaches every pixel across slices', async () => {
    // 700 × 500 pixels: more than one slice (SLICE_PIXELS).
    const width = 700;
    const height = 500;
    const n = width * height;
    const depth = new Float32Array(n).fill(9);
    depth[0] = 0;
    const confidence = new Uint8Array(n).fill(255);
    confidence[1] = 0;
    const { data } = await depthPreview(depth, confidence, width, height, 10);
    expect(Array.from(data.subarray(0, 3))).toEqual([68, 1, 84]); // nearest frame, full confidence
    expect(Array.from(data.subarray(3, 6))).toEqual([88, 80, 12]); // farthest, no confidence: 35 %
    expect(Array.from(data.subarray(3 * (n - 1)))).toEqual([253, 231, 37]); // the last slice's last pixel
  });
});
