// boxMeanInPlace against the definition: the (2r+1)² mean with edge-replicated borders.
import { describe, expect, it } from 'vitest';
import { boxMeanInPlace } from '../../../src/stack/measure/box.js';
import { seeded } from '../../helpers/frames.js';

function naiveBoxMean(data: ArrayLike<number>, width: number, rows: number, r: number): Float64Array {
  const out = new Float64Array(width * rows);
  const cx = (x: number) => Math.min(width - 1, Math.max(0, x));
  const cy = (y: number) => Math.min(rows - 1, Math.max(0, y));
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) sum += data[cy(y + dy) * width + cx(x + dx)];
      out[y * width + x] = sum / ((2 * r + 1) * (2 * r + 1));
    }
  return out;
}

function randomPlane(width: number, rows: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  return Float32Array.from({ length: width * rows }, () => rnd() * 10);
}

const SIZES: [number, number][] = [
  [1, 1],
  [1, 7],
  [7, 1],
  [2, 3],
  [3, 2],
  [4, 9],
  [11, 6],
  [16, 13],
];

describe('boxMeanInPlace', () => {
  for (const radius of [1, 2, 5]) {
    for (const [width, rows] of SIZES) {
      it(`matches the naive clamped box mean (r=${radius}, ${width}×${rows})`, () => {
        const data = randomPlane(width, rows, 1000 * radius + 10 * width + rows);
        const expected = naiveBoxMean(data, width, rows, radius);
        boxMeanInPlace(data, width, rows, radius, new Float32Array(width * rows));
        for (let i = 0; i < data.length; i++) expect(data[i]).toBeCloseTo(expected[i], 4);
      });
    }
  }

  it('works with a tmp buffer larger than needed', () => {
    const data = randomPlane(9, 4, 7);
    const expected = naiveBoxMean(data, 9, 4, 2);
    boxMeanInPlace(data, 9, 4, 2, new Float32Array(1000));
    for (let i = 0; i < data.length; i++) expect(data[i]).toBeCloseTo(expected[i], 4);
  });

  it('keeps a constant plane constant', () => {
    const data = new Float32Array(13 * 5).fill(3.25);
    boxMeanInPlace(data, 13, 5, 3, new Float32Array(13 * 5));
    for (const v of data) expect(v).toBeCloseTo(3.25, 5);
  });

  it('radius 0 leaves the data unchanged', () => {
    const data = randomPlane(8, 5, 3);
    const copy = Float32Array.from(data);
    boxMeanInPlace(data, 8, 5, 0, new Float32Array(40));
    expect(Array.from(data)).toEqual(Array.from(copy));
  });

  it('a single spike spreads into a (2r+1)² square of spike/(2r+1)²', () => {
    const w = 9;
    const data = new Float32Array(w * w);
    data[4 * w + 4] = 25;
    boxMeanInPlace(data, w, w, 2, new Float32Array(w * w));
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const inside = Math.abs(x - 4) <= 2 && Math.abs(y - 4) <= 2;
        expect(data[y * w + x]).toBeCloseTo(inside ? 1 : 0, 5);
      }
  });
});
