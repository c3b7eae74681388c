// Depth cleaning: unconfident areas filled from their confident surroundings, lucky islands and spikes
// in them ignored, smoothing that keeps a height step where the image has an edge, and background
// flattening.
import { describe, expect, it } from 'vitest';
import { borderBackground, cleanDepth, dropIslands, dropSpikes } from '../../src/mesh/clean.js';
import { boxMean, guidedFilter } from '../../src/mesh/guided-filter.js';
import { fillHoles } from '../../src/mesh/inpaint.js';
import { reduceDepth } from '../../src/mesh/reduce.js';
import { mulberry32 } from '../../src/rig/simulated/prng.js';
import { syntheticInput } from './mesh-helpers.js';

const W = 96;
const H = 72;
const plane = (x: number, y: number) => 2 + 0.05 * x + 0.03 * y;
const inDisc = (x: number, y: number) => (x - 48) ** 2 + (y - 36) ** 2 < 15 ** 2;

describe('fillHoles', () => {
  it('fills a hole in a plane with the plane, leaving known cells untouched', () => {
    const values = new Float32Array(W * H);
    const known = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        known[i] = inDisc(x, y) ? 0 : 1;
        values[i] = known[i] ? plane(x, y) : 1000;
      }
    const before = values.slice();
    expect(fillHoles(values, known, new Float32Array(W * H).fill(0.8), W, H)).toBe(true);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      if (known[i]) expect(values[i]).toBe(before[i]);
      else worst = Math.max(worst, Math.abs(values[i] - plane(i % W, Math.floor(i / W))));
    }
    // A plane is harmonic: the relaxed fill continues it across the hole (the span here is 3.5 units).
    expect(worst).toBeLessThan(0.01);
  });

  it('reports that nothing can be filled when no cell is known', () => {
    const values = new Float32Array(16).fill(7);
    expect(fillHoles(values, new Uint8Array(16), new Float32Array(16), 4, 4)).toBe(false);
    expect([...values]).toEqual(new Array(16).fill(7));
  });
});

describe('guidedFilter', () => {
  it('averages noise the image does not explain, and keeps a step the image shares', () => {
    const rng = mulberry32(7);
    const p = new Float32Array(W * H);
    const guide = new Float32Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const right = x >= W / 2;
        guide[y * W + x] = right ? 0.8 : 0.2;
        p[y * W + x] = (right ? 10 : 0) + (rng() - 0.5);
      }
    guidedFilter(p, guide, W, H, { radius: 4, eps: 0.05 ** 2 });
    const residual = (x: number, y: number) => p[y * W + x] - (x >= W / 2 ? 10 : 0);
    let sq = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) sq += residual(x, y) ** 2;
    // Uniform noise in ±0.5 has an rms of 0.29; a 9×9 mean leaves about a ninth of it.
    expect(Math.sqrt(sq / (W * H))).toBeLessThan(0.08);
    // The step stays a step: the columns either side of it keep their levels.
    for (let y = 0; y < H; y++) {
      expect(Math.abs(residual(W / 2 - 1, y))).toBeLessThan(0.3);
      expect(Math.abs(residual(W / 2, y))).toBeLessThan(0.3);
    }
  });

  it('box means match a direct sum, edges included', () => {
    const src = Float32Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 11);
    const out = new Float32Array(src.length);
    boxMean(src, 7, 5, 2, out);
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 7; x++) {
        let [sum, n] = [0, 0];
        for (let yy = Math.max(0, y - 2); yy <= Math.min(4, y + 2); yy++)
          for (let xx = Math.max(0, x - 2); xx <= Math.min(6, x + 2); xx++, n++) sum += src[yy * 7 + xx];
        expect(out[y * 7 + x]).toBeCloseTo(sum / n, 4);
      }
  });
});

describe('masking', () => {
  it('drops a one-cell spike but keeps both sides of a step', () => {
    const input = syntheticInput(32, 32, (x, y) => (x === 10 && y === 10 ? 40 : x >= 20 ? 8 : 2));
    const map = reduceDepth(input, { minConfidence: 96, umPerFrame: 1, maxSide: 64 });
    expect(dropSpikes(map, 2)).toBe(1);
    expect(map.valid[10 * 32 + 10]).toBe(0);
    expect(map.valid[10 * 32 + 20]).toBe(1);
    expect(map.valid[10 * 32 + 19]).toBe(1);
  });

  it('drops small confident islands and finds the unconfident area touching the border', () => {
    const valid = new Uint8Array(20 * 20);
    for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) valid[y * 20 + x] = 1; // 100 cells
    valid[2 * 20 + 2] = 1; // a lucky 1-cell island in the background
    expect(dropIslands(valid, 20, 20, 9)).toBe(1);
    expect(valid[2 * 20 + 2]).toBe(0);
    expect(valid[10 * 20 + 10]).toBe(1);
    const background = borderBackground(valid, 20, 20);
    expect(background.reduce((a, b) => a + b, 0)).toBe(400 - 100);
  });
});

describe('cleanDepth', () => {
  it('replaces an unconfident disc of noise by the surrounding surface', () => {
    const rng = mulberry32(3);
    const input = syntheticInput(
      W,
      H,
      (x, y) => (inDisc(x, y) ? rng() * 20 : plane(x, y)),
      (x, y) => (inDisc(x, y) ? (rng() < 0.1 ? 200 : 20) : 200),
    );
    const clean = cleanDepth(input, 5, { smoothRadius: 0 });
    expect(clean.factor).toBe(1);
    expect(clean.filledCells).toBeGreaterThan(Math.PI * 15 ** 2 * 0.9);
    let worst = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        worst = Math.max(worst, Math.abs(clean.heightUm[y * W + x] - 5 * plane(x, y)));
    // Heights in µm (5 µm per frame): the lucky confident pixels in the disc left no mark.
    expect(worst).toBeLessThan(0.05);
  });

  it('flattens the background to the specimen’s lowest point when asked', () => {
    const specimen = (x: number, y: number) => (x - 48) ** 2 + (y - 36) ** 2 < 25 ** 2;
    const input = syntheticInput(
      W,
      H,
      (x, y) => (specimen(x, y) ? 4 + 0.05 * x : 0.3 * ((x * 7 + y * 13) % 10)),
      (x, y) => (specimen(x, y) ? 220 : 10),
    );
    const clean = cleanDepth(input, 2, { removeBackground: true, smoothRadius: 0 });
    const corner = clean.heightUm[0];
    expect(clean.background[0]).toBe(1);
    expect(clean.background[36 * W + 48]).toBe(0);
    let lowest = Infinity;
    for (let i = 0; i < clean.heightUm.length; i++) {
      if (clean.background[i]) expect(clean.heightUm[i]).toBe(corner);
      else lowest = Math.min(lowest, clean.heightUm[i]);
    }
    expect(corner).toBe(lowest);
    expect(corner).toBeGreaterThan(2 * 4);
  });

  it('reduces a large map by a whole factor, heights in µm', () => {
    const input = syntheticInput(300, 200, () => 3);
    const clean = cleanDepth(input, 2.5, { maxSide: 100 });
    expect([clean.factor, clean.width, clean.height]).toEqual([3, 100, 67]);
    for (const v of clean.heightUm) expect(v).toBeCloseTo(7.5, 4);
  });
});
