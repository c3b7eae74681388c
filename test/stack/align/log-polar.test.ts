// Similarity estimation against synthetic frames with known scale, rotation and shift (clean, blurred,
// noisy), the resampler's convention, reference caching, the pyramid path (512) and unrelated frames.
import { describe, expect, it } from 'vitest';
import {
  applySimilarity,
  createSimilarityEstimator,
  type Similarity,
} from '../../../src/stack/align/log-polar.js';
import { seeded } from '../../helpers/frames.js';
import { blur, makeSpecimen, noisy, type Specimen } from '../../helpers/specimen.js';

const IDENTITY: Similarity = { scale: 1, rotationDeg: 0, dx: 0, dy: 0 };

/**
 * size×size view of the specimen mapped by t about the view centre c: the specimen point p appears at
 * scale·R(θ)·p + c + (dx, dy). So view(t) relates to view(IDENTITY) exactly as `estimate` reports.
 */
function view(sp: Specimen, size: number, t: Similarity = IDENTITY): Float32Array {
  const c = (size - 1) / 2;
  const th = (t.rotationDeg * Math.PI) / 180;
  const ca = t.scale * Math.cos(th);
  const sa = t.scale * Math.sin(th);
  const s2 = t.scale * t.scale;
  const back = (x: number, y: number): [number, number] => {
    const qx = x - c - t.dx;
    const qy = y - c - t.dy;
    return [(ca * qx + sa * qy) / s2, (-sa * qx + ca * qy) / s2];
  };
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const [px, py] = back(x, y);
      let v = 0.45;
      for (let w = 0; w < sp.waves.length; w += 4) {
        v +=
          sp.waves[w + 3] *
          Math.sin(2 * Math.PI * (sp.waves[w] * px + sp.waves[w + 1] * py) + sp.waves[w + 2]);
      }
      out[y * size + x] = v;
    }
  for (let b = 0; b < sp.blobs.length; b += 4) {
    const [bx, by, s, a] = sp.blobs.subarray(b, b + 4);
    const qx = ca * bx - sa * by + c + t.dx;
    const qy = sa * bx + ca * by + c + t.dy;
    const r = 3.5 * s * t.scale;
    for (let y = Math.max(0, Math.floor(qy - r)); y <= Math.min(size - 1, qy + r); y++)
      for (let x = Math.max(0, Math.floor(qx - r)); x <= Math.min(size - 1, qx + r); x++) {
        const [px, py] = back(x, y);
        out[y * size + x] += a * Math.exp(-((px - bx) ** 2 + (py - by) ** 2) / (2 * s * s));
      }
  }
  return out;
}

function randomTransform(rnd: () => number): Similarity {
  return {
    scale: 1 + (rnd() - 0.5) * 0.06,
    rotationDeg: (rnd() - 0.5) * 2,
    dx: (rnd() - 0.5) * 40,
    dy: (rnd() - 0.5) * 40,
  };
}

/** The brief's tolerances: scale within 5e-4 (relative), rotation 0.02°, translation 0.1 px. */
function expectClose(got: Similarity, truth: Similarity, label: string): void {
  expect(
    Math.abs(got.scale / truth.scale - 1),
    `${label}: scale ${got.scale} vs ${truth.scale}`,
  ).toBeLessThan(5e-4);
  expect(Math.abs(got.rotationDeg - truth.rotationDeg), `${label}: rotation`).toBeLessThan(0.02);
  expect(Math.abs(got.dx - truth.dx), `${label}: dx ${got.dx} vs ${truth.dx}`).toBeLessThan(0.1);
  expect(Math.abs(got.dy - truth.dy), `${label}: dy ${got.dy} vs ${truth.dy}`).toBeLessThan(0.1);
}

const SIZE = 256;
const specimen = makeSpecimen(11, 1.75 * SIZE);
const reference = view(specimen, SIZE);
const estimator = createSimilarityEstimator(SIZE);

describe('applySimilarity', () => {
  it('samples src at T(x): a pure shift reads src at (x + dx, y + dy), identity copies', () => {
    const rnd = seeded(1);
    const src = Float32Array.from({ length: 32 * 32 }, rnd);
    const out = new Float32Array(src.length);
    applySimilarity(src, 32, IDENTITY, out);
    for (let i = 0; i < src.length; i++) expect(out[i]).toBeCloseTo(src[i], 6);
    applySimilarity(src, 32, { scale: 1, rotationDeg: 0, dx: 3, dy: -2 }, out);
    for (let y = 2; y < 30; y++)
      for (let x = 0; x < 29; x++) expect(out[y * 32 + x]).toBeCloseTo(src[(y - 2) * 32 + x + 3], 6);
    // Edges are clamped: far outside, every sample is the nearest corner.
    applySimilarity(src, 32, { scale: 1, rotationDeg: 0, dx: 100, dy: 100 }, out);
    expect(out[0]).toBeCloseTo(src[32 * 32 - 1], 6);
  });

  it('undoes the transform of a view: resampling view(T) at T(x) gives back the reference', () => {
    const t = { scale: 1.025, rotationDeg: 0.8, dx: -6.3, dy: 11.7 };
    const back = new Float32Array(SIZE * SIZE);
    applySimilarity(view(specimen, SIZE, t), SIZE, t, back);
    let err = 0;
    let count = 0;
    for (let y = 40; y < SIZE - 40; y++)
      for (let x = 40; x < SIZE - 40; x++) {
        err += (back[y * SIZE + x] - reference[y * SIZE + x]) ** 2;
        count++;
      }
    // Bicubic on blobs of σ ≥ 1 px: a few thousandths of the ~0.1 texture contrast.
    expect(Math.sqrt(err / count)).toBeLessThan(0.01);
  });
});

describe('createSimilarityEstimator', () => {
  it('recovers random similarity transforms of clean frames', () => {
    const rnd = seeded(5);
    for (let k = 0; k < 6; k++) {
      const truth = randomTransform(rnd);
      const got = estimator.estimate(reference, view(specimen, SIZE, truth));
      expectClose(got, truth, `case ${k}`);
      expect(got.confidence).toBeGreaterThan(0.5);
    }
  });

  it('recovers them with one frame blurred (σ 1.5 px) and noise on both', () => {
    const rnd = seeded(9);
    for (let k = 0; k < 6; k++) {
      const truth = randomTransform(rnd);
      // Alternate which frame is the defocused one.
      let ref = view(specimen, SIZE);
      let mov = view(specimen, SIZE, truth);
      if (k % 2 === 0) mov = blur(mov, SIZE, 1.5);
      else ref = blur(ref, SIZE, 1.5);
      const got = estimator.estimate(noisy(ref, 0.01, 10 + k), noisy(mov, 0.01, 20 + k));
      expectClose(got, truth, `case ${k}`);
      expect(got.confidence).toBeGreaterThan(0.5);
    }
  });

  it('reports the identity and pure shifts without inventing scale or rotation', () => {
    for (const truth of [IDENTITY, { scale: 1, rotationDeg: 0, dx: -13.4, dy: 7.6 }]) {
      const got = estimator.estimate(reference, view(specimen, SIZE, truth));
      expectClose(got, truth, `shift (${truth.dx}, ${truth.dy})`);
    }
  });

  it('gives the same answer whether or not the reference was cached', () => {
    const truth = { scale: 0.982, rotationDeg: -0.4, dx: 4.2, dy: -9.9 };
    const mov = view(specimen, SIZE, truth);
    const first = estimator.estimate(reference, mov);
    const other = makeSpecimen(12, 1.75 * SIZE);
    estimator.estimate(view(other, SIZE), view(other, SIZE, truth));
    const again = estimator.estimate(Float32Array.from(reference), mov);
    const repeat = estimator.estimate(reference, mov);
    expect(again).toEqual(first);
    expect(repeat).toEqual(first);
  });

  it('gives a low confidence for unrelated frames', () => {
    for (let k = 0; k < 5; k++) {
      const other = view(makeSpecimen(100 + k, 1.75 * SIZE), SIZE);
      const got = estimator.estimate(noisy(reference, 0.01, k), noisy(other, 0.01, 50 + k));
      expect(got.confidence, `specimen ${100 + k}`).toBeLessThan(0.2);
    }
  });

  it('works through its pyramid at 512', () => {
    const size = 512;
    const big = makeSpecimen(21, 1.75 * size);
    const truth = { scale: 1.027, rotationDeg: 0.9, dx: -18.5, dy: 14.25 };
    const est = createSimilarityEstimator(size);
    const got = est.estimate(
      noisy(view(big, size), 0.01, 1),
      noisy(blur(view(big, size, truth), size, 1.5), 0.01, 2),
    );
    expectClose(got, truth, '512');
    expect(got.confidence).toBeGreaterThan(0.5);
  });

  it('from a seed (a neighbour’s scale and rotation) skips the log-polar stage and still converges', () => {
    const truth = { scale: 1.012, rotationDeg: 0.35, dx: -7.5, dy: 5.25 };
    const mov = noisy(blur(view(specimen, SIZE, truth), SIZE, 1.5), 0.01, 3);
    const ref = noisy(reference, 0.01, 4);
    const unseeded = estimator.estimate(ref, mov);
    // Seeds as near as a neighbouring frame's (0.1 %, 0.05°) and as far as the refinement reaches (1 %, 0.5°).
    for (const seed of [
      { scale: 1.011, rotationDeg: 0.3 },
      { scale: 1.002, rotationDeg: -0.15 },
    ]) {
      const got = estimator.estimate(ref, mov, seed);
      expectClose(got, truth, `seed ${seed.scale}, ${seed.rotationDeg}°`);
      expect(got.refined).toBe(true);
      expect(got.confidence).toBeGreaterThan(0.5);
      expect(Math.abs(got.scale - unseeded.scale)).toBeLessThan(1e-4);
    }
  });

  it('rejects bad sizes and short images', () => {
    expect(() => createSimilarityEstimator(200)).toThrow(RangeError);
    expect(() => estimator.estimate(reference, new Float32Array(10))).toThrow(RangeError);
  });
});
