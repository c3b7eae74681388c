// upsampleRows: depth and confidence from the cell grid to pixels, bilinear between cell centres.
import { describe, expect, it } from 'vitest';
import { upsampleRows } from '../../../src/stack/merge/upsample.js';
import { seeded } from '../../helpers/frames.js';

function upsample(
  depth: Float32Array,
  confidence: Uint8Array,
  cw: number,
  ch: number,
  cell: number,
  width: number,
  height: number,
  bands: [number, number][] = [[0, height]],
) {
  const depthOut = new Float32Array(width * height).fill(NaN);
  const confidenceOut = new Uint8Array(width * height).fill(7);
  for (const [start, end] of bands)
    upsampleRows(depth, confidence, cw, ch, cell, width, start, end, depthOut, confidenceOut);
  return { depthOut, confidenceOut };
}

describe('upsampleRows', () => {
  it('cell 1 is the identity', () => {
    const rnd = seeded(1);
    const depth = Float32Array.from({ length: 6 * 4 }, () => rnd() * 9);
    const conf = Uint8Array.from({ length: 6 * 4 }, () => Math.floor(rnd() * 256));
    const { depthOut, confidenceOut } = upsample(depth, conf, 6, 4, 1, 6, 4);
    expect(Array.from(depthOut)).toEqual(Array.from(depth));
    expect(Array.from(confidenceOut)).toEqual(Array.from(conf));
  });

  it('cell 2: a constant grid upsamples to the constant', () => {
    const { depthOut, confidenceOut } = upsample(
      new Float32Array(12).fill(3.25),
      new Uint8Array(12).fill(200),
      4,
      3,
      2,
      8,
      6,
    );
    for (const v of depthOut) expect(v).toBeCloseTo(3.25, 6);
    for (const v of confidenceOut) expect(v).toBe(200);
  });

  it('cell 2: a linear ramp in cells becomes a linear ramp in pixels (between the outer cell centres)', () => {
    const [cw, ch, w, h] = [5, 4, 10, 8];
    // Cell (cx, cy) has its centre at pixel (2cx + 0.5, 2cy + 0.5).
    const depth = Float32Array.from(
      { length: cw * ch },
      (_, p) => 0.5 * (p % cw) + 0.25 * Math.floor(p / cw),
    );
    const conf = Uint8Array.from({ length: cw * ch }, (_, p) => 40 * (p % cw) + 20 * Math.floor(p / cw));
    const { depthOut, confidenceOut } = upsample(depth, conf, cw, ch, 2, w, h);
    for (let y = 1; y < h - 1; y++)
      for (let x = 1; x < w - 1; x++) {
        const [fx, fy] = [(x - 0.5) / 2, (y - 0.5) / 2];
        expect(depthOut[y * w + x]).toBeCloseTo(0.5 * fx + 0.25 * fy, 5);
        expect(confidenceOut[y * w + x]).toBe(Math.round(40 * fx + 20 * fy));
      }
    // Outside the outer centres the edge cells' values are held, not extrapolated.
    expect(depthOut[0]).toBeCloseTo(0, 6);
    expect(depthOut[h * w - 1]).toBeCloseTo(depth[cw * ch - 1], 6);
  });

  it('covers odd sizes: 7×5 pixels from 4×3 cells, every pixel written, split into bands', () => {
    const rnd = seeded(4);
    const depth = Float32Array.from({ length: 12 }, () => rnd() * 5);
    const conf = Uint8Array.from({ length: 12 }, () => Math.floor(rnd() * 256));
    const whole = upsample(depth, conf, 4, 3, 2, 7, 5);
    const min = Math.min(...depth);
    const max = Math.max(...depth);
    for (const v of whole.depthOut) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(min - 1e-6);
      expect(v).toBeLessThanOrEqual(max + 1e-6);
    }
    // Pixel (6, 4) lies at cell coordinates (2.75, 1.75): ¾ of the way from cell (2, 1) to cell (3, 2).
    const d = (cx: number, cy: number) => depth[cy * 4 + cx];
    const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
    const corner = lerp(lerp(d(2, 1), d(3, 1), 0.75), lerp(d(2, 2), d(3, 2), 0.75), 0.75);
    expect(whole.depthOut[4 * 7 + 6]).toBeCloseTo(corner, 5);
    const split = upsample(depth, conf, 4, 3, 2, 7, 5, [
      [0, 2],
      [2, 5],
    ]);
    expect(Array.from(split.depthOut)).toEqual(Array.from(whole.depthOut));
    expect(Array.from(split.confidenceOut)).toEqual(Array.from(whole.confidenceOut));
  });
});
