// The laplacian and tenengrad focus measures: zero on flat images, larger on sharp edges, the band
// contract of FocusMeasure (halo rows make bands exact), and well-defined values on narrow images.
import { describe, expect, it } from 'vitest';
import { simdAvailable } from '../../../src/stack/align/simd-module.js';
import { createLaplacianMeasure } from '../../../src/stack/measure/laplacian.js';
import { createTenengradMeasure } from '../../../src/stack/measure/tenengrad.js';
import type { FocusMeasure } from '../../../src/stack/types.js';
import { bandOf } from '../../../src/stack/workers/layout.js';
import { blurFrame, makeFrame, seeded } from '../../helpers/frames.js';

const FACTORIES: [string, (opts: { windowRadius?: number }) => FocusMeasure][] = [
  ['laplacian', createLaplacianMeasure],
  ['tenengrad', createTenengradMeasure],
];

function score(m: FocusMeasure, lum: Float32Array, width: number, rows: number): Float32Array {
  const out = new Float32Array(width * rows);
  m.compute({ lum, width, rows, firstRow: 0 }, out);
  return out;
}

/** What band-worker.ts does: image rows [start, end) with `halo` rows of context, outside rows replicated. */
function scoreBand(m: FocusMeasure, lum: Float32Array, w: number, h: number, start: number, end: number) {
  const halo = m.halo;
  const rows = end - start + 2 * halo;
  const band = new Float32Array(w * rows);
  for (let i = 0; i < rows; i++) {
    const y = Math.min(h - 1, Math.max(0, start - halo + i));
    band.set(lum.subarray(y * w, (y + 1) * w), i * w);
  }
  const out = new Float32Array(w * rows);
  m.compute({ lum: band, width: w, rows, firstRow: start - halo }, out);
  return out.subarray(halo * w, (halo + end - start) * w);
}

function maxOf(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, v), 0);
}

describe.each(FACTORIES)('%s measure', (name, create) => {
  it('declares a halo of radius + 1', () => {
    expect(create({ windowRadius: 2 }).halo).toBe(3);
    expect(create({}).halo).toBeGreaterThanOrEqual(2);
  });

  it('scores a flat image 0 everywhere', () => {
    const lum = new Float32Array(12 * 9).fill(0.6);
    for (const v of score(create({}), lum, 12, 9)) expect(v).toBe(0);
  });

  it('scores a sharp step higher than the same step blurred', () => {
    const step = makeFrame(40, 20, 1, (x) => (x < 20 ? 0 : 255));
    const blurred = blurFrame(step, 4);
    const toLum = (d: ArrayLike<number>) => Float32Array.from(d, (v) => v / 255);
    const m = create({});
    const sharp = maxOf(score(m, toLum(step.data), 40, 20));
    const soft = maxOf(score(m, toLum(blurred.data), 40, 20));
    expect(sharp).toBeGreaterThan(0);
    expect(sharp).toBeGreaterThan(2 * soft);
  });

  for (const radius of [1, 3]) {
    it(`two bands with halo rows equal the whole image (radius ${radius})`, () => {
      const w = 40;
      const h = 60;
      const rnd = seeded(radius + 17);
      const lum = Float32Array.from({ length: w * h }, () => rnd());
      const m = create({ windowRadius: radius });
      const whole = scoreBand(m, lum, w, h, 0, h);
      const unpadded = score(m, lum, w, h);
      const tol = maxOf(whole) * 1e-6;
      for (let i = 0; i < 2; i++) {
        const { start, end } = bandOf(h, 2, i);
        const part = scoreBand(m, lum, w, h, start, end);
        for (let p = 0; p < part.length; p++)
          expect(Math.abs(part[p] - whole[start * w + p])).toBeLessThan(tol);
      }
      // Away from the image's top and bottom, padding makes no difference at all.
      for (let p = m.halo * w; p < (h - m.halo) * w; p++)
        expect(Math.abs(unpadded[p] - whole[p])).toBeLessThan(tol);
    });
  }

  for (const width of [1, 2, 3]) {
    it(`gives finite, non-negative scores on a ${width}-wide image, edge columns included`, () => {
      for (const rows of [1, 2, 9]) {
        const rnd = seeded(width * 31 + rows);
        const lum = Float32Array.from({ length: width * rows }, () => rnd());
        const out = score(create({}), lum, width, rows);
        for (const v of out) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
      }
    });
  }

  it('matches a naive clamped-border formula, edge columns and 1–2 wide images included', () => {
    for (const [w, h, r] of [
      [1, 5, 1],
      [2, 6, 2],
      [17, 8, 2],
    ]) {
      const rnd = seeded(w + 5);
      const lum = Float32Array.from({ length: w * h }, () => rnd());
      const out = score(create({ windowRadius: r }), lum, w, h);
      const expected = naiveMeasure(name, lum, w, h, r);
      for (let p = 0; p < out.length; p++) expect(out[p]).toBeCloseTo(expected[p], 5);
    }
  });
});

/** The measures by their definitions: squared Laplacian or Sobel magnitude, then a (2r+1)² mean; borders clamped. */
function naiveMeasure(name: string, lum: Float32Array, w: number, h: number, r: number): Float64Array {
  const at = (x: number, y: number) =>
    lum[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))];
  const e = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (name === 'laplacian') {
        e[y * w + x] = (4 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1)) ** 2;
      } else {
        const gx =
          at(x + 1, y - 1) +
          2 * at(x + 1, y) +
          at(x + 1, y + 1) -
          at(x - 1, y - 1) -
          2 * at(x - 1, y) -
          at(x - 1, y + 1);
        const gy =
          at(x - 1, y + 1) +
          2 * at(x, y + 1) +
          at(x + 1, y + 1) -
          at(x - 1, y - 1) -
          2 * at(x, y - 1) -
          at(x + 1, y - 1);
        e[y * w + x] = gx * gx + gy * gy;
      }
    }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++)
          s += e[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))];
      out[y * w + x] = s / ((2 * r + 1) * (2 * r + 1));
    }
  return out;
}

// The laplacian measure runs on the WebAssembly SIMD kernels for windows up to radius 6: it must give
// the JavaScript loops' scores (the definition the tests above check), in single precision.
describe('laplacian measure on the SIMD kernels', () => {
  it.each([
    { width: 37, rows: 19, radius: 3 },
    { width: 1000, rows: 56, radius: 3 },
    { width: 5, rows: 4, radius: 2 },
    { width: 64, rows: 9, radius: 6 },
    { width: 23, rows: 11, radius: 0 },
  ])('gives the JavaScript scores on $width × $rows, radius $radius', ({ width, rows, radius }) => {
    expect(simdAvailable()).toBe(true);
    const rnd = seeded(width * rows + radius);
    const lum = Float32Array.from({ length: width * rows }, () => rnd());
    const simd = score(createLaplacianMeasure({ windowRadius: radius }), lum, width, rows);
    const js = score(createLaplacianMeasure({ windowRadius: radius, simd: false }), lum, width, rows);
    const scale = maxOf(js);
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let p = 0; p < js.length; p++) worst = Math.max(worst, Math.abs(simd[p] - js[p]));
    expect(worst).toBeLessThan(1e-5 * scale);
  });
});
