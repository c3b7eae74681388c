// The estimator's SIMD loops (simd/estimator.ts) against their JavaScript twins: the normal matrix and
// mask exactly, the gradient and smoothing to f32 rounding, the flat band exactly; and whole estimates.
import { beforeEach, describe, expect, it } from 'vitest';
import { applySimilarity, createSimilarityEstimator } from '../../../src/stack/align/log-polar.js';
import { simdAvailable } from '../../../src/stack/align/simd-module.js';
import {
  arenaBytes,
  createRefineLoops,
  NP,
  type RefineImages,
} from '../../../src/stack/align/simd-refine.js';
import { gaussianKernel } from '../../../src/stack/align/spectrum.js';
import { seeded } from '../../helpers/frames.js';
import { blur, noisy } from '../../helpers/specimen.js';

const S = 64;
const N = S * S;
const bytes = arenaBytes([{ f32: 8 * N, u8: 4 * N }]);

/** A textured image with a flat (exactly constant) border strip, as a padded canvas has. */
function picture(seed: number): Float32Array {
  const rnd = seeded(seed);
  const img = new Float32Array(N);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      img[y * S + x] = y < 9 ? 0.3 : 0.4 + 0.2 * Math.sin(x / 3 + seed) * Math.cos(y / 5) + 0.05 * rnd();
  return img;
}

/** The same level contents in the loops' own memory. */
function level(loops: ReturnType<typeof createRefineLoops>, step: number): RefineImages {
  const L: RefineImages = {
    size: S,
    step,
    refS: loops.f32(N),
    movS: loops.f32(N),
    gx: loops.f32(N),
    gy: loops.f32(N),
    lap: loops.f32(N),
    mask: loops.u8(N),
    refBand: loops.u8(N),
    movBand: loops.u8(N),
  };
  L.refS.set(picture(1));
  L.movS.set(picture(2));
  for (let i = S + 1; i < N - S - 1; i++) {
    L.gx[i] = 0.5 * (L.refS[i + 1] - L.refS[i - 1]);
    L.gy[i] = 0.5 * (L.refS[i + S] - L.refS[i - S]);
    L.lap[i] = L.refS[i + 1] + L.refS[i - 1] + L.refS[i + S] + L.refS[i - S] - 4 * L.refS[i];
  }
  const tmp = loops.u8(N);
  loops.flatBand(L.refS, S, 3, L.refBand, tmp);
  loops.flatBand(L.movS, S, 3, L.movBand, tmp);
  return L;
}

describe.skipIf(!simdAvailable())('the estimator’s SIMD loops', () => {
  // Fresh loops per test: their memory is reserved once and allocated from, never freed.
  let js = createRefineLoops(bytes, { simd: false });
  let simd = createRefineLoops(bytes);
  beforeEach(() => {
    js = createRefineLoops(bytes, { simd: false });
    simd = createRefineLoops(bytes);
  });
  const start = { a: 1.004, b: 0.006, tx: 0.7, ty: -0.4, lo: 6, hi: S - 8 };

  it('live in the module’s memory (the twins in plain arrays)', () => {
    expect(simd.f32(4).buffer).toBe(simd.u8(4).buffer);
    expect(js.f32(4).buffer).not.toBe(js.u8(4).buffer);
  });

  it('mark the same flat band (a strip of constant rows, dilated by r)', () => {
    const a = level(js, 1);
    const b = level(simd, 1);
    expect(Array.from(b.refBand)).toEqual(Array.from(a.refBand));
    // Rows 1–7 are flat (row 8 touches the texture), so rows up to 7 + 3 are marked, row 11 not.
    expect(a.refBand[10 * S + 20]).toBe(1);
    expect(a.refBand[11 * S + 20]).toBe(0);
  });

  it.each([1, 2])('build the same mask and normal matrix (step %i)', (step) => {
    const a = level(js, step);
    const b = level(simd, step);
    const Ha = new Float64Array(NP * NP);
    const Hb = new Float64Array(NP * NP);
    js.hessian(a, start, Ha);
    simd.hessian(b, start, Hb);
    expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
    expect(a.mask.reduce((s, m) => s + m, 0)).toBeGreaterThan(N / (4 * step * step));
    for (let p = 0; p < NP; p++) for (let q = 0; q <= p; q++) expect(Hb[p * NP + q]).toBe(Ha[p * NP + q]);
  });

  it('sum the same gradient, to f32 rounding of the bicubic samples', () => {
    const a = level(js, 1);
    const b = level(simd, 1);
    js.hessian(a, start, new Float64Array(NP * NP));
    simd.hessian(b, start, new Float64Array(NP * NP));
    const ga = new Float64Array(NP);
    const gb = new Float64Array(NP);
    js.gradient(a, start.a, start.b, start.tx, start.ty, ga);
    simd.gradient(b, start.a, start.b, start.tx, start.ty, gb);
    for (let p = 0; p < NP; p++) {
      expect(ga[p]).not.toBe(0);
      expect(Math.abs(gb[p] - ga[p])).toBeLessThan(1e-5 * Math.abs(ga[p]) + 1e-7);
    }
  });

  it('smooth alike (Gaussian σ 2, edges clamped)', () => {
    const kernel = gaussianKernel(2);
    const out = (loops: ReturnType<typeof createRefineLoops>) => {
      const src = loops.f32(N);
      src.set(picture(3));
      const dst = loops.f32(N);
      loops.convolve(src, S, kernel, loops.f32(N), dst);
      return dst;
    };
    const a = out(js);
    const b = out(simd);
    for (let i = 0; i < N; i++) expect(Math.abs(b[i] - a[i])).toBeLessThan(1e-6);
  });

  it('give the same estimates as the JavaScript path through the whole estimator', () => {
    const size = 512;
    const texture = blur(noisy(new Float32Array(size * size).fill(0.5), 0.2, 7), size, 2);
    const truth = { scale: 1.004, rotationDeg: 0.15, dx: 1.37, dy: -0.6 };
    const moved = new Float32Array(size * size);
    applySimilarity(texture, size, truth, moved);
    const ref = noisy(texture, 0.01, 1);
    const mov = noisy(blur(moved, size, 1.5), 0.01, 2);
    const a = createSimilarityEstimator(size, { simd: false }).estimate(ref, mov);
    const b = createSimilarityEstimator(size).estimate(ref, mov);
    expect(b.refined).toBe(a.refined);
    expect(Math.abs(b.dx - a.dx)).toBeLessThan(1e-4);
    expect(Math.abs(b.dy - a.dy)).toBeLessThan(1e-4);
    expect(Math.abs(b.scale / a.scale - 1)).toBeLessThan(1e-6);
    expect(Math.abs(b.rotationDeg - a.rotationDeg)).toBeLessThan(1e-4);
    expect(a.refined).toBe(true);
    expect(a.confidence).toBeGreaterThan(0.5);
    expect(Math.abs(Math.abs(a.dx) - truth.dx)).toBeLessThan(0.1);
  });
});
